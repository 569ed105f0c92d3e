"""The OpenAPI 3.1 document of the REST API, generated from the models' fields.

>>> document = openapi_document(env)                          # doctest: +SKIP
>>> sorted(document["components"]["schemas"]["sale.order"]["properties"])[:3]
['amount_tax', 'amount_total', 'amount_untaxed']

One set of schemas and paths per model the API serves: models that are not abstract
and that at least one access-right row (``ir.model.access``) names. The document is
the same for every caller, so it leaves out every field restricted by ``groups=``:
it must not tell a portal user what an internal field is called. Such fields still
appear in the responses of users in those groups (response schemas allow more
properties than they list).

Values follow :func:`bastion.api.dispatch.plain`, as the REST layer shapes them:
``false`` for an empty value, many2one as ``[id, name]`` (the name ``false`` when the
caller may not read that record) and an id in requests, x2many as arrays of ids,
dates as ``YYYY-MM-DD``, datetimes in UTC as ``YYYY-MM-DDTHH:MM:SSZ``, binary as base64.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from bastion.domain.nodes import ALL_OPERATORS
from bastion.domain.schema import INT_MAX, INT_MIN
from bastion.orm.fields import NOT_SET
from bastion.security import SecurityPolicy

if TYPE_CHECKING:
    from bastion.orm import Environment
    from bastion.orm.fields import Field
    from bastion.orm.schema import ModelSpec
    from bastion.security.state import SecurityState

PREFIX = "/api/v1"
MAX_PAGE = 1000
DEFAULT_PAGE = 80

Schema = dict[str, Any]
FALSE: Schema = {"const": False}
ERROR_STATUSES = {
    "401": "No API key, or an invalid, expired or revoked one (`unauthorized`).",
    "403": "The caller's rights or the key's scope forbid this (`access_denied`).",
    "404": "No such model, or no such record readable by the caller (`not_found`).",
    "422": "Bad arguments: `invalid_arguments`, `unknown_field`, `invalid_domain`, "
    "`validation_error`.",
    "429": "Too many requests for this key (`rate_limited`); see `Retry-After`.",
}


def security_state(env: Environment) -> SecurityState:
    """The security data ``env``'s transaction sees (access rights, rules, groups)."""
    policy = env.registry.security
    assert isinstance(policy, SecurityPolicy), "a registry without bastion.security"
    return policy.state(env)


def api_models(env: Environment) -> list[str]:
    """Models the REST API serves, sorted: not abstract, named by an access right."""
    access = security_state(env).access
    return sorted(
        name for name, spec in env.registry.specs.items() if not spec.abstract and access.get(name)
    )


def public_fields(spec: ModelSpec) -> list[Field]:
    """The fields the document shows: those no ``groups=`` restricts."""
    return [f for f in spec.fields.values() if f.groups is None]


def openapi_document(env: Environment) -> dict[str, Any]:
    """The whole document for the models of ``env``'s registry."""
    schemas: dict[str, Schema] = {"Error": _error_schema()}
    paths: dict[str, Any] = {}
    for name in api_models(env):
        spec = env.registry.specs[name]
        schemas.update(model_schemas(spec))
        paths.update(model_paths(spec))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Bastion REST API",
            "version": "1",
            "description": (
                "Records of every model, read and written with the rights of the API "
                'key\'s user. Errors are JSON: {"error": {"code": ..., "message": ...}}.'
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {status: _error_response(text) for status, text in ERROR_STATUSES.items()},
            "headers": _rate_limit_headers(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key: Authorization: Bearer bst_...",
                }
            },
        },
        "security": [{"bearerAuth": []}],
    }


# -- schemas ---------------------------------------------------------------------------
def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _or_false(schema: Schema, field: Field) -> Schema:
    """Odoo's empty value: ``false``, except for a required field."""
    return schema if field.required else {"anyOf": [schema, FALSE]}


def value_schema(field: Field, *, request: bool) -> Schema:
    """The JSON Schema of one field's value in a response, or in a request body."""
    kind = field.type
    schema: Schema
    if kind in ("char", "text", "html"):
        schema = _or_false({"type": "string"}, field)
    elif kind == "selection":
        schema = _or_false({"type": "string", "enum": list(field.selection_values)}, field)
    elif kind == "integer":
        schema = {"type": "integer"}
        if request:
            schema.update(minimum=INT_MIN, maximum=INT_MAX)
    elif kind == "float":
        schema = {"type": "number"}
    elif kind == "boolean":
        schema = {"type": "boolean"}
    elif kind == "date":
        schema = _or_false({"type": "string", "format": "date"}, field)
    elif kind == "datetime":
        schema = _or_false({"type": "string", "format": "date-time"}, field)
    elif kind == "binary":
        schema = _or_false({"type": "string", "contentEncoding": "base64"}, field)
    elif kind == "many2one":
        if request:
            schema = _or_false({"type": "integer", "minimum": 1, "maximum": INT_MAX}, field)
        else:
            # [id, display name]. Not written with prefixItems: schemathesis 4 rewrites
            # those into a form its own response validation then rejects.
            pair = {
                "type": "array",
                "description": "[id, display name]; the name is false when the caller "
                "may not read that record",
                "items": {"anyOf": [{"type": "integer"}, {"type": "string"}, FALSE]},
                "minItems": 2,
                "maxItems": 2,
            }
            schema = _or_false(pair, field)
    elif kind in ("one2many", "many2many"):
        item: Schema = {"type": "integer", "minimum": 1}
        if request:
            item["maximum"] = INT_MAX
        schema = {"type": "array", "items": item}
    else:  # a field type this document does not know yet: any JSON value
        schema = {}
    if field.string:
        schema = {**schema, "title": str(field.string)}
    if field.help:
        schema = {**schema, "description": str(field.help)}
    return schema


def _writable(field: Field) -> bool:
    return field.name != "id" and field.store and not field.readonly


def model_schemas(spec: ModelSpec) -> dict[str, Schema]:
    """``<model>`` (a record as read), ``<model>-create``, ``<model>-update`` and
    ``<model>-page`` (a list answer). Model names hold no ``-``: no name clashes."""
    name = spec.model_name
    shown = public_fields(spec)
    record: Schema = {
        "type": "object",
        "title": spec.description or name,
        "properties": {f.name: value_schema(f, request=False) for f in shown},
        "required": ["id"],
    }
    writable = [f for f in shown if _writable(f)]
    properties = {f.name: value_schema(f, request=True) for f in writable}
    # A boolean left out is stored as false: required or not, a body may omit it.
    required = sorted(
        f.name for f in writable if f.required and _has_no_default(f) and f.type != "boolean"
    )
    create: Schema = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        create["required"] = required
    update: Schema = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    page: Schema = {
        "type": "object",
        "required": ["data", "count", "limit", "offset", "links"],
        "properties": {
            "data": {"type": "array", "items": _ref(name)},
            "count": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            "offset": {"type": "integer", "minimum": 0},
            "links": {
                "type": "object",
                "required": ["self", "next", "prev"],
                "properties": {
                    rel: {"anyOf": [{"type": "string"}, {"type": "null"}]}
                    for rel in ("self", "next", "prev")
                },
            },
        },
    }
    return {name: record, f"{name}-create": create, f"{name}-update": update, f"{name}-page": page}


def _has_no_default(field: Field) -> bool:
    return field.default is NOT_SET


def domain_schema(spec: ModelSpec) -> Schema:
    """A domain in prefix notation, as JSON: ``[["state", "=", "sale"], "|", ...]``."""
    names = sorted({"id", *(f.name for f in public_fields(spec))})
    term = {
        "type": "array",
        "prefixItems": [
            {"type": "string", "examples": names},
            {"type": "string", "enum": sorted(ALL_OPERATORS)},
            {},
        ],
        "items": False,
        "minItems": 3,
    }
    return {"type": "array", "items": {"anyOf": [{"enum": ["&", "|", "!"]}, term]}}


def _error_schema() -> Schema:
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    }


# -- paths -----------------------------------------------------------------------------
def _error_response(text: str) -> dict[str, Any]:
    return {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}


def _rate_limit_headers() -> dict[str, Any]:
    return {
        "X-RateLimit-Limit": {
            "description": "Requests allowed per window for this key.",
            "schema": {"type": "integer"},
        },
        "X-RateLimit-Remaining": {
            "description": "Requests left in the current window.",
            "schema": {"type": "integer"},
        },
        "X-RateLimit-Reset": {
            "description": "Unix time when the window has room again.",
            "schema": {"type": "integer"},
        },
        "Retry-After": {
            "description": "Seconds to wait before the next request (429 only).",
            "schema": {"type": "integer"},
        },
    }


def _responses(ok: dict[str, Any], errors: Iterable[str]) -> dict[str, Any]:
    found: dict[str, Any] = dict(ok)
    for status in errors:
        found[status] = {"$ref": f"#/components/responses/{status}"}
    found["default"] = _error_response("Any other error (405, 413, 503), as the same JSON.")
    return found


def _json(schema: Schema, description: str, headers: dict[str, Any] | None = None) -> Any:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def _header_ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/headers/{name}"}


def _fields_parameter() -> dict[str, Any]:
    return {
        "name": "fields",
        "in": "query",
        "description": "Field names to return, comma separated (default: every field).",
        "schema": {"type": "string"},
    }


def model_paths(spec: ModelSpec) -> dict[str, Any]:
    name = spec.model_name
    op = name.replace(".", "_")
    limits = {h: _header_ref(h) for h in ("X-RateLimit-Limit", "X-RateLimit-Remaining")}
    record_id = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
    collection = {
        "get": {
            "operationId": f"list_{op}",
            "summary": f"Search {name} records",
            "tags": [name],
            "parameters": [
                {
                    "name": "domain",
                    "in": "query",
                    "description": "An Odoo domain, as JSON text.",
                    "content": {"application/json": {"schema": domain_schema(spec)}},
                },
                _fields_parameter(),
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_PAGE,
                        "default": DEFAULT_PAGE,
                    },
                },
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                {
                    "name": "order",
                    "in": "query",
                    "description": "Such as 'name desc, id'.",
                    "schema": {"type": "string"},
                },
            ],
            "responses": _responses(
                {
                    "200": _json(
                        _ref(f"{name}-page"),
                        "One page of records; the Link header names the next and previous.",
                        {**limits, "Link": {"schema": {"type": "string"}}},
                    )
                },
                ("401", "403", "404", "422", "429"),
            ),
        },
        "post": {
            "operationId": f"create_{op}",
            "summary": f"Create a {name} record",
            "tags": [name],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref(f"{name}-create")}},
            },
            "responses": _responses(
                {
                    "201": _json(
                        _ref(name),
                        "The record created, as the caller reads it.",
                        {**limits, "Location": {"schema": {"type": "string"}}},
                    )
                },
                ("401", "403", "404", "422", "429"),
            ),
        },
    }
    item = {
        "parameters": [record_id],
        "get": {
            "operationId": f"get_{op}",
            "summary": f"Read one {name} record",
            "tags": [name],
            "parameters": [
                _fields_parameter(),
                {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
            ],
            "responses": _responses(
                {
                    "200": _json(
                        _ref(name),
                        "The record.",
                        {**limits, "ETag": {"schema": {"type": "string"}}},
                    ),
                    "304": {"description": "Not modified: the ETag still matches."},
                },
                ("401", "403", "404", "422", "429"),
            ),
        },
        "patch": {
            "operationId": f"update_{op}",
            "summary": f"Write on one {name} record",
            "tags": [name],
            "parameters": [{"name": "If-Match", "in": "header", "schema": {"type": "string"}}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref(f"{name}-update")}},
            },
            "responses": _responses(
                {
                    "200": _json(_ref(name), "The record after the write.", limits),
                    "412": _error_response(
                        "If-Match names another version (`precondition_failed`)."
                    ),
                },
                ("401", "403", "404", "422", "429"),
            ),
        },
        "delete": {
            "operationId": f"delete_{op}",
            "summary": f"Delete one {name} record",
            "tags": [name],
            "responses": _responses(
                {"204": {"description": "Deleted."}}, ("401", "403", "404", "422", "429")
            ),
        },
    }
    return {f"{PREFIX}/{name}": collection, f"{PREFIX}/{name}/{{id}}": item}
