"""The Chinese slice of the eval (issue 15, item 7), on the real bundled models, Chroma on disk and a fresh import:

- the Chinese demo shop (knowledge/demo_zh): its 38 hand-written policy questions plus questions computed from its
  own catalogue and orders, worded in Chinese (two per generated category);
- the English demo shop asked the 20 hand-written Chinese questions of
  examples/eval/demo-zh-questions-on-english-shop.jsonl (orders, products, policy, another shopper's order, a
  person, confirming an action).

Each must leak nothing of another shopper's orders and reply in Chinese to every question (the language of a reply
is told leaving aside what it quotes from the shop). The issue's targets are at least 90% correct and at most 2%
wrong. On 2026-12-05 the Chinese shop gave 66/70 correct, 2 wrong (2.9%: zh-13 and zh-19, stock and delivery-time
questions answered with a neighbouring sentence) and 2 declined; then 68/70 correct, 1 wrong (1.4%: zh-19) and 1
declined (zh-37), once a question word the shop never uses is matched by the shop's words of the same meaning in
CC-CEDICT ("卖完" by "售罄", "香港" by "港澳": knowledge/cross_lingual.py, same_sense_groups, and
assistant/turn/policy_scoring.py, same_sense_terms); then 69/70, 0 declined, once "个性化推荐" (the personalization
setting) was no longer read as a request for picks (assistant/turn/chinese_rules.py); the English shop asked in
Chinese 20/20 (its English policies are found through CC-CEDICT, knowledge/cross_lingual.py). Each slice holds the
line at what it reaches (a ratchet, as in test_eval_gate.py: raise it as answers improve; the English shop's keeps
one decline of slack, no wrong answer). The bundled model writes English only, so Chinese replies are built from the
facts and the slice runs in about two minutes a shop. The same slice from the command line: ``concierge eval --shop
knowledge/demo_zh`` (a Chinese shop is asked in Chinese); the report's ``reply_language`` says which replies were in
Chinese.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from assistant.evaluation.shop_eval import ShopEvalRun, evaluate_shop

pytestmark = [pytest.mark.integration, pytest.mark.model]

ROOT = Path(__file__).resolve().parents[2]
MIN_IN_CHINESE, PER_CATEGORY = 1.0, 2
TARGET_CORRECT, TARGET_WRONG = 0.9, 0.02  # the issue's; the slices' own (min correct, max wrong) below, a ratchet
SLICES = {
    "zh-shop": (ROOT / "knowledge/demo_zh", ROOT / "knowledge/demo_zh/eval/policy-questions.jsonl", True, 40,
                (0.98, 0.02)),
    "en-shop-zh-questions": (None, ROOT / "examples/eval/demo-zh-questions-on-english-shop.jsonl", False, 20,
                             (0.95, 0.0)),
}


def failures(run: ShopEvalRun) -> str:
    """Every question not answered correctly or not answered in its language: question, reply, what was expected."""
    lines = []
    for r in run.results:
        if r.outcome.verdict != "correct" or not r.in_language:
            q = r.question
            expected = {k: v for k, v in (("expect", list(q.expect)), ("expect_one_of", list(q.expect_one_of)),
                                          ("forbid", list(q.forbid)), ("stock", q.stock), ("decline", q.decline),
                                          ("event", q.expect_event), ("intent", q.expect_intent)) if v}
            lines.append(f"{r.outcome.verdict} [{r.reply_language}] {q.id}: {q.message!r} -> {r.reply[:300]!r}; "
                         f"expected {json.dumps(expected, ensure_ascii=False)} ({r.outcome.why})")
    return "\n".join(lines)


@pytest.mark.parametrize("name", list(SLICES))
def test_the_chinese_slice_meets_its_thresholds(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.config.loading import load_settings
    from assistant.shop.shop_import import demo_shop_path

    folder, questions, generated, least, (min_correct, max_wrong) = SLICES[name]
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.setenv(key, "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    settings = load_settings(profiles=[], env={k: v for k, v in os.environ.items() if not k.startswith("CONCIERGE_")})
    assert settings.llm.mode == "llamacpp" and settings.embeddings.mode == "bundled"  # the bundled models

    run = evaluate_shop(settings, folder or demo_shop_path(), policy_questions=questions, per_category=PER_CATEGORY,
                        generated=generated, language="zh")

    overall = next(r for r in run.rows if r.category == "overall")
    summary = (f"{name}: {overall.correct}/{overall.asked} correct ({overall.correct_share:.0%}), "
               f"{overall.wrong} wrong ({overall.wrong_share:.0%}), {overall.declined} declined, "
               f"{overall.leaks} leaks, {overall.in_language}/{overall.asked} replies in Chinese (the issue's target: "
               f">= {TARGET_CORRECT:.0%} correct, <= {TARGET_WRONG:.0%} wrong)")
    print(summary)
    assert overall.asked >= least and all(r.question.language == "zh" for r in run.results)
    assert overall.leaks == 0, summary + "\n" + failures(run)
    assert overall.correct_share >= min_correct and overall.wrong_share <= max_wrong, summary + "\n" + failures(run)
    assert overall.in_language_share >= MIN_IN_CHINESE, summary + "\n" + failures(run)
