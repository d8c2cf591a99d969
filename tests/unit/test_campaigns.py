"""Campaigns on the demo shop's fakes (scripted model, hash embeddings, temp SQLite): an audience from rules that
never holds an opted-out shopper, a seeded holdout that gets nothing, copy per variant with its generation
parameters through the review queue (nothing unreviewed leaves), channel files (hashed e-mails for ads), the
schedule window, the roles of the API, the CLI, and the uplift on the members' orders after the send."""

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import gradio as gr
import numpy as np
import pytest
from fastapi import FastAPI, Header, HTTPException
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from assistant.components import Components, build_assistant
from assistant.config.loading import load_settings
from assistant.errors import ConflictError, ValidationError
from assistant.llm import FakeChatModel
from assistant.personalization.audience_rules import OPTED_OUT, AudienceRules, assign_arms
from assistant.personalization.campaign_copy import VariantSpec, parse_variants
from assistant.personalization.campaign_exports import hashed_email
from assistant.personalization.campaign_service import Campaigns
from assistant.personalization.copywriter import CopyWriter
from assistant.records import ConsentState, CustomerProfile, OrderSummary, Preference
from assistant.staff.roles import StaffPrincipal
from assistant.store import FixedClock, open_stores
from tests.unit.conftest import DEMO_NOW
from ui.campaign_api import build_campaign_api
from ui.cli.cli_context import CliContext
from ui.cli.main import app
from ui.error_table import install_error_table

WINDOW = {"starts_at": DEMO_NOW - timedelta(days=1), "ends_at": DEMO_NOW + timedelta(days=7)}


class Now:
    """The service's clock, moved by tests (window checks, recency)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture(scope="module")
def llm() -> FakeChatModel:
    return FakeChatModel()


@pytest.fixture(scope="module")
def now() -> Now:
    return Now(DEMO_NOW)


@pytest.fixture(scope="module")
def campaigns(own_demo_components: Components, llm: FakeChatModel, now: Now) -> Campaigns:
    service = build_assistant(own_demo_components, llm=llm, now=lambda: DEMO_NOW, rng=np.random.default_rng(2))
    return Campaigns(own_demo_components.stores, own_demo_components.settings,
                     lambda: CopyWriter(service.deps, own_demo_components.stores.copy), "concierge-scripted", now=now)


@pytest.fixture(autouse=True)
def back_to_demo_now(now: Now) -> None:
    now.at = DEMO_NOW


def create(campaigns: Campaigns, campaign_id: str, rules: dict[str, Any] | None = None,
           variants: list[dict[str, Any]] | None = None, share: float = 0.3, **fields: Any) -> str:
    return campaigns.create(name=f"test {campaign_id}", rules=rules or {}, variants=variants or [{"id": "A"}],
                            holdout_share=share, seed=11, created_by="mara", campaign_id=campaign_id,
                            **{**WINDOW, **fields}).id


def profile(**fields: Any) -> CustomerProfile:
    at = datetime(2026, 11, 1, tzinfo=UTC)
    base: dict[str, Any] = {
        "id": "x1", "name": "Ada Lane", "tier": "gold", "points": 0, "email": "Ada@Example.com ",
        "consent": ConsentState(personalization=True, marketing=True),
        "preferences": (Preference(1, "x1", "category", "lanterns", "explicit", "import", 0.9, 1, at, at),
                        Preference(2, "x1", "brand", "Glowco", "inferred", "event:1", 0.4, 2, at, at)),
        "orders": (OrderSummary("o1", "delivered", at, "USD", 80.0, 1),
                   OrderSummary("o2", "cancelled", at, "USD", 500.0, 2))}
    return CustomerProfile(**{**base, **fields})


# audience rules ----------------------------------------------------------------------------------------------------
def test_a_shopper_without_marketing_consent_matches_no_rules_at_all() -> None:
    opted_out = profile(consent=ConsentState(personalization=True, marketing=False))

    assert AudienceRules().why_not(opted_out, DEMO_NOW) == OPTED_OUT
    assert AudienceRules(tiers=("gold",), categories=("lanterns",)).why_not(opted_out, DEMO_NOW) == OPTED_OUT
    assert AudienceRules().why_not(profile(), DEMO_NOW) is None


@pytest.mark.parametrize("rules, reason", [
    ({"tiers": ["silver"]}, "tier"),
    ({"categories": ["tents"]}, "category affinity"),
    ({"brands": ["glowco"], "min_affinity": 0.5}, "brand affinity"),
    ({"ordered_within_days": 10}, "recency"),
    ({"not_ordered_for_days": 60}, "recency"),
    ({"min_spend": 100}, "spend"),
    ({"languages": ["zh"]}, "language"),
    ({"personalization": False}, "personalization consent"),
])
def test_each_rule_keeps_out_the_shopper_it_does_not_fit(rules: dict[str, Any], reason: str) -> None:
    assert AudienceRules.from_dict(rules).why_not(profile(), DEMO_NOW) == reason


def test_rules_that_fit_let_the_shopper_in_and_cancelled_orders_are_not_spend() -> None:
    rules = AudienceRules.from_dict({"tiers": ["Gold"], "categories": ["Lanterns"], "brands": ["glowco"],
                                     "min_affinity": 0.4, "ordered_within_days": 30, "max_spend": 100,
                                     "languages": ["en"]})

    assert rules.why_not(profile(), DEMO_NOW) is None
    assert rules.why_not(profile(attributes={"language": "zh-CN"}), DEMO_NOW) == "language"


def test_affinity_rules_never_use_the_preferences_of_a_shopper_without_personalization_consent() -> None:
    private = profile(consent=ConsentState(personalization=False, marketing=True))

    assert AudienceRules(categories=("lanterns",)).why_not(private, DEMO_NOW) == "category affinity"


def test_an_unknown_rule_is_refused_by_name() -> None:
    with pytest.raises(ValidationError) as refused:
        AudienceRules.from_dict({"tier": ["gold"]})

    assert "tier" in refused.value.user_message and "tiers" in refused.value.user_message


def test_the_holdout_draw_is_seeded_and_takes_its_share() -> None:
    ids = [f"c{i:03}" for i in range(200)]

    arms = assign_arms(ids, ["A", "B"], 0.25, seed=3)

    assert arms == assign_arms(reversed(ids), ["A", "B"], 0.25, seed=3)
    assert arms != assign_arms(ids, ["A", "B"], 0.25, seed=4)
    counts = {a: sum(1 for _, x in arms if x == a) for a in ("holdout", "A", "B")}
    assert counts == {"holdout": 50, "A": 75, "B": 75} and sorted(c for c, _ in arms) == ids


# the demo shop: audience and holdout -------------------------------------------------------------------------------
def test_opted_out_shoppers_are_never_in_a_campaign(campaigns: Campaigns, own_demo_components: Components) -> None:
    customers = own_demo_components.stores.customers
    opted_out = {c for c in customers.list_ids() if not customers.consent(c).marketing}
    create(campaigns, "everyone")
    create(campaigns, "standard", {"tiers": ["standard"]})

    everyone, standard = campaigns.assign("everyone"), campaigns.assign("standard")

    members = {m.customer_id for c in ("everyone", "standard") for m in campaigns.members(c)}
    assert opted_out and not members & opted_out
    assert everyone.excluded == {OPTED_OUT: len(opted_out)} and everyone.members == 36 - len(opted_out)
    assert standard.excluded[OPTED_OUT] > 0 and standard.members > 0


def test_each_member_has_the_arm_drawn_once_and_a_second_draw_is_refused(campaigns: Campaigns) -> None:
    create(campaigns, "draw", variants=[{"id": "A"}, {"id": "B"}], share=0.25)
    draw = campaigns.assign("draw")

    with pytest.raises(ConflictError):
        campaigns.assign("draw")

    members = campaigns.members("draw")
    assert draw.arms == {"holdout": round(draw.members * 0.25), "A": draw.arms["A"], "B": draw.arms["B"]}
    assert [(m.customer_id, m.arm) for m in members] == sorted(
        assign_arms([m.customer_id for m in members], ["A", "B"], 0.25, 11))


# copy through the review queue -------------------------------------------------------------------------------------
def test_variants_write_copy_with_their_parameters_and_the_holdout_gets_none(
        campaigns: Campaigns, llm: FakeChatModel) -> None:
    create(campaigns, "copy", {"tiers": ["gold"]}, [
        {"id": "warm", "kind": "push", "candidates": 2, "temperature": 0.9, "top_k": 20, "top_p": 0.8,
         "max_new_tokens": 60},
        {"id": "seg", "kind": "email", "per": "segment", "temperature": 0.0}], share=0.2)
    campaigns.assign("copy")
    llm.call_kwargs.clear()

    run = campaigns.generate("copy")

    members = campaigns.members("copy")
    warm = [m for m in members if m.arm == "warm"]
    assert all(m.draft_id is None for m in members if m.holdout)
    assert all(m.draft_id for m in members if not m.holdout)
    assert len({m.draft_id for m in members if m.arm == "seg"}) == 1  # one piece for the tier
    assert run.queued == len(warm) + 1 and run.members_with_copy == len(members) - run_holdout(members)
    sampled = [k for k in llm.call_kwargs if k["temperature"] == 0.9]
    assert len(sampled) == 2 * len(warm)
    assert all((k["top_k"], k["top_p"], k["max_new_tokens"]) == (20, 0.8, 60) for k in sampled)
    assert campaigns.status("copy").copy == {"pending": len(members) - run_holdout(members)}


def run_holdout(members: list[Any]) -> int:
    return sum(1 for m in members if m.holdout)


def test_a_parameter_the_backend_lacks_is_refused_naming_it(campaigns: Campaigns) -> None:
    with pytest.raises(ValidationError) as beams:
        create(campaigns, "beams", variants=[{"id": "A", "beams": 4}])
    with pytest.raises(ValidationError) as top_k:
        parse_variants([{"id": "A", "top_k": 40}], "concierge-openai")

    assert "no beam search" in beams.value.user_message and "scripted" in beams.value.user_message
    assert "openai backend has no top-k" in top_k.value.user_message
    assert parse_variants([{"id": "A", "top_p": 0.5, "beams": 1}], "concierge-openai")[0].top_p == 0.5
    assert VariantSpec("A", top_k=40).given() == {"top_k"}


# channel files, review and window ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reviewed(campaigns: Campaigns, own_demo_components: Components) -> dict[str, str]:
    """Campaign 'send': each treated member's copy approved, edited, rejected or left pending, in turn."""
    create(campaigns, "send", {"tiers": ["gold", "platinum"]}, share=0.25)
    campaigns.assign("send")
    campaigns.generate("send")
    review = own_demo_components.copy_review
    fate: dict[str, str] = {}
    for i, m in enumerate(m for m in campaigns.members("send") if not m.holdout):
        assert m.draft_id is not None
        action = ("approve", "edit", "reject", "pending")[i % 4]
        if action == "approve":
            review.approve(m.draft_id, "rita")
        elif action == "edit":
            review.edit(m.draft_id, "rita", "Edited for you.")
        elif action == "reject":
            review.reject(m.draft_id, "rita")
        fate[m.customer_id] = action
    return fate


def test_only_approved_copy_reaches_the_email_file_and_never_the_holdout(
        campaigns: Campaigns, reviewed: dict[str, str]) -> None:
    result = campaigns.export("send", "email", "csv")

    rows = list(csv.DictReader(io.StringIO(result.content)))
    approved = {c for c, f in reviewed.items() if f in ("approve", "edit")}
    assert {r["customer_id"] for r in rows} == approved
    assert result.skipped["copy pending"] == sum(1 for f in reviewed.values() if f == "pending")
    assert result.skipped["copy rejected"] == sum(1 for f in reviewed.values() if f == "reject")
    assert result.skipped["holdout"] == run_holdout(campaigns.members("send"))
    assert all(r["email"] and r["text"] and r["variant"] == "A" for r in rows)
    assert "Edited for you." in {r["text"] for r in rows}
    rejected = {m.customer_id: m.draft_id for m in campaigns.members("send") if reviewed.get(m.customer_id) == "reject"}
    again = campaigns.generate("send")  # rejected copy is written again; nothing else is
    redrafted = {m.customer_id: m.draft_id for m in campaigns.members("send") if m.customer_id in rejected}
    assert again.queued == len(rejected) and all(redrafted[c] != rejected[c] for c in rejected)
    sent = {m.customer_id for m in campaigns.members("send") if m.sent_at is not None}
    assert sent == approved


def test_the_ads_file_holds_only_sha256_of_normalised_emails(campaigns: Campaigns, reviewed: dict[str, str],
                                                            own_demo_components: Components) -> None:
    result = campaigns.export("send", "ads", "json")

    data = json.loads(result.content)
    approved = sorted(c for c, f in reviewed.items() if f in ("approve", "edit"))
    emails = [str(own_demo_components.stores.customers.get(c).email) for c in approved]  # type: ignore[union-attr]
    assert sorted(r["email_sha256"] for r in data["rows"]) == sorted(
        hashlib.sha256(e.strip().lower().encode()).hexdigest() for e in emails)
    assert not any(e.split("@")[0] in result.content for e in emails)
    assert hashed_email("  Ada@Example.COM ") == hashlib.sha256(b"ada@example.com").hexdigest()


def test_a_shopper_who_opts_out_after_the_draw_is_not_exported(campaigns: Campaigns, reviewed: dict[str, str],
                                                               own_demo_components: Components) -> None:
    customer = next(c for c, f in sorted(reviewed.items()) if f == "approve")
    customers = own_demo_components.stores.customers
    customers.set_consent(customer, "marketing", False, "test")
    try:
        result = campaigns.export("send", "email", "json")
    finally:
        customers.set_consent(customer, "marketing", True, "test")

    assert customer not in {r["customer_id"] for r in json.loads(result.content)["rows"]}
    assert result.skipped["no marketing consent"] == 1


@pytest.mark.parametrize("shift, says", [(timedelta(days=-2), "opens at"), (timedelta(days=8), "closed at")])
def test_an_export_outside_the_window_is_refused_and_sends_nothing(
        campaigns: Campaigns, now: Now, shift: timedelta, says: str) -> None:
    name = f"window{shift.days}"
    create(campaigns, name, {"tiers": ["gold"]}, share=0.0)
    campaigns.assign(name)
    now.at = DEMO_NOW + shift

    with pytest.raises(ConflictError) as refused:
        campaigns.export(name, "email")

    assert says in refused.value.user_message and "nothing is exported" in refused.value.user_message
    assert all(m.sent_at is None for m in campaigns.members(name))


# REST: roles, create, export ---------------------------------------------------------------------------------------
def fake_require(role: str) -> Callable[..., StaffPrincipal]:
    def dependency(x_test_role: Annotated[str | None, Header()] = None) -> StaffPrincipal:
        if not x_test_role:
            raise HTTPException(401, "not signed in")
        principal = StaffPrincipal("mara", frozenset(x_test_role.split(",")))
        if not principal.has(role):
            raise HTTPException(403, f"needs the {role} role")
        return principal

    return dependency


@pytest.fixture(scope="module")
def client(own_demo_components: Components, campaigns: Campaigns) -> TestClient:
    app_ = install_error_table(FastAPI())
    app_.include_router(build_campaign_api(own_demo_components, fake_require, service=lambda _c: campaigns))
    return TestClient(app_)


@pytest.mark.parametrize("headers, status", [({}, 401), ({"X-Test-Role": "agent,reviewer"}, 403),
                                             ({"X-Test-Role": "marketer"}, 200), ({"X-Test-Role": "admin"}, 200)])
def test_campaign_routes_are_for_marketers_and_admins(client: TestClient, headers: dict[str, str],
                                                      status: int) -> None:
    assert client.get("/api/v1/campaigns", headers=headers).status_code == status


def test_the_api_creates_draws_and_refuses_an_export_out_of_window(client: TestClient, now: Now) -> None:
    who = {"X-Test-Role": "marketer"}
    body = {"id": "api", "name": "Autumn", "audience": {"tiers": ["silver"]}, "holdout_share": 0.5,
            "variants": [{"id": "A", "kind": "push", "top_p": 0.7}],
            "starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-12-08T00:00:00Z"}

    created = client.post("/api/v1/campaigns", json=body, headers=who)
    drawn = client.post("/api/v1/campaigns/api/assign", json={}, headers=who)
    again = client.post("/api/v1/campaigns/api/assign", json={}, headers=who)
    early = client.get("/api/v1/campaigns/api/export", params={"channel": "ads"}, headers=who)
    beams = client.post("/api/v1/campaigns", json={**body, "id": "b", "variants": [{"id": "A", "beams": 3}]},
                        headers=who)

    assert created.status_code == 201 and created.json()["created_by"] == "mara"
    assert drawn.status_code == 200 and OPTED_OUT in drawn.json()["excluded"]
    assert again.status_code == 409 and early.status_code == 409 and "opens at" in early.json()["detail"]
    assert beams.status_code == 422 and "beam search" in beams.json()["detail"]
    now.at = datetime(2026, 12, 2, tzinfo=UTC)
    empty = client.get("/api/v1/campaigns/api/export", params={"format": "csv"}, headers=who)
    assert empty.status_code == 200 and empty.text == ",".join(
        ("customer_id", "email", "first_name", "variant", "kind", "text", "offer_codes", "draft_id")) + "\n"
    assert "no copy" in empty.headers["X-Skipped"]
    assert client.get("/api/v1/campaigns/api", headers=who).json()["arms"]["holdout"] >= 1


# CLI ---------------------------------------------------------------------------------------------------------------
def test_the_cli_creates_and_draws_a_campaign(own_demo_components: Components) -> None:
    runner = CliRunner()
    obj = CliContext(components_built=own_demo_components)
    made = runner.invoke(app, ["campaign", "create", "Spring", "--id", "cli", "--starts", "2026-11-01T00:00:00Z",
                               "--ends", "2099-01-01T00:00:00Z", "--variant", "id=A,kind=banner,top_k=30",
                               "--tier", "platinum", "--holdout", "0.5"], obj=obj)
    drawn = runner.invoke(app, ["campaign", "assign", "cli"], obj=obj)
    exported = runner.invoke(app, ["campaign", "export", "cli", "--channel", "ads"], obj=obj)
    bad = runner.invoke(app, ["campaign", "create", "X", "--starts", "2026-11-01T00:00:00Z", "--ends",
                              "2027-01-01T00:00:00Z", "--variant", "id=A,beams=2"], obj=obj)

    assert made.exit_code == 0, made.output
    assert "campaign cli created" in made.output and "holdout 50%" in made.output
    assert drawn.exit_code == 0 and "member(s) (A 2, holdout 2)" in drawn.output
    assert exported.exit_code == 0 and exported.stdout.startswith("email_sha256\n")
    assert "0 member(s) exported for ads; left out: holdout 2, no copy 2" in exported.output
    assert bad.exit_code == 2 and "beam search" in bad.output


# measured uplift on the members' orders after the send ------------------------------------------------------------
@pytest.fixture
def small(tmp_path: Path, customer_record: Callable[..., dict[str, Any]]) -> Iterator[tuple[Campaigns, FixedClock]]:
    clock = FixedClock(datetime(2026, 12, 1, 9, tzinfo=UTC))
    stores = open_stores(f"sqlite:///{tmp_path / 'c.db'}", clock=clock)
    for i in range(40):
        order = {"id": f"n{i}", "status": "delivered", "placed_at": "2026-12-03T10:00:00Z", "total": 50.0,
                 "items": [{"product_id": "p", "name": "P", "quantity": 1, "unit_price": 50.0}]}
        stores.customers.upsert_from_record(customer_record(
            f"s{i:02}", consent={"personalization": True, "marketing": True},
            orders=[order] if i % 2 else []), "test")
    service = Campaigns(stores, load_settings(["test"], env={}), _no_writer, "concierge-scripted", now=clock.now)
    try:
        yield service, clock
    finally:
        stores.close()


def _no_writer() -> CopyWriter:
    raise AssertionError("no copy is written in this test")


def test_uplift_is_measured_on_orders_after_the_send(small: tuple[Campaigns, FixedClock],
                                                     own_demo_components: Components) -> None:
    service, clock = small
    service.create(name="u", rules={}, variants=[{"id": "A"}], holdout_share=0.5, seed=1, created_by="m",
                   campaign_id="u", starts_at=clock.now(), ends_at=clock.now() + timedelta(days=9))
    service.assign("u")
    with pytest.raises(ConflictError):
        service.uplift("u")  # nothing sent yet
    members = service.members("u")
    drafts = {m.customer_id: service.stores.copy.add(kind="email", text="Hi", facts={}, verdict={},
                                                     customer_id=m.customer_id).id for m in members if not m.holdout}
    for draft_id in drafts.values():
        service.stores.copy.review(draft_id, "approved", "rita")
    service.stores.campaigns.set_drafts("u", drafts)
    service.export("u", "email")
    clock.advance(days=5)

    report = service.uplift("u", resamples=200)

    buyers = {f"s{i:02}" for i in range(40) if i % 2}
    treated = [m for m in members if not m.holdout]
    assert report.since == datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert [a.arm for a in report.arms] == ["holdout", "A"]
    assert report.arms[1].converters == sum(1 for m in treated if m.customer_id in buyers)
    assert report.purchases_counted == 20
    api = install_error_table(FastAPI())
    api.include_router(build_campaign_api(own_demo_components, fake_require, service=lambda _c: service))
    answer = TestClient(api).get("/api/v1/campaigns/u/uplift", params={"resamples": 200},
                                 headers={"X-Test-Role": "marketer"})
    assert answer.status_code == 200 and answer.json()["pooled"]["treated"]["shoppers"] == len(treated)


def test_the_campaign_page_shows_the_uplift_table_and_plot_after_the_role_check(
        small: tuple[Campaigns, FixedClock], tmp_path: Path) -> None:
    from ui.staff_views.campaign_tab import CampaignTab

    service, clock = small
    checked: list[str] = []

    def need(_request: gr.Request | None, role: str) -> StaffPrincipal:
        checked.append(role)
        return StaffPrincipal("mia", frozenset({"marketer"}))

    page = CampaignTab(need, service, plots=tmp_path)
    text, rows, plot = page.show(None, gr.Request())
    assert "No campaign yet" in text and rows == [] and plot is None
    service.create(name="Spring", rules={}, variants=[{"id": "A"}], holdout_share=0.5, seed=1, created_by="m",
                   campaign_id="p", starts_at=clock.now(), ends_at=clock.now() + timedelta(days=9))
    service.assign("p")
    assert page.choices(gr.Request())["value"] == "p"
    service.create(name="Summer", rules={}, variants=[{"id": "A"}], holdout_share=0.5, seed=1, created_by="m",
                   campaign_id="q", starts_at=clock.now(), ends_at=clock.now() + timedelta(days=9))
    listed = page.on_open("q", gr.Request())  # as the tab opens: both listed, the one chosen stays chosen
    assert listed["value"] == "q" and {v for _, v in listed["choices"]} == {"p", "q"}

    def no_role(_request: gr.Request | None, role: str) -> StaffPrincipal:
        raise gr.Error(f"This needs the {role} role")

    assert CampaignTab(no_role, service).on_open(None, gr.Request()) == gr.skip()  # the page loads quietly
    text, rows, plot = page.show("p", gr.Request())
    assert "has not been sent yet" in text and rows == [] and plot is None  # why there is no table yet
    drafts = {m.customer_id: service.stores.copy.add(kind="email", text="Hi", facts={}, verdict={},
                                                     customer_id=m.customer_id).id
              for m in service.members("p") if not m.holdout}
    for draft_id in drafts.values():
        service.stores.copy.review(draft_id, "approved", "rita")
    service.stores.campaigns.set_drafts("p", drafts)
    service.export("p", "email")
    clock.advance(days=5)

    text, rows, plot = page.show("p", gr.Request())

    assert "Spring" in text and "Sent: 20" in text
    assert [r[0] for r in rows] == ["holdout", "A", "all treated"]
    assert plot is not None and Path(plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(checked) == {"marketer"}
