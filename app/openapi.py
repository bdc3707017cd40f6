"""The OpenAPI 3.1 document of the staff API. Request schemas come from the pydantic models that
also validate the requests, so the document cannot drift from what the API accepts."""
from pydantic import BaseModel

from .api import schemas

ERROR = {"$ref": "#/components/schemas/Error"}
OPERATIONS: list[tuple[str, str, str, str, type[BaseModel] | None, dict[str, str]]] = []


def operation(method: str, path: str, summary: str, roles: str, body: type[BaseModel] | None = None,
              responses: dict[str, str] | None = None) -> None:
    """Describe one API operation. Called once per operation at import time."""
    OPERATIONS.append((method, path, summary, roles, body, responses or {"200": "OK"}))


def document() -> dict:
    paths: dict = {}
    components = {"Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}}, "required": ["code", "message"]}}}}
    for method, path, summary, roles, body, responses in OPERATIONS:
        op: dict = {"summary": summary, "description": f"Roles: {roles}.",
                    "responses": {code: {"description": text} for code, text in responses.items()}}
        for code in ("400", "401", "403", "404", "409"):
            op["responses"].setdefault(code, {"description": "error",
                                              "content": {"application/json": {"schema": ERROR}}})
        params = [{"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
                  for part in path.split("/") if part.startswith("{")]
        if params:
            op["parameters"] = params
        if body is not None:
            schema = body.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in schema.pop("$defs", {}).items():
                components[name] = sub
            components[body.__name__] = schema
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{body.__name__}"}}}}
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "callguard staff API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "components": {"schemas": components, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }


operation("post", "/calls/{CallSid}/accept", "Take a ringing call", "call_handler, line_manager")
operation("post", "/calls/{CallSid}/warnings", "Warn the caller (T1)", "the call's handler, supervisor",
          schemas.WarningIn, {"201": "the warning"})
operation("post", "/calls/{CallSid}/need", "Record that a disability or need may be involved (T2)",
          "the call's handler, supervisor", schemas.NeedIn)
operation("post", "/calls/{CallSid}/termination", "End the call after a warning (T3-T5)",
          "the call's handler, supervisor", schemas.TerminationIn,
          {"201": "the termination", "200": "the same termination, repeated"})
operation("get", "/callers/{phone}", "A caller's flags as the role may see them", "staff")
operation("get", "/callbacks", "The line manager's queue, most urgent first", "line_manager")
operation("get", "/cases/{reference}/notes", "Case notes of an application or case (M3)", "staff")
operation("get", "/settings", "Organisation settings (wording, windows, thresholds)", "admin")
operation("put", "/settings/{key}", "Change one organisation setting: body {\"value\": ...}", "admin")
