"""The staff API's request validation and its OpenAPI 3.1 document, both from one declaration per route.

Each API view carries `@operation(summary, Model, responses, out=Model)` under its route and role
decorators. spectree (README "Dependencies") validates the JSON body against `body`
before the view runs (the view receives it as its `body` argument) and generates `/openapi.json` from the
routes so declared, so the document cannot drift from what the API accepts. A body that fails its
model raises pydantic's ValidationError, answered by app/api/errors.py in the API's one error shape
(400 invalid_input, CONTRACT).
"""
import functools
from typing import Any

from flask import current_app, request
from pydantic import BaseModel
from spectree import Response, SpecTree
from spectree.models import SecureType, SecurityScheme, SecuritySchemeData, Server
from spectree.plugins.base import Context
from spectree.plugins.flask_plugin import FlaskPlugin

from call_flows import settings as org_settings
from call_flows.errors import InvalidInput

from .routing import MAX_ID

PREFIX = "/api/v1"
ERROR_CODES = ("400", "401", "403", "404", "409")  # every operation may answer these (CONTRACT)
# Path parameters by their documented name: record ids are positive integers that fit the database's
# integer columns; a setting is one of the organisation's setting keys; anything else is text.
PATH_PARAMETERS: dict[str, dict] = {
    "id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "key": {"type": "string", "enum": sorted(org_settings.DEFAULTS)},
}
RENAMED = {"call_sid": "CallSid"}  # Flask's variable name -> the name CONTRACT uses; int ids are all `id`


class ErrorBody(BaseModel):
    code: str
    message: str


class Error(BaseModel):
    """The API's one error shape (CONTRACT)."""

    error: ErrorBody


def json_body() -> dict:
    """The request's JSON object ({} when there is no body), or InvalidInput (400)."""
    data = request.get_json(silent=True)
    if data is None and not request.data:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    return data


class ApiPlugin(FlaskPlugin):
    """spectree's Flask plugin with the API's conventions: paths relative to /api/v1 with CONTRACT's
    parameter names and bounds, the body read as `json_body` reads it, and responses left as the
    views shaped them (they answer through their own models, app/api/call_schemas.py)."""

    def parse_path(self, route, path_parameter_descriptions):
        path, parameters = super().parse_path(route, path_parameter_descriptions)
        for param in parameters:
            name = "id" if param["schema"].get("type") == "integer" else RENAMED.get(param["name"], param["name"])
            path = path.replace("{" + param["name"] + "}", "{" + name + "}")
            param.update(name=name, schema=PATH_PARAMETERS.get(name, {"type": "string"}))
        return path.removeprefix(PREFIX), parameters

    def request_validation(self, request, query, json, form, headers, cookies):
        body = self.model_adapter.validate_obj(json, json_body()) if json else None
        request.context = Context(None, body, None, None, None)

    def validate_response(self, resp, resp_model, skip_validation, force_resp_serialize):
        return super().validate_response(resp, None, True, False)


def _raise(req, resp, error, instance, model_adapter) -> None:
    """A body that fails its model: the blueprint's ValidationError handler answers (400 invalid_input)."""
    if error is not None:
        raise error


api = SpecTree(
    "flask", backend=ApiPlugin, mode="strict", annotations=False, before=_raise, validation_error_status=400,
    validation_error_model=Error, naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child, title="callguard staff API", version="1",
    servers=[Server(url=PREFIX)],
    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer"))],
    security={"bearer": []})


def operation(summary: str, body: type[BaseModel] | None = None, responses: dict[str, str] | None = None,
              out: type[BaseModel] | None = None, query: type[BaseModel] | None = None, who: str | None = None):
    """Declare an API operation: what it does (the document's summary), its JSON body model (validated
    before the view runs), its responses by status code (`out`: the model of the first, its success
    body), its query model (documented only) and `who` may call it when that says more than the
    route's roles (the document lists those otherwise, from the route's access policy)."""
    responses = responses or {"200": "OK"}
    codes: dict[str, Any] = {}
    first = next(iter(responses))
    for code, text in responses.items():
        model = out if code == first and out else Error if code.startswith("4") else None
        codes[f"HTTP_{code}"] = (model, text)
    for code in ERROR_CODES:
        codes.setdefault(f"HTTP_{code}", (Error, "error"))
    validate = api.validate(json=body, query=query, resp=Response(**codes))

    def decorate(view):
        validated = validate(_with_body(view) if body is not None else view)
        validated.__doc__ = summary + (f"\n\nRoles: {who}." if who else "")
        return validated

    return decorate


def _with_body(view):
    """Hand the view the request body as the operation's model validated it, as `body`."""

    @functools.wraps(view)
    def with_body(*args: Any, **kwargs: Any) -> Any:
        return view(*args, body=request.context.json, **kwargs)  # type: ignore[attr-defined]

    return with_body


def document() -> dict:
    """/openapi.json: spectree's document, with each operation's roles (from its access policy unless
    it says who) and a body whose fields are all optional marked as one that may be left out (the API
    reads a missing body as {})."""
    spec = api.spec
    schemas = spec["components"]["schemas"]
    for rule in current_app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            path = api.backend.parse_path(rule, None)[0]
            view: Any = current_app.view_functions[rule.endpoint]  # carries its access policy (app/access.py)
            roles = ", ".join(view.access.roles)
            for op in spec["paths"].get(path, {}).values():
                op["description"] = op["description"] or f"Roles: {roles}."
    for operations in spec["paths"].values():
        for op in operations.values():
            if "requestBody" in op:
                name = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                op["requestBody"]["required"] = bool(schemas[name].get("required"))
    return spec
