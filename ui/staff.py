"""The staff API key: routes for the shop's staff (review queues) need ``X-API-Key: <security.staff_api_key>``."""

import secrets
from collections.abc import Callable
from typing import Annotated

from fastapi import Header, HTTPException

from assistant.settings import SecuritySettings


def staff_guard(security: SecuritySettings) -> Callable[..., None]:
    """A FastAPI dependency: 401 without the right key; 403 while no key is configured."""

    def require_staff(x_api_key: Annotated[str | None, Header()] = None) -> None:
        key = security.staff_api_key.get_secret_value()
        if not key:
            raise HTTPException(403, "the staff API is off: set security.staff_api_key "
                                     "(CONCIERGE_SECURITY__STAFF_API_KEY) to enable it")
        if not x_api_key or not secrets.compare_digest(x_api_key.encode(), key.encode()):
            raise HTTPException(401, "missing or wrong staff key: send 'X-API-Key: <staff key>'")

    return require_staff
