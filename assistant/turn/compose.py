"""Composing the reply: the model writes from the facts, streamed sentence by sentence once each sentence
passes the verifier; the fallback reply is built from the facts alone.

Streaming verified sentences (rather than raw tokens) means a shopper never sees an invented number
that is then taken back, at the cost of one sentence of latency before the first words.

Generation and verification are pipelined: a producer thread reads the model's token stream into a
queue while the caller's thread splits sentences, verifies and emits them (llama.cpp's ctypes calls and
torch release the GIL, so both run at once). The producer runs at most :data:`LOOKAHEAD` tokens ahead of
the consumer, which bounds the tokens generated for nothing when the reply stops early (a failing
sentence, a loop, enough sentences); on such a stop the consumer tells the producer, which stops pulling
tokens and closes the stream (the backend then records usage with ``finish_reason="cancelled"``).
"""

from __future__ import annotations

import contextvars
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.domain import Event, TextDelta
from assistant.personalization.offer_rules import describe
from assistant.turn.code_guard import code_like, unknown_codes, words_of
from assistant.turn.facts import Facts
from assistant.turn.order_answers import orders_answer
from assistant.turn.policy_answers import source_line
from assistant.turn.product_facts import product_listing
from assistant.turn.prompts import NOTHING_FOUND, REFUSE_OTHER_ORDER, SYSTEM, USER
from assistant.turn.verifier import Verifier

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

# a sentence ends at . ! ? before a capital, a digit, a quote or a list bullet ("... days. - Express ..."),
# or at a line break
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(]|[-*\u2022]\s)|\n+")
#: the model said an earlier sentence again this many times: it is looping, stop generating (repeats are
#: never shown, so only the wait changes)
MAX_REPEATS = 2
#: pieces (tokens) the producer may read ahead of the consumer: about 0.1 s of decoding on the bundled model,
#: several times a sentence's verification, and few enough tokens wasted when the reply stops early
LOOKAHEAD = 16


#: markdown emphasis and headings the small model writes ("**Yes**", "## Price"): the chat shows plain text
_MARKDOWN = re.compile(r"\*\*|__|`|(?<![\w*])\*(?=[^\s*])|(?<=\S)\*(?![\w*])|^\s*#{1,6}\s+")


def plain_text(sentence: str) -> str:
    """A sentence without markdown emphasis or heading marks (a list's bullet stays)."""
    return " ".join(_MARKDOWN.sub("", sentence).split())


@dataclass
class Composed:
    text: str
    raw: str
    ok: bool
    problems: tuple[str, ...] = ()
    usage: dict[str, Any] = field(default_factory=dict)


def build_messages(facts: Facts, shop: str) -> list[BaseMessage]:
    from langchain_core.messages import HumanMessage, SystemMessage

    lines = "\n".join(f"- {line}" for line in facts.lines())
    return [SystemMessage(SYSTEM.format(shop=shop)), HumanMessage(USER.format(facts=lines, question=facts.question))]


def _split_sentences(buffer: str) -> tuple[list[str], str]:
    """Complete sentences in ``buffer`` and the unfinished rest."""
    parts = _BOUNDARY.split(buffer)
    if len(parts) == 1:
        return [], buffer
    return [p.strip() for p in parts[:-1] if p.strip()], parts[-1]


def compose_reply(llm: BaseChatModel, facts: Facts, verifier: Verifier, shop: str, emit: Callable[[Event], None],
                  max_sentences: int = 4) -> Composed:
    corpus = facts.corpus()
    allowed = [c.id for c in facts.products]
    # the model starts on the prompt first: the verifier's support index is embedded during the prefill
    started = time.perf_counter()
    producer = _Producer(llm, build_messages(facts, shop), LOOKAHEAD)
    producer.start()
    try:
        return _consume(producer, facts, verifier, corpus, allowed, emit, max_sentences, started)
    finally:
        producer.stop()  # stop generating: the rest would not be shown


def _consume(producer: _Producer, facts: Facts, verifier: Verifier, corpus: str, allowed: list[str],
             emit: Callable[[Event], None], max_sentences: int, started: float) -> Composed:
    """The consumer's side of :func:`compose_reply`: verify and emit sentences as the producer reads them."""
    if facts.support is None:
        facts.support = verifier.support_index(corpus)
    facts.policy_evidence()  # a policy answer's claims must each be stated by one of these sentences
    first_token: float | None = None
    raw, buffer = "", ""
    sentences: list[str] = []
    problems: tuple[str, ...] = ()

    seen: set[str] = set()
    repeats = 0
    trusted = facts.trusted_text()

    def accept(sentence: str) -> bool:
        nonlocal problems, repeats
        sentence = plain_text(sentence)
        key = " ".join(re.findall(r"[a-z0-9]+", sentence.lower()))
        if key in seen or not key:
            repeats += bool(key)
            return True  # the small model repeats itself: say it once
        seen.add(key)
        verdict = verifier.check(sentence, corpus, facts.question, allowed, facts.support, facts.evidence,
                                 [str(o["code"]) for o in facts.offers], opening=not sentences,
                                 trusted=trusted)
        if not verdict.ok:
            problems = verdict.problems
            return False
        emit(TextDelta(sentence if not sentences else " " + sentence))
        sentences.append(sentence)
        return True

    ok = True
    finished = False
    while not finished:
        pieces, finished = producer.take()
        piece = "".join(pieces)
        if first_token is None and producer.first_token_at is not None:
            first_token = producer.first_token_at - started
        raw += piece
        buffer += piece
        done, buffer = _split_sentences(buffer)
        for sentence in done:
            if not accept(sentence):
                ok = False
            if not ok or len(sentences) >= max_sentences or repeats >= MAX_REPEATS:
                break
        if not ok or len(sentences) >= max_sentences or repeats >= MAX_REPEATS:
            break
    else:
        # the rest is a sentence only if it ends like one; otherwise the token budget cut it mid-way
        if re.search(r"[.!?][\"')]*$", buffer.strip()) and len(sentences) < max_sentences:
            ok = accept(buffer.strip())
    producer.stop()  # stop generating (the rest would not be shown) and wait for the backend's usage
    if ok and not sentences:
        ok, problems = False, ("the model wrote nothing",)
    usage: dict[str, Any] = dict(producer.usage or {})
    usage.setdefault("ttft_s", round(first_token, 3) if first_token is not None else None)
    usage["compose_s"] = round(time.perf_counter() - started, 3)
    return Composed(" ".join(sentences), raw, ok, problems, usage)


class _Producer:
    """Reads ``llm.stream(messages)`` in a thread into a bounded queue; :meth:`take` hands the pieces over.

    An exception of the stream (``ModelUnavailable``, ...) is raised again by :meth:`take`, in the
    consumer's thread. :meth:`stop` makes the producer stop pulling tokens and close the stream, and waits
    for it, so the backend's usage (``finish_reason="cancelled"``) is recorded when it returns.

    The queue holds pieces of text, then ``None`` (the stream ended) or the exception it raised.
    """

    def __init__(self, llm: BaseChatModel, messages: list[BaseMessage], lookahead: int) -> None:
        self._llm = llm
        self._messages = messages
        self._queue: queue.Queue[str | BaseException | None] = queue.Queue(maxsize=max(1, lookahead))
        self._stopping = threading.Event()
        #: perf_counter of the first non-blank piece, set by the producer
        self.first_token_at: float | None = None
        #: the call's usage from its last chunk (race-free when turns share a model), or after a stop the
        #: model's ``last_usage``
        self.usage: dict[str, Any] | None = None
        # the caller's context (LangChain/LangGraph run config, tracing) goes with the stream
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._run,), name="compose-producer",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _put(self, item: str | BaseException | None) -> bool:
        """Queue an item, waiting for room unless the consumer has stopped (then ``False``)."""
        while not self._stopping.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        stream = None
        try:
            stream = iter(self._llm.stream(self._messages))
            while not self._stopping.is_set():
                try:
                    chunk = next(stream)
                except StopIteration:
                    break
                meta = getattr(chunk, "response_metadata", None) or {}
                if isinstance(meta.get("usage"), dict):
                    self.usage = dict(meta["usage"])
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if not piece:
                    continue
                if self.first_token_at is None and piece.strip():
                    self.first_token_at = time.perf_counter()
                if not self._put(piece):
                    break
        except BaseException as e:  # raised again in the consumer's thread
            self._put(e)
        else:
            self._put(None)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # stop generating; the backend records a cancelled call

    def take(self) -> tuple[list[str], bool]:
        """The next pieces (waiting for one, then all that are queued) and whether the stream has ended."""
        pieces: list[str] = []
        item = self._queue.get()
        while True:
            if isinstance(item, BaseException):
                raise item
            if item is None:
                return pieces, True
            pieces.append(item)
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return pieces, False

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        last = getattr(self._llm, "last_usage", None)
        if self.usage is None and last is not None and hasattr(last, "as_dict"):
            self.usage = dict(last.as_dict())


def fallback_reply(facts: Facts, shop: str) -> str:
    """A reply built from the facts alone (no model), for when the model's reply fails verification."""
    parts: list[str] = []
    for order_id in facts.refused_order_ids:
        parts.append(REFUSE_OTHER_ORDER.format(order_id=order_id))
    if facts.orders:  # the answer first: the status, tracking number, total or items asked for
        parts.append(orders_answer(facts.orders, facts.question))
    profile = facts.profile if facts.personalized else None
    first = profile.name.split()[0] if profile else None
    if facts.answer is not None:  # a computed answer about the catalogue: it is the reply's first sentence
        parts.append(facts.answer.text)
    elif facts.products:  # the products answer first; an offer (only when asked for) follows
        parts.append(product_listing(facts, first))
    if facts.offers:
        lead = f"{first}, as a {profile.tier} member you can use" if profile and first else "An offer for you"
        parts.append(f"{lead}: " + " ".join(describe(o) for o in facts.offers))
    if facts.policies and not facts.offers:  # the policy's own sentences that answer, then their documents
        # a code-like token in a document is no offer: its sentence is left out (see code_guard)
        allowed = {str(o["code"]) for o in facts.offers} | code_like(facts.trusted_text())
        words = words_of(facts.corpus())  # a capitalised word the facts use as a word ("FREE") is no code
        corpus = facts.corpus()
        sentences = [s for s in facts.policy_answer() if not unknown_codes(s, allowed, words, source=corpus)]
        if sentences:
            parts.append(" ".join([*sentences, source_line(facts.policies, sentences)]).strip())
    if not parts:
        return NOTHING_FOUND.format(shop=shop)
    return " ".join(parts)
