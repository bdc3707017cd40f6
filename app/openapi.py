"""The OpenAPI 3.1 document of the staff API. Request schemas come from the pydantic models that
also validate the requests, so the document cannot drift from what the API accepts."""
from pydantic import BaseModel

from .api import callback_schemas, schemas

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
operation("post", "/callbacks/{id}/claim", "Claim an open callback task (exactly one of concurrent claims wins)",
          "line_manager", None, {"200": "the task", "409": "already_claimed", "404": "not in your teams"})
operation("post", "/callbacks/{id}/release", "Hand a claimed task back to the queue, in its old place",
          "the claimant, admin")
operation("post", "/callbacks/{id}/dial", "Call the customer back: the manager's phone first, then the customer (M1)",
          "the claimant", None, {"202": "the task, the callback's call_sid and the M1 script"})
operation("post", "/callbacks/{id}/outcome", "Record the outcome and its case note (M1, M2; no_answer retries)",
          "the claimant", schemas.OutcomeIn)
operation("post", "/callbacks/{id}/cancel", "Cancel one task with a reason", "line_manager, admin",
          callback_schemas.CancelIn)
operation("post", "/callbacks/{id}/reassign", "Give a task to another line manager", "admin",
          callback_schemas.ReassignIn)
operation("put", "/callbacks/deputy", "Hand your queue to a deputy while away (null takes it back)", "line_manager",
          callback_schemas.DeputyIn)
operation("get", "/incidents", "Incident records you work on, and those awaiting your acknowledgement", "staff")
operation("get", "/incidents/{id}", "One incident record with its email deliveries", "staff who may see it")
operation("put", "/incidents/{id}", "Fill in the record: I1 fields, RIDDOR, breach, I3 welfare steps (I2)",
          "staff who may see it", callback_schemas.IncidentIn)
operation("post", "/incidents/{id}/complete", "Complete and distribute the record (I4)", "line_manager")
operation("post", "/incidents/{id}/acknowledge", "The staff member reads and signs the record (I3)",
          "the staff member")
operation("post", "/incidents/{id}/police-decision", "Record the senior officer's decision about the police (I7)",
          "supervisor, admin", callback_schemas.PoliceDecisionIn)
