"""The chat page's transcript: messages sent while an answer streams wait their turn, one loop answers them in
the order they were sent, and each answer sits under its message."""

import copy

from ui.chat_transcript import PENDING, ChatTranscript


def test_a_sent_message_shows_at_once_and_waits() -> None:
    chat = ChatTranscript()

    assert chat.add_message("Where is my order?")

    assert chat.messages() == [{"role": "user", "content": "Where is my order?"}] and chat.waiting() == 1


def test_a_blank_message_is_not_sent() -> None:
    chat = ChatTranscript()

    assert not chat.add_message("   ") and chat.messages() == [] and chat.waiting() == 0


def test_one_loop_at_a_time_answers_in_order_and_each_answer_sits_under_its_message() -> None:
    chat = ChatTranscript()
    chat.add_message("first")
    assert chat.claim() and not chat.claim()  # a second loop finds this one at work

    asked = chat.next_message()
    assert asked is not None and asked[0] == "first"
    chat.add_message("second")  # sent while the first answer streams
    chat.show_answer(asked[1], "answer to first", "t1")
    following = chat.next_message()
    assert following is not None and following[0] == "second"
    chat.show_answer(following[1], "answer to second", "t2")

    assert [m["content"] for m in chat.messages()] == ["first", "answer to first", "second", "answer to second"]
    assert chat.turn_ids() == [None, "t1", None, "t2"]


def test_the_pending_answer_is_placed_before_later_messages() -> None:
    chat = ChatTranscript()
    chat.add_message("first")
    chat.add_message("second")
    chat.claim()

    asked = chat.next_message()

    assert asked is not None
    assert [m["content"] for m in chat.messages()] == ["first", PENDING, "second"]
    assert chat.messages_before(asked[1]) == [{"role": "user", "content": "first"}]


def test_when_nothing_waits_the_claim_ends_so_the_next_message_starts_a_loop() -> None:
    chat = ChatTranscript()
    chat.add_message("only")
    chat.claim()
    chat.next_message()

    assert chat.next_message() is None
    chat.add_message("later")
    assert chat.claim()


def test_a_closed_transcript_takes_nothing_and_stops_its_loop() -> None:
    chat = ChatTranscript()
    chat.add_message("one")
    chat.claim()

    chat.close()

    assert chat.next_message() is None and not chat.add_message("two") and not chat.claim()


def test_each_browser_tab_gets_a_new_empty_transcript() -> None:
    chat = ChatTranscript()
    chat.add_message("mine")

    copied = copy.deepcopy(chat)

    assert copied is not chat and copied.messages() == [] and copied.session_id is None


def test_an_agents_reply_is_added_once() -> None:
    chat = ChatTranscript()

    chat.add_agent_reply("Ana here.", "t9")
    chat.add_agent_reply("Ana here.", "t9")

    assert chat.messages() == [{"role": "assistant", "content": "Ana here."}] and chat.turn_ids() == ["t9"]


def test_the_turn_at_a_position_of_the_chat() -> None:
    chat = ChatTranscript()
    chat.add_agent_reply("Ana here.", "t9")

    assert chat.turn_id_at(0) == "t9" and chat.turn_id_at(5) is None and chat.turn_id_at(-1) is None
