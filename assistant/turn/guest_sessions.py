"""Guest conversations: opened without a customer, joined to one when the guest signs in.

The guest token (``assistant.identity``) names the conversation; the web edge (``ui.shopper_access``) checks it
and calls these with the conversation it names. A guest's conversation is a session with no customer: turns,
events and hand-overs are recorded like anyone's, with no customer, and staff see them as a guest's (the turn's
trace says ``"guest": true``).

Joining: when the guest signs in during the conversation, the session and everything recorded in it becomes the
customer's (``SessionStore.join_customer``). What the guest said about their tastes (the session state's
``guest_learned``) is then *offered*: nothing reaches the customer's profile until they say yes
(:meth:`GuestSessions.decide`), and even then only if they allow personalization.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.errors import NotFoundError
from assistant.personalization.preference_learning import Extracted, PreferenceLearner
from assistant.turn.guest_turns import LEARNED_KEY, learned_items

if TYPE_CHECKING:
    from assistant.records import ChatSession
    from assistant.store.stores import Stores

NOT_YOURS = "That conversation does not exist or is not yours."


class GuestSessions:
    def __init__(self, stores: Stores, learner: PreferenceLearner) -> None:
        self.stores = stores
        self.learner = learner

    def open(self, channel: str = "web") -> str:
        """A new guest conversation (a session without a customer); its id."""
        return str(self.stores.sessions.open_session(None, channel))

    def is_open(self, session_id: str) -> bool:
        """The conversation exists and is still a guest's (not joined to a customer)."""
        return self.stores.sessions.get_session(None, session_id) is not None

    def join(self, customer_id: str, session_id: str) -> list[dict[str, Any]]:
        """The guest's conversation becomes ``customer_id``'s; returns what the guest said about their tastes, to be
        offered to the profile (:meth:`decide`). Joining a conversation already this customer's again changes
        nothing; another customer's, or an unknown one: ``NotFoundError``."""
        chat = self.stores.sessions.get_session(customer_id, session_id)
        if chat is None:
            try:
                chat = self.stores.sessions.join_customer(session_id, customer_id)
            except NotFoundError as e:
                raise NotFoundError(f"guest session {session_id!r} cannot join {customer_id!r}: {e.message}",
                                    user_message=NOT_YOURS) from e
        return self.offered(chat)

    def offered(self, chat: ChatSession | None) -> list[dict[str, Any]]:
        """What a joined guest conversation learned and the customer has not decided on yet (kind, value)."""
        return [{"kind": i["kind"], "value": i["value"]} for i in learned_items(chat.state if chat else None)]

    def pending(self, customer_id: str, session_id: str) -> list[dict[str, Any]]:
        chat = self.stores.sessions.get_session(customer_id, session_id)
        if chat is None:
            raise NotFoundError(f"unknown session {session_id!r}", user_message=NOT_YOURS)
        return self.offered(chat)

    def decide(self, customer_id: str, session_id: str, save: bool) -> list[dict[str, Any]]:
        """The customer's answer to the offer of what their guest conversation learned: ``save`` writes it to their
        profile as inferred preferences (only while they allow personalization; a preference they removed before
        stays removed); either way the offer is then gone. Returns what was saved."""
        chat = self.stores.sessions.get_session(customer_id, session_id)
        if chat is None:
            raise NotFoundError(f"unknown session {session_id!r}", user_message=NOT_YOURS)
        items = learned_items(chat.state)
        saved: list[dict[str, Any]] = []
        if save and items:
            extracted = [Extracted(i["kind"], i["value"], i["confidence"]) for i in items]
            result = self.learner.learn(customer_id, f"guest-session:{session_id}", extracted)
            saved = [{"kind": a["kind"], "value": a["value"]} for a in result.added]
        if LEARNED_KEY in chat.state:
            self.stores.sessions.set_state(customer_id, session_id,
                                           {k: v for k, v in chat.state.items() if k != LEARNED_KEY})
        return saved

    def check_turn(self, session_id: str, turn_id: str) -> None:
        """``NotFoundError`` unless ``turn_id`` is a turn of this guest conversation (thumbs from a guest)."""
        turn = self.stores.turns.get_turn(turn_id)
        if turn is None or turn.session_id != session_id or turn.customer_id is not None:
            raise NotFoundError(f"unknown turn {turn_id!r}", user_message="That answer does not exist.")
