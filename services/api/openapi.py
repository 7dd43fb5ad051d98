"""The OpenAPI document: FastAPI's, plus the models of bodies that routes parse themselves.

A few routes take their JSON body as it comes and parse it themselves, so that a 422 names the
JSON path at fault (``$.steps[1].input``) and limits are checked before the body is modelled.
FastAPI cannot see their model then. ``typed_body(Model)`` declares it as the route's request
body, and ``install(app)`` adds each such model's schema (and the models it uses) to the
document's components, so clients and generators see the real shape.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

REF = "#/components/schemas/{model}"
_declared: list[type[BaseModel]] = []


def typed_body(model: type[BaseModel], description: str = "") -> dict[str, Any]:
    """``openapi_extra`` for a route whose raw JSON body is a ``model``."""
    if model not in _declared:
        _declared.append(model)
    schema = {"$ref": REF.format(model=model.__name__)}
    body: dict[str, Any] = {"required": True, "content": {"application/json": {"schema": schema}}}
    if description:
        body["description"] = description
    return {"requestBody": body}


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` include the models declared with ``typed_body``."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for model in _declared:
            schema = model.model_json_schema(ref_template=REF)
            for name, sub in {**schema.pop("$defs", {}), model.__name__: schema}.items():
                if name in schemas and schemas[name] != sub:
                    raise RuntimeError(f"two OpenAPI schemas named {name}")
                schemas[name] = sub
        return document

    app.openapi = openapi  # type: ignore[method-assign]
