"""``concierge eval recommend``: the recommender offline, leave-one-out on purchase histories.

For each shopper (who consents to personalization) with at least two different products bought, the last
product they bought is held out (the product first bought most recently, with all its lines; or, when the
newest line is a consumable, that line alone). The recommender ranks the catalogue from everything else
(their profile and the rest of their purchases), with co-purchase counts and purchase popularity computed
from all shoppers' orders without the held-out lines. A hit is the held-out product among the top k;
NDCG@k scores its rank (1/log2(rank + 1)). The hybrid is compared against the popularity baseline (what
opted-out shoppers get), popularity after the hybrid's own hard filters, and each of its signals alone.
"""

from __future__ import annotations

import math
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.personalization.recommender import Recommender
from assistant.settings import Settings
from assistant.shop.purchase_signals import PurchaseSignals
from assistant.store.purchases import PurchaseLine
from assistant.turn.understanding import Understanding
from knowledge.knowledge_store import KnowledgeStore

if TYPE_CHECKING:
    from assistant.shop.catalog_index import CatalogIndex
    from assistant.store.stores import Stores

ASK = Understanding(intent="recommendation")


@dataclass(frozen=True)
class Case:
    customer_id: str
    held_out: str
    history: tuple[str, ...]  # the rest of what they bought, newest first


@dataclass
class MethodScore:
    hits: int = 0
    gain: float = 0.0
    cases: int = 0

    def add(self, ranked: Sequence[str], held_out: str, k: int) -> None:
        self.cases += 1
        if held_out in ranked[:k]:
            self.hits += 1
            self.gain += 1.0 / math.log2(ranked.index(held_out) + 2)

    @property
    def hit_rate(self) -> float:
        return self.hits / self.cases if self.cases else 0.0

    @property
    def ndcg(self) -> float:
        return self.gain / self.cases if self.cases else 0.0


@dataclass
class RecommendationResult:
    """One shop's leave-one-out figures, per method."""

    shop: str
    products: int
    shoppers: int
    cases: int
    skipped_opted_out: int
    scores: dict[str, MethodScore] = field(default_factory=dict)


def leave_one_out(lines: Iterable[PurchaseLine], consumables: Iterable[str] = (),
                  category_of: Callable[[str], str | None] = lambda _pid: None
                  ) -> tuple[list[Case], dict[str, list[str]]]:
    """The cases, and every shopper's purchases without the held-out lines (for the shop-wide signals)."""
    consumable = set(consumables)
    by_customer: dict[str, list[PurchaseLine]] = defaultdict(list)
    for line in sorted(lines, key=lambda x: (x.placed_at, x.order_id, x.position)):
        by_customer[line.customer_id].append(line)
    cases: list[Case] = []
    training: dict[str, list[str]] = {}
    for customer_id, own in by_customer.items():
        products = [x.product_id for x in own]
        rest = products
        if len(set(products)) >= 2:
            first = {pid: i for i, pid in reversed(list(enumerate(products)))}
            newest = products[-1]
            if category_of(newest) in consumable:  # a consumable bought (again) last: hold out that line
                held, rest = newest, products[:-1]
            else:  # the product first bought last: hold out all its lines
                held = max(first, key=lambda pid: first[pid])
                rest = [pid for pid in products if pid != held]
            cases.append(Case(customer_id, held, tuple(dict.fromkeys(reversed(rest)))))
        training[customer_id] = rest
    return cases, training


def variants(settings: Settings) -> dict[str, Any]:
    """The methods compared: popularity (what opted-out shoppers get), popularity after the same hard filters
    as the hybrid (the profile's categories, budget, size, dislikes), each signal alone, and the hybrid."""
    r = settings.recommend
    return {
        "popularity": None,
        "popular, filtered": r.model_copy(update={"query_weight": 0.0, "content_weight": 0.0,
                                                 "copurchase_weight": 0.0, "brand_weight": 0.0,
                                                 "popularity_weight": 1.0}),
        "content": r.model_copy(update={"copurchase_weight": 0.0, "popularity_weight": 0.0}),
        "co-purchase": r.model_copy(update={"content_weight": 0.0, "popularity_weight": 0.01}),
        "hybrid": r,
    }


def evaluate(shop: str, stores: Stores, knowledge: KnowledgeStore, catalog: CatalogIndex, settings: Settings,
             k: int = 10,
             progress: Callable[[int, int], None] | None = None) -> RecommendationResult:
    """Leave-one-out over the shop's stores and its catalogue."""
    from assistant.store.db import session_factory
    from assistant.store.purchases import PurchaseStore

    lines = PurchaseStore(session_factory(stores.engine)).lines()
    cases, training = leave_one_out(lines, settings.recommend.consumable_categories,
                                    lambda pid: (catalog.get(pid) or {}).get("category"))
    signals = PurchaseSignals.from_histories(training)
    methods = {name: Recommender(knowledge, catalog, lambda: signals, weights, settings.profile)
               for name, weights in variants(settings).items()}
    result = RecommendationResult(shop, len(catalog.products), len({x.customer_id for x in lines}), 0, 0,
                        {name: MethodScore() for name in methods})
    for done, case in enumerate(cases, 1):
        profile = stores.customers.get(case.customer_id)
        if profile is None or not profile.consent.personalization:
            result.skipped_opted_out += 1
            continue
        result.cases += 1
        for name, recommender in methods.items():
            recs = recommender.popular(case.history, k) if name == "popularity" else \
                recommender.recommend("", ASK, profile, True, case.history, k)
            result.scores[name].add([r.product_id for r in recs], case.held_out, k)
        if progress:
            progress(done, len(cases))
    return result


def evaluate_folder(folder: Path, settings: Settings, k: int = 10, prefix: str = "evalrec_",
                    progress: Callable[[int, int], None] | None = None) -> RecommendationResult:
    """Import a shop folder's catalogue and customers into fresh temporary stores and evaluate there."""
    from assistant.components import build_components
    from assistant.shop.catalog_index import CatalogIndex
    from assistant.shop.shop_import import ShopLayout, import_customers
    from knowledge.catalog_import import import_catalog

    layout = ShopLayout(folder)
    if not layout.catalog or not layout.customers:
        raise ValueError(f"{folder}: a shop folder needs products.* and customers.* to evaluate recommendations")
    with tempfile.TemporaryDirectory(prefix="concierge-evalrec-") as tmp:
        local = settings.model_copy(deep=True, update={})
        local.app.data_dir = Path(tmp)
        local.database.url = None
        local.knowledge.path = None
        local.knowledge.collection_prefix = prefix
        components = build_components(local)
        try:
            max_bytes = int(local.knowledge.max_file_mb * 1_000_000)
            reports = [import_catalog(components.knowledge, layout.catalog, origin=f"{folder.name}/catalog",
                                      max_bytes=max_bytes),
                       import_customers(components.stores.customers, layout.customers,
                                        origin=f"{folder.name}/customers", max_bytes=max_bytes)]
            failed = [r.summary() for r in reports if not r.ok]
            if failed:
                raise ValueError(f"{folder}: import failed: {'; '.join(failed)}")
            catalog = CatalogIndex.load(components.knowledge)
            return evaluate(folder.name, components.stores, components.knowledge, catalog, local, k, progress)
        finally:
            components.stores.close()


def table_rows(results: Sequence[RecommendationResult]) -> list[list[str]]:
    """shop, cases, method, hit@k, NDCG@k, and the hit-rate difference to the popularity baseline."""
    rows = []
    for r in results:
        base = r.scores["popularity"]
        for name, score in r.scores.items():
            delta = f"{score.hit_rate - base.hit_rate:+.3f}" if name != "popularity" else "-"
            rows.append([r.shop, str(r.cases), name, f"{score.hit_rate:.3f}", f"{score.ndcg:.3f}", delta])
    return rows


def to_json(results: Sequence[RecommendationResult], k: int) -> dict[str, Any]:
    return {"k": k, "shops": [{
        "shop": r.shop, "products": r.products, "shoppers": r.shoppers, "cases": r.cases,
        "skipped_opted_out": r.skipped_opted_out,
        "methods": {name: {"hit_rate": round(s.hit_rate, 4), "ndcg": round(s.ndcg, 4), "hits": s.hits}
                    for name, s in r.scores.items()}} for r in results]}
