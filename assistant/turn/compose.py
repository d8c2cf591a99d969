"""Composing the reply: the model writes from the facts, streamed sentence by sentence once each sentence
passes the verifier; the fallback reply is built from the facts alone.

Streaming verified sentences (rather than raw tokens) means a shopper never sees an invented number
that is then taken back, at the cost of one sentence of latency before the first words. What is shown is
never taken back either: before a sentence is shown, the reply so far must also pass every check of the
whole reply that could replace it afterwards (:func:`whole_reply_problems`: what the intent requires, a
computed answer said first, the policy evidence, amounts and codes). Sentences that pass on their own but
not yet as a reply (the product is named in the second sentence) wait for the ones that complete it; a
sentence that fails after others were shown ends the reply there, and what was shown is the reply.

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
from assistant.locales import REFERENCE, language_name
from assistant.turn.fact_replies import fallback_reply as fallback_reply
from assistant.turn.facts import Facts
from assistant.turn.prompts import IN_LANGUAGE, SYSTEM, USER
from assistant.turn.verifier import Verifier

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

# a sentence ends at . ! ? before a capital, a digit, a quote or a list bullet ("... days. - Express ..."),
# at Chinese 。！？ (nothing follows them but the next sentence), or at a line break
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(]|[-*\u2022]\s)|(?<=[。！？])\s*(?=\S)|\n+")
#: what a sentence is compared by to find repeats: its words, and each CJK character
_KEY = re.compile(r"[a-z0-9]+|[\u3400-\u9fff\uf900-\ufaff]")
#: the model said an earlier sentence again this many times: it is looping, stop generating (repeats are
#: never shown, so only the wait changes)
MAX_REPEATS = 2
#: pieces (tokens) the producer may read ahead of the consumer: about 0.1 s of decoding on the bundled model,
#: several times a sentence's verification, and few enough tokens wasted when the reply stops early
LOOKAHEAD = 16
#: pieces (tokens) one sentence may take: the prompt asks for short sentences, and the small model sometimes writes
#: a list joined by commas until the token budget ends (160 tokens, 1.5 s on 2 cores) without a sentence ever being
#: complete enough to check or show; the reply built from the facts comes that much sooner. 80 leaves room for the
#: longest sentence a built order reply writes (an order's three items with their options, about 70 tokens)
MAX_SENTENCE_PIECES = 80


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

    lines = "\n".join(f"- {line}" for line in facts.prompt_lines())
    system = system_prompt(shop)
    if facts.language != REFERENCE:  # a model that writes the shopper's language (language.model_writes)
        system += IN_LANGUAGE.format(language=language_name(facts.language))
    return [SystemMessage(system), HumanMessage(USER.format(facts=lines, question=facts.question))]


def warm_model(llm: object, shop: str) -> None:
    """Put the system prompt of ``shop``'s turns into the chat model's cache now (a model that has a cache to warm:
    :meth:`assistant.llm.llamacpp.LlamaCppChatModel.warm`), so the first turn only evaluates its own facts."""
    from langchain_core.messages import HumanMessage, SystemMessage

    warm = getattr(llm, "warm", None)
    if callable(warm):
        warm([SystemMessage(system_prompt(shop)), HumanMessage("Hello")])


def system_prompt(shop: str) -> str:
    """The system prompt every turn of ``shop`` starts with (the part a warm cache holds)."""
    return SYSTEM.format(shop=shop)


def _joiner(before: str, after: str) -> str:
    """Nothing between two Chinese sentences (``。`` ends one), a space otherwise."""
    return "" if re.search(r"[。！？]$", before) and not re.match(r"[A-Za-z0-9]", after) else " "


def _split_sentences(buffer: str) -> tuple[list[str], str]:
    """Complete sentences in ``buffer`` and the unfinished rest."""
    parts = _BOUNDARY.split(buffer)
    if len(parts) == 1:
        return [], buffer
    return [p.strip() for p in parts[:-1] if p.strip()], parts[-1]


def whole_reply_problems(reply: str, facts: Facts, verifier: Verifier, corpus: str, checked: bool = False
                         ) -> list[str]:
    """Why ``reply`` (the sentences so far) could not stand as the whole reply: the checks the verify step runs
    on it (:func:`assistant.turn.answer_nodes.verify_node`), so that a reply they pass is never replaced.
    ``checked``: ``reply`` is one sentence that passed ``Verifier.check`` as the opening already (the same
    check, with the support index too), so only what the reply must contain is left to check."""
    problems: list[str] = []
    if not checked:
        problems.extend(verifier.check(reply, corpus, facts.question, facts.named_products(), None,
                                       facts.policy_evidence(), [str(o["code"]) for o in facts.offers],
                                       trusted=facts.trusted_text()).problems)
    problems.extend(verifier.requirements(reply, facts.intent, *facts.requirement_args()))
    if facts.answer is not None:  # a computed answer: the reply must say it, first
        problems.extend(facts.answer.problems(reply))
    return problems


def _joined(sentences: list[str]) -> str:
    return "".join(s if not i else _joiner(sentences[i - 1], s) + s for i, s in enumerate(sentences))


def compose_reply(llm: BaseChatModel, facts: Facts, verifier: Verifier, shop: str, emit: Callable[[Event], None],
                  max_sentences: int = 4) -> Composed:
    corpus = facts.corpus()
    allowed = facts.named_products()
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
    sentences: list[str] = []  # verified, in order; the first ``shown`` of them were emitted
    shown = 0
    problems: tuple[str, ...] = ()

    seen: set[str] = set()
    repeats = 0
    trusted = facts.trusted_text()

    def accept(sentence: str) -> bool:
        nonlocal problems, repeats, shown
        sentence = plain_text(sentence)
        key = " ".join(_KEY.findall(sentence.lower()))
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
        whole = whole_reply_problems(_joined([*sentences, sentence]), facts, verifier, corpus, checked=not sentences)
        if whole and shown:  # it would spoil the reply already shown: the reply ends before it
            problems = tuple(whole)
            return False
        sentences.append(sentence)
        if not whole:  # the reply so far stands as a whole: show what waited, and this sentence
            waiting = sentences[shown:]
            emit(TextDelta((_joiner(sentences[shown - 1], waiting[0]) if shown else "") + _joined(waiting)))
            shown, problems = len(sentences), ()
        else:
            problems = tuple(whole)  # why it waits (kept if nothing completes it)
        return True

    ok = True
    finished = False
    unfinished = 0  # pieces since the last complete sentence
    while not finished:
        pieces, finished = producer.take()
        piece = "".join(pieces)
        if first_token is None and producer.first_token_at is not None:
            first_token = producer.first_token_at - started
        raw += piece
        buffer += piece
        done, buffer = _split_sentences(buffer)
        unfinished = 0 if done else unfinished + len(pieces)
        if unfinished > MAX_SENTENCE_PIECES:
            ok, problems = False, (f"the model wrote {unfinished} tokens without ending a sentence",)
            break
        for sentence in done:
            if not accept(sentence):
                ok = False
            if not ok or len(sentences) >= max_sentences or repeats >= MAX_REPEATS:
                break
        if not ok or len(sentences) >= max_sentences or repeats >= MAX_REPEATS:
            break
    else:
        # the rest is a sentence only if it ends like one; otherwise the token budget cut it mid-way
        if re.search(r"[.!?。！？][\"')”」]*$", buffer.strip()) and len(sentences) < max_sentences:
            ok = accept(buffer.strip())
    producer.stop()  # stop generating (the rest would not be shown) and wait for the backend's usage
    if shown:  # what was shown stands as the whole reply; what failed or waited after it was left out
        ok, problems = True, tuple(f"left out after the reply: {p}" for p in problems)
    elif ok and not sentences:
        ok, problems = False, ("the model wrote nothing",)
    else:  # nothing shown: the sentences never stood as a reply (or one failed first)
        ok = False
    usage: dict[str, Any] = dict(producer.usage or {})
    usage.setdefault("ttft_s", round(first_token, 3) if first_token is not None else None)
    usage["compose_s"] = round(time.perf_counter() - started, 3)
    return Composed(_joined(sentences[:shown]), raw, ok, problems, usage)


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
        #: an exception that followed pieces already handed over, raised by the next :meth:`take`
        self._pending: BaseException | None = None
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
        item = self._pending if self._pending is not None else self._queue.get()
        self._pending = None
        while True:
            if isinstance(item, BaseException):
                if pieces:  # the text before the failure is handed over first; the error comes next time
                    self._pending = item
                    return pieces, False
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
