"""Building the turn service from the components: the one place that knows how the pieces fit."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from assistant.components import Components
from assistant.graph import TurnDeps
from assistant.recommend import Recommender
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
) -> AssistantService:
    """The service over the components' stores; ``llm``/``offers``/``now`` may be replaced (tests)."""
    settings = components.settings
    catalog = components.catalog.get()
    clock = now or (lambda: datetime.now(UTC))
    offer_source = offers or components.stores.offers.all
    shop_tools = ShopTools(components.knowledge, catalog, components.stores.orders, offer_source, clock,
                           settings.agent.min_relevance)
    known_codes = {str(o["code"]) for o in offer_source()}
    deps = TurnDeps(
        settings=settings, shop_tools=shop_tools, catalog=catalog, customers=components.stores.customers,
        llm=llm if llm is not None else components.llm,
        verifier=Verifier(catalog, known_codes, settings.agent.support_threshold, components.embedder),
        recommender=Recommender(components.knowledge, catalog), now=clock,
    )
    return AssistantService(deps, components.stores)
