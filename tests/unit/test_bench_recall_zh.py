"""bench/recall_zh.py's measure: a question is recalled at k when a chunk of the document it names, among the first
k, holds one of its answers (compared without spaces, case or thousands separators)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from knowledge.knowledge_store import Hit

BENCH = Path(__file__).resolve().parents[2] / "bench" / "recall_zh.py"


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_recall_zh", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def hit(title: str, text: str) -> Hit:
    return Hit(f"{title}#0", "policies", text, 0.5, {"title": title})


def test_the_answer_must_be_in_a_chunk_of_the_named_document_among_the_first_k() -> None:
    b = bench()
    q = b.Question("q", "订单满多少钱可以包邮？", "配送政策", ("199元", "¥199"))
    other = hit("会员与积分", "订单满 199 元可以兑换积分。")  # the answer's words, another document
    intro = hit("配送政策", "本页说明如何发货。")
    answer = hit("配送政策", "订单实付金额满 199 元，免标准快递运费。")

    assert b.recalled(q, [other, intro, answer], 3)
    assert not b.recalled(q, [other, intro, answer], 2)  # the answer is third
    assert b.recalled(q, [intro], 1, document_only=True) and not b.recalled(q, [other], 1, document_only=True)
    assert b.squeeze("Orders over $1,299.00 Ship FREE") == "ordersover$1299.00shipfree"


def test_the_question_files_load_their_policy_questions_only() -> None:
    b = bench()
    root = BENCH.parents[1]
    zh = b.load_questions(root / "knowledge/demo_zh/eval/policy-questions.jsonl")
    mixed = b.load_questions(root / "examples/eval/demo-zh-questions-on-english-shop.jsonl")
    assert len(zh) == 38 and all(q.source and q.answers for q in zh)
    assert [q.id for q in mixed] == ["zh-en-policy-01", "zh-en-policy-02", "zh-en-policy-03", "zh-en-policy-04"]


def test_an_amount_is_found_as_a_value() -> None:
    b = bench()
    q = b.Question("q", "How much to become gold?", "Membership", ("800.00",))
    assert b.recalled(q, [hit("Membership", "Gold: spend $800 in a calendar year.")], 1)
    assert not b.recalled(q, [hit("Membership", "Gold: spend $8000 in a calendar year.")], 1)
