"""Building the turn service from the components: the one place that knows how the pieces fit."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from assistant.bandit import OfferChooser, build_policy
from assistant.components import Components
from assistant.graph import TurnDeps
from assistant.order_actions import OrderActions
from assistant.recommend import build_recommender
from assistant.service import AssistantService
from assistant.tools import ShopTools
from assistant.verify import Verifier

CODE = re.compile(r"^[A-Z0-9-]{3,32}$")


def build_assistant(
    components: Components,
    *,
    llm: Any = None,
    offers: Callable[[], Sequence[Mapping[str, Any]]] | None = None,
    now: Callable[[], datetime] | None = None,
    rng: Any = None,
) -> AssistantService:
    """The service over the components' stores; ``llm``/``offers``/``now`` and the offer policy's random
    generator ``rng`` (a ``numpy.random.Generator``) may be replaced (tests)."""
    settings = components.settings
    catalog = components.catalog.get()
    clock = now or (lambda: datetime.now(UTC))
    offer_source = offers or components.stores.offers.all
    if rng is None:
        import numpy as np

        rng = np.random.default_rng(settings.offers.seed)
    chooser = OfferChooser(components.stores.bandit,
                           build_policy(settings.offers.policy, settings.offers.propensity_draws), rng)
    shop_tools = ShopTools(components.knowledge, catalog, components.stores.orders, offer_source, clock,
                           settings.agent.min_relevance, events=components.stores.events, chooser=chooser)
    known_codes = {str(o["code"]) for o in offer_source()}
    deps = TurnDeps(
        settings=settings, shop_tools=shop_tools, catalog=catalog, customers=components.stores.customers,
        llm=llm if llm is not None else components.llm,
        verifier=Verifier(catalog, known_codes, settings.agent.support_threshold, components.embedder),
        recommender=build_recommender(components.knowledge, catalog, components.stores, settings, clock), now=clock,
        stores=components.stores, actions=OrderActions(components.stores.orders, catalog, settings.orders),
    )
    return AssistantService(deps, components.stores)
