"""Shop-wide purchase signals for the recommender: co-purchase counts and purchase popularity.

Computed from every shopper's purchases (``PurchaseStore.lines``) once, cached, and recomputed on demand
(``SignalsCache.refresh``, e.g. after an import) or when older than ``recommend.signals_max_age_s``.
Only counts leave this module: never who bought what.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from assistant.store.purchases import PurchaseLine

#: distinct products per shopper counted for co-purchases (keeps a bulk buyer from dominating, and the cost bounded)
MAX_BASKET = 50


@dataclass(frozen=True)
class PurchaseSignals:
    """Per product: how many shoppers bought it; per pair: how many shoppers bought both."""

    buyers: Mapping[str, int] = field(default_factory=dict)
    together: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    shoppers: int = 0

    @classmethod
    def from_histories(cls, histories: Mapping[str, Iterable[str]]) -> PurchaseSignals:
        """``histories``: shopper -> the products they bought (any order, repeats allowed)."""
        buyers: Counter[str] = Counter()
        together: dict[str, Counter[str]] = defaultdict(Counter)
        shoppers = 0
        for products in histories.values():
            basket = list(dict.fromkeys(products))[-MAX_BASKET:]
            if not basket:
                continue
            shoppers += 1
            buyers.update(basket)
            for i, a in enumerate(basket):
                for b in basket[i + 1:]:
                    together[a][b] += 1
                    together[b][a] += 1
        return cls(dict(buyers), {k: dict(v) for k, v in together.items()}, shoppers)

    @classmethod
    def from_lines(cls, lines: Iterable[PurchaseLine]) -> PurchaseSignals:
        histories: dict[str, list[str]] = defaultdict(list)
        for line in lines:
            histories[line.customer_id].append(line.product_id)
        return cls.from_histories(histories)

    @cached_property
    def best_seller(self) -> int:
        return max(self.buyers.values(), default=0)

    def popularity(self, product_id: str) -> float:
        """0..1: how many shoppers bought it, log-scaled against the best seller."""
        top = self.best_seller
        return math.log1p(self.buyers.get(product_id, 0)) / math.log1p(top) if top else 0.0

    def copurchase(self, product_id: str, history: Sequence[str]) -> tuple[float, str | None]:
        """How strongly other shoppers who bought what is in ``history`` also bought ``product_id`` (cosine
        of buyer sets, summed over the history), and the history product that contributes most. When
        ``product_id`` is itself in ``history`` (a consumable bought again) the shopper's own basket is left
        out of the counts."""
        mine = 1 if product_id in history else 0  # the shopper's own basket is not a signal about others
        n = self.buyers.get(product_id, 0) - mine
        if n <= 0:
            return 0.0, None
        total, best, best_value = 0.0, None, 0.0
        for owned in dict.fromkeys(history):
            if owned == product_id:
                continue
            both = self.together.get(owned, {}).get(product_id, 0) - mine
            if both > 0:
                value = both / math.sqrt(n * max(1, self.buyers.get(owned, 1) - mine))
                total += value
                if value > best_value:
                    best, best_value = owned, value
        return total, best


class SignalsCache:
    """The current signals, computed once and shared; recomputed when stale or on ``refresh()``."""

    def __init__(self, load: Callable[[], PurchaseSignals], max_age_s: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self._max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._signals: PurchaseSignals | None = None
        self._at = 0.0

    def get(self) -> PurchaseSignals:
        with self._lock:
            stale = self._max_age_s > 0 and self._clock() - self._at > self._max_age_s
            if self._signals is None or stale:
                self._signals, self._at = self._load(), self._clock()
            return self._signals

    def refresh(self) -> PurchaseSignals:
        with self._lock:
            self._signals, self._at = self._load(), self._clock()
            return self._signals

    __call__ = get
