"""The knowledge store's filters on chunk metadata: as a Chroma ``where`` clause, and the same test in Python (for
a filtered search that ranks the nearest chunks first and filters them here, see
:meth:`knowledge.knowledge_store.KnowledgeStore._dense`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def passes_filters(metadata: Mapping[str, Any], filters: Mapping[str, Any] | None) -> bool:
    """Whether a chunk's metadata passes ``filters``: the same test as :func:`_where`'s clause in Chroma."""
    for key, value in (filters or {}).items():
        if value is None:
            continue
        if key in ("category", "brand", "source", "origin"):
            wanted = list(value) if isinstance(value, list | tuple | set) else [value]
            if metadata.get(key) not in wanted:
                return False
        elif key in ("max_price", "min_price"):
            price = metadata.get("price")
            if not isinstance(price, int | float) or isinstance(price, bool):
                return False
            if (key == "max_price" and price > float(value)) or (key == "min_price" and price < float(value)):
                return False
        elif key == "in_stock":
            if metadata.get("in_stock") is not bool(value):
                return False
        elif key == "tags":
            if any(metadata.get(f"tag_{tag}") is not True for tag in value):
                return False
        elif key == "exclude_ids":
            if value and metadata.get("product_id") in set(value):
                return False
        else:
            raise ValueError(f"unknown filter {key!r}")
    return True


def _where(filters: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Translate our filters into a Chroma ``where`` clause."""
    if not filters:
        return None
    clauses: list[dict[str, Any]] = []
    for key, value in filters.items():
        if value is None:
            continue
        if key == "category" or key == "brand" or key == "source" or key == "origin":
            if isinstance(value, list | tuple | set):
                clauses.append({key: {"$in": list(value)}})
            else:
                clauses.append({key: {"$eq": value}})
        elif key == "max_price":
            clauses.append({"price": {"$lte": float(value)}})
        elif key == "min_price":
            clauses.append({"price": {"$gte": float(value)}})
        elif key == "in_stock":
            clauses.append({"in_stock": {"$eq": bool(value)}})
        elif key == "tags":
            clauses.extend({f"tag_{tag}": {"$eq": True}} for tag in value)
        elif key == "exclude_ids":
            if value:
                clauses.append({"product_id": {"$nin": list(value)}})
        else:
            raise ValueError(f"unknown filter {key!r}")
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
