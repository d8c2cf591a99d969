"""What one open chat page shows and what it still has to answer: the shopper's messages in the order they were
sent, each answered after the one before it, however fast they are typed.

The page keeps one ``ChatTranscript`` per browser tab (a ``gr.State``; Gradio hands every event of that tab the
same object). Sending a message only adds it (:meth:`ChatTranscript.add_message`: the shopper sees it at once and
the box is free again); one answering loop at a time (:meth:`claim` / :meth:`next_message`) takes the waiting
messages one by one and writes each answer under its message (:meth:`show_answer`). Support agents' replies are
added as they come (:meth:`add_agent_reply`). Every change takes the transcript's lock: the events of one tab run
in Gradio's worker threads.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

#: what an answer's bubble shows before its first words arrive
PENDING = "…"


@dataclass(eq=False)  # entries are compared by identity: two equal messages are still two messages
class TranscriptEntry:
    role: Literal["user", "assistant"]
    content: str
    turn_id: str | None = None


class ChatTranscript:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[TranscriptEntry] = []
        self._waiting: deque[TranscriptEntry] = deque()
        self._answering = False
        self.closed = False
        #: the assistant's conversation id, once the first answer opened one
        self.session_id: str | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> ChatTranscript:
        """A ``gr.State``'s initial value is deep-copied for each browser tab: each tab gets a new, empty one."""
        return ChatTranscript()

    # what the page shows ---------------------------------------------------------------------------------
    def messages(self) -> list[dict[str, str]]:
        """The chat as ``gr.Chatbot`` shows it (a copy): the shopper's messages, waiting ones included, and the
        answers under the messages they answer."""
        with self._lock:
            return [{"role": e.role, "content": e.content} for e in self._entries]

    def turn_ids(self) -> list[str | None]:
        """The recorded turn behind each shown message (``None`` for the shopper's own and for unrecorded ones)."""
        with self._lock:
            return [e.turn_id for e in self._entries]

    def messages_before(self, entry: TranscriptEntry) -> list[dict[str, str]]:
        """The chat as it stood before ``entry`` (what a queued message follows)."""
        with self._lock:
            shown = self._entries[:self._entries.index(entry)] if entry in self._entries else self._entries
            return [{"role": e.role, "content": e.content} for e in shown]

    def turn_id_at(self, index: int) -> str | None:
        with self._lock:
            return self._entries[index].turn_id if 0 <= index < len(self._entries) else None

    def waiting(self) -> int:
        """How many sent messages are not being answered yet."""
        with self._lock:
            return len(self._waiting)

    # the shopper sends ---------------------------------------------------------------------------------------
    def add_message(self, message: str) -> bool:
        """Show a sent message and queue it for an answer; ``False`` (nothing added) for a blank one or once the
        transcript is closed."""
        if not message.strip() or self.closed:
            return False
        with self._lock:
            entry = TranscriptEntry("user", message)
            self._entries.append(entry)
            self._waiting.append(entry)
        return True

    # the one answering loop --------------------------------------------------------------------------------
    def claim(self) -> bool:
        """Become the loop that answers this transcript's messages; ``False`` while another loop is at it (that
        loop answers the new message too)."""
        with self._lock:
            if self._answering or self.closed:
                return False
            self._answering = True
            return True

    def next_message(self) -> tuple[str, TranscriptEntry] | None:
        """The loop's next message and the (pending) answer bubble put under it; ``None`` when nothing is
        waiting, which also ends the claim, in the same step: a message added after that finds no loop and
        its own event starts one."""
        with self._lock:
            if not self._waiting or self.closed:
                self._answering = False
                return None
            asked = self._waiting.popleft()
            answer = TranscriptEntry("assistant", PENDING)
            self._entries.insert(self._entries.index(asked) + 1, answer)
            return asked.content, answer

    def show_answer(self, answer: TranscriptEntry, content: str, turn_id: str | None = None) -> None:
        with self._lock:
            answer.content = content
            if turn_id is not None:
                answer.turn_id = turn_id

    def release(self) -> None:
        """Give the claim up without answering (the loop failed): the next sent message starts a new loop."""
        with self._lock:
            self._answering = False

    # others ------------------------------------------------------------------------------------------------
    def add_agent_reply(self, content: str, turn_id: str | None) -> None:
        """Add a support agent's reply at the end, once (a turn already shown is not added again)."""
        with self._lock:
            if turn_id is None or all(e.turn_id != turn_id for e in self._entries):
                self._entries.append(TranscriptEntry("assistant", content, turn_id))

    def add_past_turn(self, message: str, reply: str, turn_id: str | None) -> None:
        """Show a turn recorded before this tab opened (a conversation continued here): not waiting for an answer."""
        with self._lock:
            if message:
                self._entries.append(TranscriptEntry("user", message))
            self._entries.append(TranscriptEntry("assistant", reply, turn_id))

    def close(self) -> None:
        """The tab started another conversation (a sign-in): this one takes no more messages and its loop stops."""
        with self._lock:
            self.closed = True
            self._waiting.clear()
