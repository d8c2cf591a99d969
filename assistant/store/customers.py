"""``CustomerStore``: shoppers, their consent and preferences, and the customer-with-orders import."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.errors import NotFoundError, ValidationError
from assistant.records import (
    ConsentKind,
    ConsentState,
    CustomerProfile,
    ImportOutcome,
    Preference,
    PreferenceOrigin,
)
from assistant.store import models as m
from assistant.store.clock import Clock, SystemClock
from assistant.store.convert import consent_from_rows, preference_from_row, profile_from_rows
from assistant.store.customer_import import apply_customer_record
from assistant.store.customer_records import parse_customer_record
from assistant.store.db import read, write


def _customer_not_found(customer_id: str) -> NotFoundError:
    return NotFoundError(
        f"customer {customer_id!r} is not in the store",
        user_message=f"No customer {customer_id!r}: import the shop's customers first, or check the id.",
    )


class CustomerStore:
    """Shoppers and everything about them; each method is one transaction.

    ``upsert_from_record`` writes a whole record or nothing. Methods that change one shopper's data
    take that shopper's id and never touch another shopper's rows.
    """

    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()

    # -- import -----------------------------------------------------------------------------------

    def upsert_from_record(self, record: Mapping[str, Any], origin: str) -> ImportOutcome:
        """Import one customer-with-orders record (knowledge/schemas/customer.schema.json).

        ``origin`` labels the import set (e.g. the file name). Returns ``"unchanged"`` when the record
        hashes the same as the one imported before under the same origin. Raises ``ValidationError``
        for values that cannot be converted and ``StoreError`` when the database rejects the record;
        either way nothing of the record is written.
        """
        if not origin:
            raise ValidationError("empty import origin", user_message="Give the import set a name (origin).")
        parsed = parse_customer_record(record)
        with write(self._sessions, f"importing customer {parsed.id}") as session:
            return apply_customer_record(session, parsed, origin, self._clock.now())

    def ids_for_origin(self, origin: str) -> set[str]:
        with read(self._sessions, "listing customers by origin") as session:
            return set(session.scalars(select(m.CustomerRow.id).where(m.CustomerRow.origin == origin)))

    def list_ids(self) -> list[str]:
        with read(self._sessions, "listing customers") as session:
            return list(session.scalars(select(m.CustomerRow.id).order_by(m.CustomerRow.id)))

    def exists(self, customer_id: str) -> bool:
        with read(self._sessions, "looking up a customer") as session:
            return session.get(m.CustomerRow, customer_id) is not None

    def delete(self, customer_id: str) -> bool:
        """Erase a shopper and everything of theirs (consent, preferences, orders, sessions, turns, events).

        Returns False if there was no such customer.
        """
        with write(self._sessions, f"deleting customer {customer_id}") as session:
            result = session.execute(delete(m.CustomerRow).where(m.CustomerRow.id == customer_id))
            return bool(getattr(result, "rowcount", 0))

    # -- reading ----------------------------------------------------------------------------------

    def get(self, customer_id: str) -> CustomerProfile | None:
        with read(self._sessions, f"reading customer {customer_id}") as session:
            customer = session.get(m.CustomerRow, customer_id)
            if customer is None:
                return None
            consents = session.scalars(select(m.ConsentRow).where(m.ConsentRow.customer_id == customer_id)).all()
            preferences = session.scalars(
                select(m.PreferenceRow).where(m.PreferenceRow.customer_id == customer_id)
            ).all()
            orders = session.scalars(select(m.OrderRow).where(m.OrderRow.customer_id == customer_id)).all()
            counts = session.execute(
                select(m.OrderItemRow.order_id, func.coalesce(func.sum(m.OrderItemRow.quantity), 0))
                .join(m.OrderRow, m.OrderRow.id == m.OrderItemRow.order_id)
                .where(m.OrderRow.customer_id == customer_id)
                .group_by(m.OrderItemRow.order_id)
            ).all()
            return profile_from_rows(
                customer, consents, preferences, orders, {order_id: int(n) for order_id, n in counts}
            )

    def consent(self, customer_id: str) -> ConsentState:
        with read(self._sessions, f"reading consent of {customer_id}") as session:
            self._require(session, customer_id)
            rows = session.scalars(select(m.ConsentRow).where(m.ConsentRow.customer_id == customer_id)).all()
            return consent_from_rows(rows)

    def list_preferences(self, customer_id: str, *, include_removed: bool = False) -> list[Preference]:
        """A shopper's preferences in insertion order; removed ones (tombstones) only when asked."""
        with read(self._sessions, f"reading preferences of {customer_id}") as session:
            query = select(m.PreferenceRow).where(m.PreferenceRow.customer_id == customer_id)
            if not include_removed:
                query = query.where(m.PreferenceRow.removed_at.is_(None))
            return [preference_from_row(r) for r in session.scalars(query.order_by(m.PreferenceRow.id))]

    # -- changes ----------------------------------------------------------------------------------

    def set_consent(self, customer_id: str, kind: ConsentKind, granted: bool, source: str) -> ConsentState:
        """Record a consent change (``source``: "chat", "api", "ui", ...); a no-op if nothing changes."""
        if kind not in get_args(ConsentKind):
            kinds = ", ".join(get_args(ConsentKind))
            raise ValidationError(f"unknown consent kind {kind!r}",
                                  user_message=f"Consent kind must be one of {kinds}.")
        with write(self._sessions, f"setting consent of {customer_id}") as session:
            self._require(session, customer_id)
            rows = list(session.scalars(select(m.ConsentRow).where(m.ConsentRow.customer_id == customer_id)))
            if getattr(consent_from_rows(rows), kind) != granted:
                row = m.ConsentRow(customer_id=customer_id, kind=kind, granted=granted, source=source,
                                at=self._clock.now())
                session.add(row)
                rows.append(row)
                session.flush()
            return consent_from_rows(rows)

    def add_preference(
        self,
        customer_id: str,
        kind: str,
        value: str,
        *,
        origin: PreferenceOrigin,
        source: str,
        confidence: float = 1.0,
    ) -> Preference | None:
        """Add (or reinforce) a preference; returns it, or None when it may not be added.

        - inferred: if the shopper removed this kind/value before (a tombstone of any origin), nothing
          happens and None is returned: removed preferences are never re-inferred. If the shopper stated
          it explicitly (and has not removed that), the explicit one is returned unchanged. If it was
          inferred before, its
          ``evidence_count`` grows and its confidence becomes the higher of the two.
        - explicit (the shopper says so): always allowed; a removed explicit preference comes back.
        Values match ignoring case and surrounding spaces.
        """
        value = value.strip()
        if not kind or not value:
            raise ValidationError("a preference needs a kind and a value",
                                  user_message="Give both the kind and the value of the preference.")
        if origin not in get_args(PreferenceOrigin):
            raise ValidationError(f"unknown preference origin {origin!r}",
                                  user_message="Preference origin must be 'explicit' or 'inferred'.")
        if not 0.0 <= confidence <= 1.0:
            raise ValidationError(f"confidence {confidence} outside 0..1",
                                  user_message="Confidence must be between 0 and 1.")
        now = self._clock.now()
        with write(self._sessions, f"adding a preference for {customer_id}") as session:
            self._require(session, customer_id)
            same = [
                r
                for r in session.scalars(
                    select(m.PreferenceRow).where(
                        m.PreferenceRow.customer_id == customer_id, m.PreferenceRow.kind == kind
                    )
                )
                if r.value.casefold() == value.casefold()
            ]
            explicit = next((r for r in same if r.origin == "explicit"), None)
            inferred = next((r for r in same if r.origin == "inferred"), None)
            if origin == "inferred":
                if explicit is not None and explicit.removed_at is None:
                    return preference_from_row(explicit)
                if any(r.removed_at is not None for r in same):
                    return None
                if inferred is not None:
                    inferred.evidence_count += 1
                    inferred.confidence = max(inferred.confidence, confidence)
                    inferred.updated_at = now
                    session.flush()
                    return preference_from_row(inferred)
            elif explicit is not None:
                explicit.removed_at = None
                explicit.source = source
                explicit.confidence = 1.0
                explicit.updated_at = now
                session.flush()
                return preference_from_row(explicit)
            row = m.PreferenceRow(
                customer_id=customer_id, kind=kind, value=value, origin=origin, source=source,
                confidence=1.0 if origin == "explicit" else confidence, evidence_count=1,
                created_at=now, updated_at=now,
            )
            session.add(row)
            session.flush()
            return preference_from_row(row)

    def set_confidence(self, customer_id: str, preference_id: int, confidence: float) -> Preference | None:
        """Set an active inferred preference's confidence (as of now: ``updated_at`` moves to now).

        Returns None, changing nothing, for an explicit or removed preference (only the shopper changes
        those); raises NotFoundError if the preference is not this shopper's.
        """
        if not 0.0 <= confidence <= 1.0:
            raise ValidationError(f"confidence {confidence} outside 0..1",
                                  user_message="Confidence must be between 0 and 1.")
        with write(self._sessions, f"changing a preference of {customer_id}") as session:
            row = session.scalars(
                select(m.PreferenceRow).where(
                    m.PreferenceRow.id == preference_id, m.PreferenceRow.customer_id == customer_id
                )
            ).one_or_none()
            if row is None:
                raise NotFoundError(f"preference {preference_id} of customer {customer_id!r} not found",
                                    user_message="That preference does not exist (or was erased).")
            if row.origin != "inferred" or row.removed_at is not None:
                return None
            row.confidence = confidence
            row.updated_at = self._clock.now()
            session.flush()
            return preference_from_row(row)

    def remove_preference(self, customer_id: str, preference_id: int) -> Preference:
        """Mark a shopper's preference removed (a tombstone); raises NotFoundError if it is not theirs."""
        with write(self._sessions, f"removing a preference of {customer_id}") as session:
            row = session.scalars(
                select(m.PreferenceRow).where(
                    m.PreferenceRow.id == preference_id, m.PreferenceRow.customer_id == customer_id
                )
            ).one_or_none()
            if row is None:
                raise NotFoundError(
                    f"preference {preference_id} of customer {customer_id!r} not found",
                    user_message="That preference does not exist (or was erased); reload the profile.",
                )
            if row.removed_at is None:
                row.removed_at = self._clock.now()
                row.updated_at = row.removed_at
                session.flush()
            return preference_from_row(row)

    @staticmethod
    def _require(session: Session, customer_id: str) -> None:
        if session.get(m.CustomerRow, customer_id) is None:
            raise _customer_not_found(customer_id)
