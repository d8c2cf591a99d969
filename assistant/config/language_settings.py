"""The ``language`` settings section: which language replies start in, and which languages the chat model
writes (the others get replies built from the facts, with no model call)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LanguageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: str = Field(
        "en", description="Language of the replies until a shopper's message shows theirs (a code a message "
        "catalogue ships for: en, zh). Each message's language is detected; short ones (\"ok\", an order id) keep "
        "the conversation's.")
    model_writes: list[str] = Field(
        default_factory=lambda: ["en"], description="Languages the chat model writes replies in. The bundled "
        "model writes English only: a shopper writing another language gets a reply built from the facts, with "
        "no model call. With llm.mode openai and a multilingual model, list its languages (e.g. [en, zh]): the "
        "prompt then asks for the shopper's language and the verifier checks the reply as in English.")
