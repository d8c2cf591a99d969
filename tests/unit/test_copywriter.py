"""Personalized copy: written from facts by a scripted model, verified (an invented price or a code not chosen
is dropped), queued as pending, and approved only by a reviewer; opted-out shoppers get none."""

from dataclasses import replace

import numpy as np
import pytest
from typer.testing import CliRunner

from assistant.components import Components, build_assistant
from assistant.errors import NotFoundError, ValidationError
from assistant.llm import FakeChatModel
from assistant.personalization.copywriter import CopyWriter, MarketingOptOut, Sampling, review_copy, review_verifier
from assistant.records import money
from assistant.shop.catalog_index import CatalogIndex
from tests.unit.conftest import DEMO_NOW

SAMPLING = Sampling(temperature=0.8, top_p=0.9, top_k=30, max_new_tokens=90, seed=5)


@pytest.fixture
def llm() -> FakeChatModel:
    return FakeChatModel()


@pytest.fixture
def writer(own_demo_components: Components, llm: FakeChatModel) -> CopyWriter:
    service = build_assistant(own_demo_components, llm=llm, now=lambda: DEMO_NOW, rng=np.random.default_rng(2))
    return CopyWriter(service.deps, own_demo_components.stores.copy)


def test_a_candidate_with_an_invented_price_is_dropped_and_a_verified_one_queued(writer: CopyWriter,
                                                                                 llm: FakeChatModel) -> None:
    facts = writer.facts_for_customer("C001")
    shoe, code = facts.products[0], facts.offers[0]["code"]
    good = f"Maya, the {shoe.name} is {money(shoe.price)} and in stock in your size. Use code {code}."
    llm.enqueue([f"Maya, the {shoe.name} is now only $9.99!", good])

    draft = writer.write(facts, "email", 2, SAMPLING)

    assert draft.status == "pending" and draft.text == good and draft.customer_id == "C001"
    dropped = [c for c in draft.verdict["candidates"] if not c["ok"]]
    assert len(dropped) == 1 and any("9.99" in p for p in dropped[0]["problems"])
    assert draft.verdict["source"] == "model" and draft.facts["offers"][0]["code"] == code


def test_sampling_settings_reach_the_model_with_a_seed_per_candidate(writer: CopyWriter,
                                                                     llm: FakeChatModel) -> None:
    facts = writer.facts_for_customer("C001")

    writer.write(facts, "push", 3, SAMPLING)

    assert [k["seed"] for k in llm.call_kwargs] == [5, 6, 7]
    assert all((k["temperature"], k["top_p"], k["top_k"], k["max_new_tokens"]) == (0.8, 0.9, 30, 90)
               for k in llm.call_kwargs)
    prompt = "\n".join(m.text for m in llm.calls[0])
    assert "Customer: Maya, gold member." in prompt and facts.products[0].name in prompt


def test_a_code_not_chosen_for_the_shopper_is_dropped_and_the_template_used(writer: CopyWriter,
                                                                             llm: FakeChatModel) -> None:
    facts = writer.facts_for_customer("C001")
    other = "TRAIL20" if facts.offers[0]["code"] != "TRAIL20" else "GOLD2X"  # real codes of the shop
    llm.enqueue([f"Maya, use code {other} on the {facts.products[0].name}.", "Great deals await you!"])

    draft = writer.write(facts, "push", 2, SAMPLING)

    assert draft.verdict["source"] == "template" and draft.verdict["ok"] and other not in draft.text
    problems = [p for c in draft.verdict["candidates"] for p in c["problems"]]
    assert any(other in p for p in problems) and any("names no product or offer" in p for p in problems)
    assert facts.products[0].name in draft.text and len(draft.text) <= 160


def test_a_shopper_without_marketing_consent_gets_no_copy(writer: CopyWriter, llm: FakeChatModel) -> None:
    before = len(writer.store.list())

    with pytest.raises(MarketingOptOut) as refused:
        writer.for_customer("C006", "email", 2, SAMPLING)

    assert "not agreed to marketing" in refused.value.user_message
    assert len(writer.store.list()) == before and llm.calls == []


def test_an_unknown_customer_or_tier_is_a_clear_error(writer: CopyWriter) -> None:
    with pytest.raises(NotFoundError, match="C999"):
        writer.for_customer("C999", "email", 1, SAMPLING)
    with pytest.raises(NotFoundError) as tier:
        writer.for_segment("diamond", "banner", 1, SAMPLING)
    assert "gold" in tier.value.user_message


def test_an_empty_catalogue_is_a_clear_error(writer: CopyWriter) -> None:
    empty = CopyWriter(replace(writer.deps, catalog=CatalogIndex()), writer.store, writer.llm)

    with pytest.raises(ValidationError) as refused:
        empty.for_customer("C001", "email", 1, SAMPLING)

    assert "catalogue is empty" in refused.value.user_message


def test_segment_copy_has_no_name_and_a_tier_offer(writer: CopyWriter, llm: FakeChatModel) -> None:
    draft = writer.for_segment("gold", "banner", 1, SAMPLING)[0]

    assert not isinstance(draft, MarketingOptOut)
    assert draft.customer_id is None and draft.segment == "gold/any" and draft.facts["audience"] == "segment gold"
    assert "Audience: gold members." in "\n".join(m.text for m in llm.calls[0])


def test_copy_for_each_shopper_of_a_tier_skips_those_without_consent(writer: CopyWriter) -> None:
    results = writer.for_segment("gold", "push", 1, SAMPLING, each=True)

    skipped = {str(r).split()[1] for r in results if isinstance(r, MarketingOptOut)}
    queued = {r.customer_id for r in results if not isinstance(r, MarketingOptOut)}
    assert {"C020", "C024", "C029"} <= skipped and {"C001", "C007"} <= queued


def test_nothing_is_approved_until_a_reviewer_approves_or_edits(writer: CopyWriter,
                                                                own_demo_components: Components) -> None:
    store, verifier = writer.store, review_verifier(own_demo_components)
    a, b, c = (writer.for_customer("C001", "banner", 1, SAMPLING) for _ in range(3))
    assert {a.status, b.status, c.status} == {"pending"}

    approved = review_copy(store, verifier, a.id, "approve", "ana")
    edited = review_copy(store, verifier, b.id, "edit", "ben", text="Use code FREE50 for $1 shoes!")
    rejected = review_copy(store, verifier, c.id, "reject", "cy", reason="off-brand")

    assert (approved.status, approved.reviewer, approved.reviewed_at is not None) == ("approved", "ana", True)
    assert edited.status == "edited" and edited.text.startswith("Use code FREE50") and edited.original_text == b.text
    assert any("FREE50" in w for w in edited.verdict["review"]["warnings"])
    assert rejected.status == "rejected" and rejected.verdict["review"]["reason"] == "off-brand"
    assert a.id not in {d.id for d in store.list("pending")}
    with pytest.raises(ValidationError, match="already approved"):
        review_copy(store, verifier, a.id, "reject", "dan")
    with pytest.raises(NotFoundError):
        review_copy(store, verifier, "nope", "approve", "dan")


def test_the_copy_commands_generate_list_and_review(own_demo_components: Components,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.cli.cli_context import CliContext
    from ui.cli.main import app

    llm = FakeChatModel()
    monkeypatch.setitem(own_demo_components.__dict__, "assistant",
                        build_assistant(own_demo_components, llm=llm, now=lambda: DEMO_NOW))
    run = CliContext(components_built=own_demo_components)
    runner = CliRunner()

    generated = runner.invoke(app, ["generate", "copy", "--customer", "C001", "--kind", "push", "--candidates", "2",
                                    "--temperature", "0.7", "--top-k", "20"], obj=run)
    refused = runner.invoke(app, ["generate", "copy", "--customer", "C002"], obj=run)
    pending = runner.invoke(app, ["copy", "list", "--status", "pending"], obj=run)
    draft_id = generated.stdout.split()[1]
    approved = runner.invoke(app, ["copy", "approve", draft_id, "--reviewer", "ana"], obj=run)

    assert generated.exit_code == 0, generated.output
    assert "queued" in generated.stdout and "template" in generated.stdout  # the scripted default names nothing
    assert [k["temperature"] for k in llm.call_kwargs] == [0.7, 0.7] and llm.call_kwargs[0]["top_k"] == 20
    assert refused.exit_code == 2 and "not agreed to marketing" in refused.stderr
    assert draft_id in pending.stdout
    assert approved.exit_code == 0 and f"copy {draft_id} approved by ana" in approved.stdout


def test_an_unfinished_last_sentence_is_cut_before_verification(writer: CopyWriter, llm: FakeChatModel) -> None:
    facts = writer.facts_for_customer("C001")
    shoe, code = facts.products[0], facts.offers[0]["code"]
    llm.enqueue([f"Subject: Maya, the {shoe.name} is {money(shoe.price)}. Use code {code}. And there is a 50% sa"])

    draft = writer.write(facts, "email", 1, SAMPLING)

    assert draft.verdict["source"] == "model" and draft.text.endswith(f"Use code {code}.")
    assert not draft.text.startswith("Subject")
