"""The OpenAPI document of the REST API (``/api/openapi.json``), made to say what the server does.

FastAPI documents what each route declares (its parameters, body, ``responses=`` and security dependencies). What
is true of every route is added here, once, by :func:`install_contract`, so no route can forget it:

- every error answer is :class:`ui.error_table.ErrorBody` (FastAPI's ``HTTPValidationError`` is replaced: its own
  input checks answer ``{"detail", "error"}`` too, ``ui.error_table.invalid_request``);
- a route with a request body may answer 422 (invalid, or JSON nested deeper than ``security.max_json_depth``),
  400 (a body that cannot be read: not UTF-8, a broken form), 413 (over the body limit) and 415 (a multipart
  body where no files are taken), the middleware's refusals; its body model is strict (:class:`RequestBody`);
- a route with a path parameter answers 404 for an unknown id;
- a route with a security requirement answers 401 without the right credential; a staff route 403 without the
  role; any write (POST, PUT, PATCH, DELETE) 403 when it comes from another site with the staff cookie;
- every route may answer 503 while a dependency (database, knowledge base, model) is down.

The security schemes (``components.securitySchemes``) come from the credential dependencies themselves:
``StaffKey`` (``X-API-Key``), ``StaffSession`` (``Authorization: Bearer <staff session token>``), ``StaffCookie``
(the ``concierge_staff`` session cookie) in ``ui.staff_auth``, and ``ShopperToken`` (``Authorization: Bearer
<shopper token>``) in ``ui.shopper_access``. Which credential a route needs is the security requirement FastAPI
derives from its dependencies.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict

from ui.error_table import MEANING, RETRY_AFTER, ErrorBody


class RequestBody(BaseModel):
    """The base of every JSON request body: types as the schema states them, never coerced (``"yes"`` or ``1`` is
    no boolean, ``5`` no string), so what the schema refuses the server refuses (422)."""

    model_config = ConfigDict(strict=True)


ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
STAFF_SCHEMES = frozenset({"StaffKey", "StaffSession", "StaffCookie"})
UNSAFE = frozenset({"post", "put", "patch", "delete"})
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: FastAPI's own validation error models, which no answer of this API has
FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")


def error_response(status: int, description: str | None = None) -> dict[str, Any]:
    """One documented error answer: its meaning and the :class:`ErrorBody` schema."""
    response: dict[str, Any] = {"description": description or MEANING.get(status, "An error."),
                                "content": {"application/json": {"schema": dict(ERROR_REF)}}}
    if status in (429, 503):
        response["headers"] = RETRY_AFTER
    return response


def statuses_of(method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses every operation like this one can answer (see the module's doc)."""
    found = [503]
    if "requestBody" in operation:
        found += [400, 413, 415, 422]
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        found.append(404)
    schemes = {name for requirement in operation.get("security", []) for name in requirement}
    if schemes:
        found.append(401)
    if schemes & STAFF_SCHEMES or method in UNSAFE:
        found.append(403)
    return found


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the statuses every route shares, each with :class:`ErrorBody`, and without FastAPI's
    validation error models."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for path_item in document.get("paths", {}).values():
        for method in METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in statuses_of(method, operation):
                responses.setdefault(str(status), error_response(status))
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    described = response.get("description")
                    generic = not described or described in ("Validation Error", "Successful Response")
                    response.update(error_response(int(status), None if generic else described))
    for name in FASTAPI_ERRORS:
        schemas.pop(name, None)
    return document


#: OpenAPI links: what an answer's ids open next, so API tools (Schemathesis' stateful phase) can follow a resource
#: through its life: (from method, path, status), link name, (to method, path), the to-operation's parameters
LINKS: tuple[tuple[tuple[str, str, str], str, tuple[str, str], dict[str, str]], ...] = (
    *((("post", "/api/v1/admin/offers", "201"), name, target, {"offer_id": "$response.body#/offer/id"})
      for name, target in (("ReadOffer", ("get", "/api/v1/admin/offers/{offer_id}")),
                           ("UpdateOffer", ("put", "/api/v1/admin/offers/{offer_id}")),
                           ("DisableOffer", ("post", "/api/v1/admin/offers/{offer_id}/disable")))),
    (("put", "/api/v1/admin/offers/{offer_id}", "200"), "DisableOffer",
     ("post", "/api/v1/admin/offers/{offer_id}/disable"), {"offer_id": "$response.body#/offer/id"}),
    *((("get", "/api/v1/handovers", "200"), name, target, {"handover_id": "$response.body#/0/id"})
      for name, target in (("ReadHandover", ("get", "/api/v1/handovers/{handover_id}")),
                           ("ClaimHandover", ("post", "/api/v1/handovers/{handover_id}/claim")))),
    *((("get", "/api/v1/copilot/queue", "200"), name, target, {"handover_id": "$response.body#/0/id"})
      for name, target in (("ClaimQueued", ("post", "/api/v1/handovers/{handover_id}/claim")),
                           ("OpenQueued", ("get", "/api/v1/copilot/handovers/{handover_id}")))),
    *((("post", "/api/v1/handovers/{handover_id}/claim", "200"), name, target, {"handover_id": "$response.body#/id"})
      for name, target in (("ResolveHandover", ("post", "/api/v1/handovers/{handover_id}/resolve")),
                           ("ReadClaimedHandover", ("get", "/api/v1/handovers/{handover_id}")))),
    *((("post", "/api/v1/chat", "200"), name, target, {"session_id": "$response.body#/session_id"})
      for name, target in (("ReadSession", ("get", "/api/v1/sessions/{session_id}")),
                           ("SessionUpdates", ("get", "/api/v1/sessions/{session_id}/updates")))),
)


def add_links(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with :data:`LINKS` between the operations it has (each named by its ``operationId``)."""
    paths = document.get("paths", {})

    def operation(method: str, path: str) -> dict[str, Any] | None:
        found = paths.get(path, {}).get(method)
        return found if isinstance(found, dict) else None

    for (method, path, status), name, (to_method, to_path), parameters in LINKS:
        source, target = operation(method, path), operation(to_method, to_path)
        response = source.get("responses", {}).get(status) if source is not None else None
        if response is None or target is None or "operationId" not in target:
            continue
        response.setdefault("links", {})[name] = {"operationId": target["operationId"], "parameters": parameters}
    return document


def install_contract(app: FastAPI) -> FastAPI:
    """Serve :func:`complete`'s document, with :func:`add_links`, at ``app.openapi_url``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, openapi_version=app.openapi_version,
                                   summary=app.summary, description=app.description, routes=app.routes,
                                   tags=app.openapi_tags, servers=app.servers)
            app.openapi_schema = add_links(complete(document))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
