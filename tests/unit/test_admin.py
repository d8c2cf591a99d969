"""The admin back end on the demo shop (hash embeddings, in-memory Chroma, temp SQLite): uploads through the CLI's
importers, bad files that change nothing, re-ingest, collections, offers, settings with secrets masked."""

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assistant.components import Components, build_components
from assistant.config.loading import load_settings
from assistant.errors import ConflictError, NotFoundError, ValidationError
from assistant.personalization.offer_rules import OfferContext, eligible_offers
from assistant.staff.admin import Admin, UnsupportedFile, UploadTooLarge, detect_kind
from assistant.staff.masking import MASK, mask_secrets

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def product(pid: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"id": pid, "name": name, "category": "kites", "description": f"{name}, a kite for windy beaches.",
            "price": 49.0, "currency": "USD", "stock": 3, **extra}


def jsonl(*records: dict[str, Any]) -> bytes:
    return "\n".join(json.dumps(r) for r in records).encode()


KITES = jsonl(product("ADM-K1", "Zephyrwing Delta Kite"), product("ADM-K2", "Gustmaster Parafoil Kite"),
              product("ADM-K3", "Skylark Box Kite"))


@pytest.fixture
def admin(own_demo_components: Components) -> Admin:
    return Admin(own_demo_components, now=lambda: NOW)


def counts(admin: Admin) -> dict[str, int]:
    o = admin.collections()
    return {"products": o.products, "chunks": o.policy_chunks, "customers": o.customers, "offers": o.offers_total}


def test_an_uploaded_catalogue_is_searchable_and_reaches_the_assistants_catalogue(admin: Admin) -> None:
    summary = admin.upload([("kites.jsonl", KITES)], "catalog")

    assert summary.ok and summary.totals["added"] == 3, summary.to_dict()
    hits = admin.components.knowledge.search("Zephyrwing delta kite", "products", 5)
    # hash embeddings in an approximate (HNSW) index: the new product is among the nearest, not always first
    assert "ADM-K1" in [h.id for h in hits]
    assert "ADM-K2" in admin.components.catalog.get().products  # the catalogue index was read again
    assert (admin.upload_root / "catalog" / "kites.jsonl").read_bytes() == KITES


def test_uploading_the_same_file_again_changes_nothing(admin: Admin) -> None:
    data = jsonl(product("ADM-A1", "Mistral Kite"), product("ADM-A2", "Sirocco Kite"), product("ADM-A3", "Foehn Kite"))
    admin.upload([("again.jsonl", data)], "catalog")

    summary = admin.upload([("again.jsonl", data)], "catalog")

    assert summary.totals == {"added": 0, "updated": 0, "unchanged": 3, "removed": 0, "failed": 0}


def test_a_new_version_of_a_file_updates_changed_records_and_removes_dropped_ones(admin: Admin) -> None:
    admin.upload([("v.jsonl", jsonl(product("ADM-V1", "Breeze Kite"), product("ADM-V2", "Squall Kite")))], "catalog")

    summary = admin.upload([("v.jsonl", jsonl(product("ADM-V1", "Breeze Kite", price=39.0)))], "catalog")

    assert (summary.totals["updated"], summary.totals["removed"]) == (1, 1)
    assert admin.components.knowledge.get("products", ["ADM-V2"]) == []


@pytest.mark.parametrize("name, data", [("setup.exe", b"MZ\x90\x00\x03"), ("shop.zip", b"PK\x03\x04rest"),
                                        ("README", b"no extension")])
def test_an_unsupported_file_is_refused_with_a_clear_message_and_nothing_changes(
        admin: Admin, name: str, data: bytes) -> None:
    before = counts(admin)

    with pytest.raises(UnsupportedFile) as refused:
        admin.upload([("kites-ok.jsonl", KITES), (name, data)], "auto")

    assert name in refused.value.user_message and ".jsonl" in refused.value.user_message
    assert counts(admin) == before
    assert not (admin.upload_root / "catalog" / "kites-ok.jsonl").exists()  # the whole upload was refused


def test_a_file_type_that_does_not_fit_the_kind_is_refused(admin: Admin) -> None:
    with pytest.raises(UnsupportedFile, match=r"customers are read from .*not \.csv"):
        admin.upload([("people.csv", b"id,name\nC9,Ann\n")], "customers")


def test_a_file_over_the_limit_is_refused(admin: Admin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin.settings.knowledge, "max_file_mb", 0.0001)  # 100 bytes

    with pytest.raises(UploadTooLarge, match="over the 0.0001 MB limit"):
        admin.upload([("big.jsonl", KITES)], "catalog")


def test_a_malformed_record_is_reported_with_its_line_and_the_rest_imports(admin: Admin) -> None:
    data = jsonl(product("ADM-M1", "Cirrus Kite")) + b"\n{not json\n" + jsonl(
        {"id": "ADM-M3", "name": "Nimbus Kite"}, product("ADM-M4", "Stratus Kite"))

    summary = admin.upload([("mixed.jsonl", data)], "catalog")

    assert summary.totals["added"] == 2 and summary.totals["failed"] == 2
    errors = [str(e) for e in summary.errors]
    assert errors[0].startswith("mixed.jsonl:2: invalid JSON")
    assert errors[1].startswith("mixed.jsonl:3: missing required field 'category'")


def test_an_unreadable_file_replaces_nothing_stored_or_saved(admin: Admin) -> None:
    good = jsonl(product("ADM-R1", "Cumulus Kite"), product("ADM-R2", "Halo Kite"))
    admin.upload([("replace-me.jsonl", good)], "catalog")
    before = counts(admin)

    not_utf8 = admin.upload([("replace-me.jsonl", b'{"id": "ADM-R1", "name": "\xff\xfe"}\n')], "catalog")
    wrong_kind = admin.upload([("replace-me.jsonl", jsonl({"id": "C900", "name": "Ann Example"}))], "catalog")

    for summary in (not_utf8, wrong_kind):
        assert summary.results[0].rejected and not summary.ok
        assert "rejected" in summary.results[0].summary()
    assert "not valid UTF-8" in str(not_utf8.errors[0]) and "replace-me.jsonl:1" in str(wrong_kind.errors[0])
    assert counts(admin) == before
    assert len(admin.components.knowledge.get("products", ["ADM-R1", "ADM-R2"])) == 2
    assert (admin.upload_root / "catalog" / "replace-me.jsonl").read_bytes() == good


def test_auto_tells_policies_customers_and_offers_apart(admin: Admin) -> None:
    policy = b"# Kite flying rules\n\n## Wind limits\n\nWe do not refund kites lost in winds above 40 km/h.\n"
    customer = jsonl({"id": "ADM-C1", "name": "Ann Kiteflyer", "tier": "bronze"})
    offer = json.dumps([{"id": "adm-kites", "code": "KITES10", "title": "10% off kites", "kind": "percent",
                         "value": 10, "eligibility": {}}]).encode()

    summary = admin.upload([("kite-rules.md", policy), ("people.jsonl", customer), ("deals.json", offer)], "auto")

    assert [(r.kind, r.added) for r in summary.results] == [("policies", 1), ("customers", 1), ("offers", 1)]
    hits = admin.components.knowledge.search("refund kites lost in strong winds", "policies", 1)
    assert hits[0].metadata["source"] == "kite-rules.md"
    assert admin.components.stores.customers.exists("ADM-C1")


def test_auto_refuses_a_file_it_cannot_place() -> None:
    with pytest.raises(ValidationError, match="choose the kind"):
        detect_kind("data.json", b'[{"colour": "red"}]')


def test_progress_runs_from_zero_to_one_with_descriptions(admin: Admin) -> None:
    seen: list[tuple[float, str]] = []

    summary = admin.upload([("p1.jsonl", jsonl(product("ADM-P1", "Aurora Kite"))),
                            ("p2.jsonl", jsonl(product("ADM-P2", "Borealis Kite")))], "catalog",
                           progress=lambda fraction, desc: seen.append((fraction, desc)))

    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert ("catalog p2.jsonl: 1/1" in [desc for _, desc in seen]) and seen[-1][1] == summary.summary()


def test_reingest_imports_the_demo_shop_and_the_uploads_again_without_changes(admin: Admin) -> None:
    admin.upload([("reingest.jsonl", jsonl(product("ADM-I1", "Comet Kite")))], "catalog")
    seen: list[float] = []

    summary = admin.reingest(progress=lambda fraction, _desc: seen.append(fraction))

    sources = [r.source for r in summary.results]
    assert {"demo/catalog", "demo/policies", "demo/customers", "demo/offers"} <= set(sources)
    assert "uploads/catalog/reingest.jsonl" in sources
    assert (summary.totals["added"], summary.totals["updated"], summary.totals["removed"]) == (0, 0, 0), \
        summary.to_dict()
    assert summary.totals["unchanged"] >= 133 + 9 + 36 and seen == sorted(seen) and seen[-1] == 1.0


def test_collections_count_products_chunks_customers_and_offers(admin: Admin) -> None:
    overview = admin.collections()

    names = {c.kind: c for c in overview.collections}
    assert names["products"].by_origin["demo/catalog"] == 133
    assert names["products"].name.endswith("products") and names["policies"].count == overview.policy_chunks
    assert overview.policy_documents >= 9 and overview.customers >= 36 and overview.offers_total >= 15


# ---- offers ----------------------------------------------------------------------------------------------------
def a_demo_offer(admin: Admin) -> dict[str, Any]:
    return next(v.offer for v in admin.offers() if v.status == "live" and v.offer["kind"] == "percent")


def test_an_offer_edit_is_stored_and_the_assistant_sees_it(admin: Admin) -> None:
    offer = a_demo_offer(admin)
    before = admin.components.assistant

    view = admin.update_offer(offer["id"], {"value": 12, "eligibility": {"min_basket": 10}})

    assert view.offer["value"] == 12 and view.offer["eligibility"]["min_basket"] == 10
    assert view.offer["eligibility"].get("tiers") == offer["eligibility"].get("tiers")  # merged, not replaced
    assert admin.components.stores.offers.get(offer["id"])["value"] == 12
    offers_now = {str(o["id"]): o for o in admin.components.assistant.deps.shop_tools.offers()}
    assert offers_now[offer["id"]]["value"] == 12  # the assistant reads the offers as they are now
    assert admin.components.assistant is before  # offers only: the turn service and its catalogue are kept


@pytest.mark.parametrize("changes, message", [
    ({"value": 150}, "between 0 and 100"),
    ({"kind": "bogus"}, "kind"),
    ({"colour": "red"}, "Additional properties"),
    ({"eligibility": {"expires_at": "next tuesday"}}, "not a date and time"),
    ({"eligibility": {"starts_at": "2027-01-02T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z"}},
     "starts_at is not before expires_at"),
    ({"code": "lower case"}, "code"),
    ({"id": "another"}, "cannot change"),
])
def test_a_bad_offer_edit_is_refused_with_the_reason_and_nothing_changes(
        admin: Admin, changes: dict[str, Any], message: str) -> None:
    offer = a_demo_offer(admin)
    stored = admin.components.stores.offers.get(offer["id"])

    with pytest.raises(ValidationError) as refused:
        admin.update_offer(offer["id"], changes)

    assert message in refused.value.user_message
    assert admin.components.stores.offers.get(offer["id"]) == stored


def test_an_offer_cannot_take_another_offers_code(admin: Admin) -> None:
    first, second = [v.offer for v in admin.offers()][:2]

    with pytest.raises(ConflictError, match=f"already used by offer {first['id']!r}"):
        admin.update_offer(second["id"], {"code": first["code"]})

    assert admin.offer(second["id"]).offer == second  # nothing changed


def test_editing_an_unknown_offer_is_not_found(admin: Admin) -> None:
    with pytest.raises(NotFoundError):
        admin.update_offer("no-such-offer", {"value": 5})


def test_a_created_offer_is_listed_and_its_code_known_to_the_verifier(admin: Admin) -> None:
    code = f"ADM-{uuid.uuid4().hex[:6].upper()}"
    new = {"id": code.lower(), "code": code, "title": "5 off", "kind": "fixed", "value": 5, "currency": "USD",
           "eligibility": {"min_basket": 50}}

    view = admin.create_offer(new)

    assert view.status == "live" and view.offer == new
    assert code in admin.components.assistant.deps.verifier.known_codes
    with pytest.raises(ConflictError):
        admin.create_offer(new)


def test_a_disabled_offer_expires_now_is_no_longer_eligible_and_stays_disabled_after_reingest(admin: Admin) -> None:
    offer = a_demo_offer(admin)

    view = admin.disable_offer(offer["id"])
    admin.reingest()

    assert view.status == "expired"
    stored = admin.components.stores.offers.get(offer["id"])
    assert stored["eligibility"]["expires_at"] == "2026-11-29T12:00:00Z"
    assert offer["id"] not in {o["id"] for o in eligible_offers([stored], OfferContext(
        tier="platinum", now=NOW, marketing=True))}


# ---- settings --------------------------------------------------------------------------------------------------
def test_the_settings_view_masks_every_secret(tmp_path: Path) -> None:
    secrets = ["tok-SECRET-1", "staff-SECRET-2", "sk-SECRET-3", "pw-SECRET-4", "pw-SECRET-5", "SECRET-6"]
    settings = load_settings(["test"], env={}, overrides={
        "app": {"data_dir": str(tmp_path)},
        "security": {"token_secret": secrets[0], "staff_api_key": secrets[1],
                     "rate_limit_storage": f"redis://:{secrets[4]}@cache:6379/0"},
        "llm": {"openai": {"api_key": secrets[2]}},
        "database": {"url": f"postgresql+psycopg://app:{secrets[3]}@db:5432/shop"},
        "knowledge": {"server_url": f"http://chroma:8000/?token={secrets[5]}"},
    })

    view = Admin(build_components(settings)).settings_view()

    dumped = json.dumps(view)
    assert not [s for s in secrets if s in dumped]
    assert view["security"]["token_secret"] == MASK and view["llm"]["openai"]["api_key"] == MASK
    assert view["database"]["url"] == f"postgresql+psycopg://app:{MASK}@db:5432/shop"
    assert view["derived"]["database_url"] == view["database"]["url"]
    assert view["app"]["port"] == 7860 and view["security"]["token_ttl_s"] == 3600  # the rest as it is


def test_masking_keeps_plain_values_and_masks_secret_names() -> None:
    masked = mask_secrets({"password": "hunter2", "max_new_tokens": 160, "url": "https://shop.example/x?a=1",
                           "list": [{"api_key": "abc"}], "empty_token": ""})

    assert masked == {"password": MASK, "max_new_tokens": 160, "url": "https://shop.example/x?a=1",
                      "list": [{"api_key": MASK}], "empty_token": ""}
