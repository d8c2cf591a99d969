"""The eval's checks score what a shopper sees: they must fail wrong answers, not only pass right ones."""

from assistant.evaluation.runner import ShopFacts, check_case, load_cases

SHOP = ShopFacts(tastes={"C001": {"category": ["running-shoes"], "size": ["8.5"]}}, personalized={"C001": True},
                 owned={"C001": {"P-OWNED"}}, all_codes={"RUNNER15", "TRAIL20"})


def card(**over: object) -> dict[str, object]:
    base: dict[str, object] = {"id": "P1", "name": "Shoe", "price": 80.0, "category": "running-shoes",
                               "in_stock": True, "reason": "x", "options": {"size": ["8.5", "9"]}}
    base.update(over)
    return base


def test_golden_set_has_at_least_80_cases_in_every_category() -> None:
    cases = load_cases()

    assert len(cases) >= 80
    assert {c["category"] for c in cases} == {"policy", "product", "recommendation", "own_order", "unknown",
                                               "other_shopper", "offers"}


def test_expected_text_must_be_present_and_forbidden_text_absent() -> None:
    case = {"customer": "C001", "expect_any": ["30 days"], "expect_not": ["Earbuds"]}

    assert check_case(case, "Within 30 days.", [], SHOP) == []
    assert check_case(case, "Within 60 days.", [], SHOP)
    assert check_case(case, "30 days; also Earbuds", [], SHOP)


def test_product_checks_catch_out_of_stock_over_budget_and_wrong_category() -> None:
    case = {"customer": "C001", "checks": {"in_stock": True, "max_price": 100, "category": "running-shoes"}}
    events = [{"type": "products", "products": [card(in_stock=False), card(price=120.0), card(category="tops")]}]

    assert len(check_case(case, "", events, SHOP)) == 3
    assert check_case(case, "", [], SHOP) == ["no products shown"]


def test_recommendations_must_be_on_preference_and_not_owned() -> None:
    case = {"customer": "C001", "checks": {"on_preference": True, "not_owned": True}}
    events = [{"type": "products", "products": [card(id="P-OWNED"), card(options={"size": ["10"]})]}]

    failures = check_case(case, "", events, SHOP)

    assert any("already bought" in f for f in failures) and any("size 8.5" in f for f in failures)


def test_a_code_not_chosen_for_the_shopper_fails() -> None:
    case = {"customer": "C001", "checks": {"codes_from_offers": True}}
    events = [{"type": "offers", "offers": [{"code": "RUNNER15"}]}]

    assert check_case(case, "Use RUNNER15.", events, SHOP) == []
    assert check_case(case, "Use TRAIL20.", events, SHOP)
