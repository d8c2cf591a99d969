"""The verifier never fails on an impossible date the model wrote: it reports it."""

from assistant.shop.catalog_index import CatalogIndex
from assistant.turn.verifier import Verifier


def test_an_impossible_date_is_a_problem_not_a_crash() -> None:
    verdict = Verifier(CatalogIndex()).check("It was refunded on 2026-07-35.", "Refunded $47.00 on 2026-07-26.")

    assert not verdict.ok and any("July 35" in p for p in verdict.problems)
