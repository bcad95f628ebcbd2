"""Declared, validated requests for the JSON API, and the OpenAPI document generated from them.

Every route says what it takes with :func:`validate` (pydantic models for the JSON body, the query
string and multipart forms; spectree checks them and builds the document) and reads the checked
values with :func:`body` and :func:`args`. A wrong request answers 400 with the error shape of
``labelapp.web.errors`` and one line per wrong field (``labels[0]: Input should be a valid
string``); a body over :data:`MAX_JSON_BYTES` answers 413. Path ids above PostgreSQL's integer
range never match a route (404): :class:`IdConverter` replaces Flask's ``int`` converter.
"""

from __future__ import annotations

import json as jsonlib
import logging
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from flask import Flask, request
from pydantic import BaseModel, ValidationError
from spectree import Response, SpecTree
from spectree.model_adapter.pydantic_adapter import PydanticModelAdapter
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

import labelapp
from labelapp.api.schemas.common import INT32_MAX, ErrorBody
from labelapp.services.errors import UserError

log = logging.getLogger(__name__)

MAX_JSON_BYTES = 8 * 1024 * 1024
MAX_JSON_DEPTH = 32
# 409: also any write to an archived project (read-only; labelapp.web.access).
ERROR_CODES = (400, 401, 403, 404, 409)


class InvalidRequest(UserError):
    """A request whose body, query or form does not match the route's schema."""

    code = "invalid"


class IdConverter(IntegerConverter):
    """``<int:...>`` limited to what an ``integer`` column holds: a larger id matches no route.

    The limit is in the pattern, not only in ``to_python``: a path whose id fails conversion
    would otherwise answer 405 when another method's rule has the same path."""

    regex = (
        r"(?:\d{1,9}|1\d{9}|20\d{8}|21[0-3]\d{7}|214[0-6]\d{6}|2147[0-3]\d{5}"
        r"|21474[0-7]\d{4}|214748[0-2]\d{3}|2147483[0-5]\d{2}|21474836[0-3]\d"
        r"|214748364[0-7])"
    )  # 0 to 2**31 - 1

    def __init__(
        self,
        map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = INT32_MAX,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _where(model_title: str) -> str:
    return _PARTS.get(model_title, "body")


_PARTS: dict[str, str] = {}  # model name -> "query" | "body" | "form", for error messages
_OPTIONAL_BODY: set[str] = set()  # operation ids whose JSON body may be left out


def field_path(loc: tuple[Any, ...]) -> str:
    """``("labels", 0, "name")`` -> ``labels[0].name``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def error_lines(exc: ValidationError) -> list[str]:
    """One line per wrong field, e.g. ``labels[0]: Input should be a valid string``."""
    lines = []
    for err in exc.errors(include_url=False, include_input=False):
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{field_path(tuple(err['loc'])) or _where(exc.title)}: {msg}")
    return lines


def _before(req, resp, error, instance, adapter) -> None:
    """spectree's hook after request validation: a failure becomes our 400 error shape."""
    if isinstance(error, ValidationError):
        lines = error_lines(error)
        shown = "; ".join(lines[:3]) + (f"; and {len(lines) - 3} more" if len(lines) > 3 else "")
        raise InvalidRequest(f"invalid {_where(error.title)}: {shown}", lines)


def _after(req, resp, error, instance, adapter) -> None:
    """A response that breaks its own schema is a server bug: log which field."""
    if isinstance(error, ValidationError):
        log.error(
            "response of %s %s breaks its schema: %s",
            req.method,
            req.path,
            "; ".join(error_lines(error)),
        )


class _Adapter(PydanticModelAdapter):
    """pydantic for spectree; its error list never echoes the input (which may not be JSON)."""

    def validation_errors(self, err: ValidationError) -> Any:
        return err.errors(include_context=False, include_input=False, include_url=False)


spec = SpecTree(
    "flask",
    model_adapter=_Adapter(),
    mode="strict",
    annotations=False,
    title="labelapp API",
    version=labelapp.__version__,
    path="api/_spectree",  # spectree's own pages are never registered: /api/openapi.json serves
    validation_error_status=400,
    validation_error_model=ErrorBody,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    before=_before,
    after=_after,
)


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            stack.extend(
                (child, depth + 1) for child in (node.values() if isinstance(node, dict) else node)
            )
    return deepest


def _check_json_body() -> None:
    """The body is one JSON value of sane size and depth (spectree then checks its schema)."""
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise RequestEntityTooLarge(f"a JSON body may be at most {MAX_JSON_BYTES // 2**20} MiB")
    request.max_content_length = MAX_JSON_BYTES  # also bounds a body sent without a length
    if not request.is_json:
        raise UserError("send a JSON object with Content-Type: application/json")
    try:
        value = request.get_json(silent=True)
    except RecursionError:
        value, reason = None, f"nested more than {MAX_JSON_DEPTH} deep"
    else:
        reason = ""
    if value is None and not reason:
        try:
            jsonlib.loads(request.get_data(cache=True))
            reason = "null is not an object"
        except ValueError as exc:
            reason = str(exc)
        except RecursionError:
            reason = f"nested more than {MAX_JSON_DEPTH} deep"
    if not reason and _depth(value) > MAX_JSON_DEPTH:
        reason = f"nested more than {MAX_JSON_DEPTH} deep"
    if reason:
        raise InvalidRequest(f"the body is not a usable JSON object: {reason}")


def validate(
    *,
    json: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    form: type[BaseModel] | None = None,
    resp: Mapping[int, type[BaseModel] | None] | None = None,
    errors: tuple[int, ...] = (),
    optional_body: bool = False,
    public: bool = False,
    tags: tuple[str, ...] = (),
) -> Callable[[Callable], Callable]:
    """Declare and check a route's request (``json``, ``query``, ``form`` models) and its answers
    (``resp``: status -> model, None for no body); ``errors`` adds statuses beyond 400-404.
    ``optional_body``: a request without a body is checked as ``{}``.

    Put it below ``@login_required``, so that a caller who is not logged in hears 401 first.
    """
    codes: dict[str, Any] = {f"HTTP_{code}": model for code, model in (resp or {200: None}).items()}
    if not public:
        codes.update({f"HTTP_{code}": ErrorBody for code in ERROR_CODES})
    codes.update({f"HTTP_{code}": ErrorBody for code in errors})
    if json is not None or form is not None:
        codes["HTTP_400"] = codes["HTTP_413"] = ErrorBody
    for model, part in ((json, "body"), (query, "query"), (form, "form")):
        if model is not None:
            _PARTS[model.__name__] = part

    def decorate(func: Callable) -> Callable:
        checked = spec.validate(
            json=json,
            query=query,
            form=form,
            resp=Response(**codes),
            tags=tags,
            security={} if public else None,
            operation_id=func.__name__,
        )(func)
        if optional_body:
            _OPTIONAL_BODY.add(func.__name__)
        if json is None:
            return checked

        @wraps(checked)
        def with_json_body(*args: Any, **kwargs: Any) -> Any:
            if not (optional_body and not request.content_length and not request.is_json):
                _check_json_body()
            return checked(*args, **kwargs)

        return with_json_body

    return decorate


def body() -> Any:
    """The route's checked JSON body (its model instance)."""
    return request.context.json  # type: ignore[attr-defined]


def args() -> Any:
    """The route's checked query string (its model instance)."""
    return request.context.query  # type: ignore[attr-defined]


def form() -> Any:
    """The route's checked multipart form (its model instance)."""
    return request.context.form  # type: ignore[attr-defined]


# --- the document ---------------------------------------------------------------------------

PATH_PARAMETERS: dict[str, dict[str, Any]] = {}  # name -> schema for non-integer path parts


def _param_schema(param: dict[str, Any]) -> None:
    schema = param.get("schema") or {}
    if param["in"] == "path" and schema.get("type") == "integer":
        schema.setdefault("minimum", 0)
        schema.setdefault("maximum", INT32_MAX)
    if param["in"] == "path" and param["name"] in PATH_PARAMETERS:
        param["schema"] = dict(PATH_PARAMETERS[param["name"]])
    if param["in"] == "query" and "anyOf" in schema:  # Optional[X]: a query value is never null
        kept = [s for s in schema["anyOf"] if s.get("type") != "null"]
        if len(kept) == 1:
            rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
            param["schema"] = {**rest, **kept[0]}
    if not param.get("description"):
        param.pop("description", None)


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document, generated from the routes' declarations (copied: callers may
    change it)."""
    doc = jsonlib.loads(jsonlib.dumps(spec.spec))
    for operations in doc["paths"].values():
        for operation in operations.values():
            for param in operation.get("parameters", []):
                _param_schema(param)
            if operation.get("operationId") in _OPTIONAL_BODY:
                operation["requestBody"]["required"] = False
            if not operation.get("tags"):
                operation.pop("tags", None)
            if not operation.get("description"):
                operation.pop("description", None)
    doc["servers"] = [{"url": "/"}]
    doc["security"] = [{"bearer": []}, {"session": []}]
    doc["components"]["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "an API token: `labelapp users token NAME`",
        },
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": "session",
            "description": "the browser's login session (writes also need X-CSRFToken)",
        },
    }
    if not doc.get("tags"):
        doc.pop("tags", None)
    return doc


def init_app(app: Flask) -> None:
    """Before the blueprints are registered: ids in URLs are limited to the integer range."""
    app.url_map.converters["int"] = IdConverter
