"""PII redaction recall over every PII field of the dummyjson users, embedded in chat messages (issue 7, item 1),
and false positives on ordinary shop questions.

Run with ``-s`` to see the table: ``pytest -s tests/unit/test_pii_recall.py``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assistant.privacy.redaction import redact

USERS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "dummyjson" / "users.json"
TARGET = 0.99

# field type -> (how to read the value from a user, chat-message templates it is embedded in)
FIELDS: dict[str, tuple[Callable[[dict[str, Any]], str | None], list[str]]] = {
    "email": (lambda u: u.get("email"), [
        "my email is {}", "please send the receipt to {}", "{} is the address on my account",
        "can you update my e-mail to {} thanks"]),
    "phone": (lambda u: u.get("phone"), [
        "call me at {}", "my phone number is {} if the courier needs it", "text {} when it ships",
        "reach me on {}."]),
    "card": (lambda u: (u.get("bank") or {}).get("cardNumber"), [
        "card {} was charged twice", "I paid with {} yesterday", "please refund to card {}",
        "my card number is {}, is that on file?"]),
    "card_spaced": (lambda u: _spaced((u.get("bank") or {}).get("cardNumber")), [
        "card {} was charged twice", "I paid with {} yesterday"]),
    "iban": (lambda u: (u.get("bank") or {}).get("iban"), [
        "my IBAN is {}", "refund to {} please", "wire it to {} for the return"]),
    "ssn": (lambda u: u.get("ssn"), [
        "my SSN is {}", "social security number {} for the credit check", "SSN: {}"]),
    "ein": (lambda u: u.get("ein"), [
        "our EIN is {} for the business invoice", "EIN: {}", "tax id {} on the invoice please"]),
    "address": (lambda u: _address(u.get("address")), [
        "ship to {}", "my address is {}.", "please deliver to {} instead of my office",
        "change the shipping address to {} thanks"]),
    "address_lowercase": (lambda u: (_address(u.get("address")) or "").lower() or None, [
        "ship to {}", "my address is {}"]),
    "company_address": (lambda u: _address((u.get("company") or {}).get("address")), [
        "send the invoice to {}", "deliver to my work address, {}"]),
    "crypto_wallet": (lambda u: (u.get("crypto") or {}).get("wallet"), [
        "can I pay from wallet {}", "my wallet is {}"]),
}

ORDINARY = [
    "Do you have the Tempo 3 in size 10.5?",
    "size 10 running shoes under $100",
    "Is the hiking boot true to size or should I go half a size up to 9.5?",
    "Where is my order NW-100234?",
    "order NW-100234 from 2026-11-10",
    "I ordered 2 pairs on 2026-11-06, when will they arrive?",
    "the 2025-2026 season jackets, are they in stock?",
    "Is the 2025-2026 ski pass compatible?",
    "Why does the tent cost $1,299.99?",
    "Is the $1,299.99 tent on sale for Black Friday?",
    "Can I return an item after 30 days?",
    "How much is express shipping to Portland?",
    "Do you ship to Canada and how long does it take, 5-7 business days?",
    "I'd like 3 of the mixing bowl sets",
    "Can I buy 12 travel mugs for my team?",
    "What is the difference between the 16 oz and 20 oz mug?",
    "Is the 2.5L rain jacket waterproof to 20,000 mm?",
    "Does the headlamp do 400 lumens for 8 hours?",
    "Do you have a 650 fill down jacket in medium?",
    "I need a 2 person tent under $300",
    "What sizes does the Glide 5 come in, 6 to 12?",
    "Is there a 15% discount for gold members?",
    "Can I use code RUN15 on sale items?",
    "Do my 2474 points expire?",
    "My order arrived on November 10 but one item was missing",
    "Can I exchange size 8.5 for size 9?",
    "Is the SPF 50 sunscreen water resistant for 80 minutes?",
    "How many grams does the 4 season tent weigh?",
    "The 1 year warranty, does it cover the zipper?",
    "Can I pick up my order at 10 am tomorrow?",
    "Your store opens at 9:30, right?",
    "Do you have the 3-pack of socks in 10-12?",
    "Is the 4.5 star rated jacket available in blue?",
    "I want to cancel order NW-100091 please",
    "Return 1 of the 2 singlets from order NW-100073",
    "Is shipping free over $75?",
    "What's your price for 100 ml of the serum?",
    "Does the 20 L backpack fit a 15 inch laptop?",
    "How many calories does the stove burn, 2,000 BTU?",
    "Compare the 250 and 400 lumen headlamps",
    "Will it arrive by 12/24?",
    "Are the 2026 models out yet?",
    "Is the trekking pole 110-135 cm adjustable?",
    "Can I get 2 day delivery for $14.95?",
    "my size is 42 EU, what is that in US?",
    "Do you price match within 14 days?",
    "I was charged $119.95 but the shoe was $99.95 on sale",
    "Do you have kids headphones for ages 3-7?",
    "The lip balm SPF 15, is it vegan?",
    "How long is the 30-day return window for Black Friday orders placed 2026-11-27?",
    "Order 2 of item NW-RUN-001 in size 8.5",
    "Is the 1Z tracking number from UPS?",
    "Can I return opened items, 1 of 3 was used once?",
    "How far is the store, is it a 10 minute drive from downtown?",
    "Are 2 shoes on the way or just one?",
    "I bought 3 Trail Running Shoes last month",
    "Does the Main Street store have the tent?",
    "Do you deliver on Sundays between 8 and 5?",
    "My tracking says 4 of 5 packages delivered",
    "Is the 0.5 L bottle BPA free?",
]


def _spaced(card: str | None) -> str | None:
    return " ".join(card[i:i + 4] for i in range(0, len(card), 4)) if card else None


def _address(address: dict[str, Any] | None) -> str | None:
    if not address or not address.get("address"):
        return None
    return f"{address['address']}, {address['city']}, {address['state']} {address['postalCode']}"


def _survives(value: str, redacted: str) -> bool:
    """The value, or a long enough piece of it (a 4+ digit group, the street line), is still in the text."""
    if value.lower() in redacted.lower():
        return True
    pieces = [p for p in re.split(r"[\s,.-]+", value) if len(p) >= 4 and any(ch.isdigit() for ch in p)]
    street = value.split(",")[0]
    return any(p in redacted for p in pieces) or ("," in value and street.lower() in redacted.lower())


def _users() -> list[dict[str, Any]]:
    if not USERS.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{USERS} is missing: the PII recall test must run in CI")
        pytest.skip(f"{USERS} is not here (the shared dummyjson data set is outside the repo)")
    data = json.loads(USERS.read_text(encoding="utf-8"))
    return list(data["users"] if isinstance(data, dict) else data)


def recall_table(users: list[dict[str, Any]]) -> dict[str, tuple[int, int, list[str]]]:
    """field type -> (messages, redacted, some misses)."""
    table: dict[str, tuple[int, int, list[str]]] = {}
    for kind, (read, templates) in FIELDS.items():
        n = hits = 0
        misses: list[str] = []
        for user in users:
            value = read(user)
            if not value:
                continue
            for template in templates:
                redacted = redact(template.format(value)).text
                n += 1
                if _survives(value, redacted):
                    if len(misses) < 5:
                        misses.append(redacted)
                else:
                    hits += 1
        table[kind] = (n, hits, misses)
    return table


def test_pii_redaction_recall_per_field_type() -> None:
    users = _users()
    table = recall_table(users)

    print(f"\nPII recall over {len(users)} dummyjson users ({USERS.name})")
    print(f"{'type':<18} {'n':>5} {'recall':>7}")
    for kind, (n, hits, _) in table.items():
        print(f"{kind:<18} {n:>5} {hits / n:>7.2%}")
    low = {kind: (hits / n, misses) for kind, (n, hits, misses) in table.items() if n and hits / n < TARGET}
    assert all(n for n, _, _ in table.values()), "a PII field type had no values"
    assert not low, low


def test_no_false_positives_on_ordinary_shop_questions() -> None:
    assert len(ORDINARY) >= 50
    flagged = {text: redact(text) for text in ORDINARY}
    wrong = {text: (r.text, r.found) for text, r in flagged.items() if r.found or r.text != text}

    print(f"\nfalse positives: {len(wrong)} of {len(ORDINARY)} ordinary questions")
    assert not wrong, wrong
