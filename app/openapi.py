"""The OpenAPI 3.1 document of the staff API. Request schemas come from the pydantic models that
also validate the requests, so the document cannot drift from what the API accepts."""
from pydantic import BaseModel

from call_flows import settings as org_settings
from call_flows.vocabulary import Role

from .api import call_schemas, callback_schemas, schemas

ERROR = {"$ref": "#/components/schemas/Error"}
# Path parameters that are not free text: record ids are positive integers that fit the database's
# integer columns; a setting is one of the organisation's setting keys.
PATH_PARAMETERS: dict[str, dict] = {
    "id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    "key": {"type": "string", "enum": sorted(org_settings.DEFAULTS)},
}
OPERATIONS: list[tuple[str, str, str, str, type[BaseModel] | None, dict[str, str]]] = []
RESPONSE_MODELS: dict[tuple[str, str], type[BaseModel]] = {}
QUERY_PARAMETERS: dict[tuple[str, str], list[dict]] = {}


def operation(method: str, path: str, summary: str, roles: str, body: type[BaseModel] | None = None,
              responses: dict[str, str] | None = None, out: type[BaseModel] | None = None) -> None:
    """Describe one API operation. Called once per operation at import time. `out`: the model of its
    success body (the first of `responses`)."""
    OPERATIONS.append((method, path, summary, roles, body, responses or {"200": "OK"}))
    if out is not None:
        RESPONSE_MODELS[(method, path)] = out


def _schema_ref(model: type[BaseModel], components: dict) -> dict:
    """Put `model` (and the models it uses) in the components; return a $ref to it."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _response(code: str, text: str) -> dict:
    """A documented response; every 4xx is the API's JSON error shape (CONTRACT)."""
    if code.startswith("4"):
        return {"description": text, "content": {"application/json": {"schema": ERROR}}}
    return {"description": text}


def document() -> dict:
    paths: dict = {}
    components = {"Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}}, "required": ["code", "message"]}}}}
    for method, path, summary, roles, body, responses in OPERATIONS:
        op: dict = {"summary": summary, "description": f"Roles: {roles}.",
                    "responses": {code: _response(code, text) for code, text in responses.items()}}
        for code in ("400", "401", "403", "404", "409"):
            op["responses"].setdefault(code, {"description": "error",
                                              "content": {"application/json": {"schema": ERROR}}})
        params = [{"name": part[1:-1], "in": "path", "required": True,
                   "schema": PATH_PARAMETERS.get(part[1:-1], {"type": "string"})}
                  for part in path.split("/") if part.startswith("{")]
        params += QUERY_PARAMETERS.get((method, path), [])
        if params:
            op["parameters"] = params
        if body is not None:
            schema_ref = _schema_ref(body, components)
            # a body whose fields are all optional may be left out (the API reads a missing body as {})
            op["requestBody"] = {"required": bool(components[body.__name__].get("required")),
                                 "content": {"application/json": {"schema": schema_ref}}}
        if (method, path) in RESPONSE_MODELS:
            success = next(iter(responses))
            op["responses"][success]["content"] = {"application/json": {
                "schema": _schema_ref(RESPONSE_MODELS[(method, path)], components)}}
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "callguard staff API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "components": {"schemas": components, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }


operation("get", "/calls", "Call history and search, newest first, a page of 25 at a time (R9: their teams)",
          "line_manager, supervisor, admin", None,
          {"200": "a page of calls", "400": "invalid_phone; invalid_input (a date or page)",
           "403": "forbidden (another role; a name search without a register role)",
           "404": "a team you may not see"}, out=call_schemas.CallHistoryOut)
QUERY_PARAMETERS[("get", "/calls")] = [
    {"name": name, "in": "query", "required": False, "description": text, "schema": schema}
    for name, text, schema in (
        ("phone", "the caller's number in any common format (matched as E.164)", {"type": "string"}),
        ("case_reference", "calls with this case reference (termination, case note or incident)", {"type": "string"}),
        ("name", "a caution register name (register roles only; audited, R9)", {"type": "string"}),
        ("since", "ISO date (from the start of that local day) or date-time", {"type": "string"}),
        ("until", "ISO date (to the end of that local day) or date-time", {"type": "string"}),
        ("team", "a team's name or id", {"type": "string"}),
        ("page", "1-based page number", {"type": "integer", "minimum": 1, "maximum": 100000}))]
operation("get", "/calls/{CallSid}", "One call: caller, times, handler, flags at ring time, warnings and termination "
          "with what the caller's leg did (platform_status)", "the call's handler, its team's line managers and "
          "supervisors, admin (anyone else: 404)", None, {"200": "the call", "404": "no such call you may read"},
          out=call_schemas.CallOut)
CALL_ENDED = "call_ended: the call has ended or was terminated"
CALL_ACTORS = ("the call's handler, or a supervisor of its team (else 404; 409 not_answered on a call nobody "
               "has taken)")
operation("post", "/calls/{CallSid}/accept", "Take a ringing call", "call_handler, line_manager",
          responses={"200": "the call", "409": f"{CALL_ENDED}; already_accepted by another handler"})
operation("post", "/calls/{CallSid}/warnings", "Warn the caller (T1)", CALL_ACTORS,
          schemas.WarningIn, {"201": "the warning", "409": CALL_ENDED})
operation("post", "/calls/{CallSid}/need", "Record that a disability or need may be involved (T2)",
          CALL_ACTORS, schemas.NeedIn, {"200": "the call", "409": CALL_ENDED})
operation("post", "/calls/{CallSid}/termination", "End the call after a warning (T3-T5)",
          CALL_ACTORS, schemas.TerminationIn,
          {"201": "the termination", "200": "the same termination, repeated",
           "409": f"warning_required (T3); {CALL_ENDED} (or already terminated with other details)"})
operation("get", "/callers/{phone}", "A caller's flags as the role may see them (R9; every look-up audited)",
          "call_handler for the caller on their own current call (else 404); line_manager, supervisor, "
          "panel_member, admin for any number (recent calls: only their teams')")
operation("get", "/callbacks", "The line manager's queue, most urgent first", Role.LINE_MANAGER)
operation("get", "/cases/{reference}/notes", "Case notes of an application or case (M3)",
          "the note's author, the call's handler, the team's line managers (and their deputies) and supervisors, "
          "admin; anyone else 404 (R9)")
operation("get", "/settings", "Organisation settings (wording, windows, thresholds)", Role.ADMIN)
operation("delete", "/users/{username}/sessions", "End every browser session of a user (issue 10.8)", Role.ADMIN)
operation("put", "/settings/{key}", "Change one organisation setting; a value outside the setting's type or bounds "
          "(call_flows.settings.OrgSettings) is a 400 naming them", Role.ADMIN, schemas.SettingIn)

# Caution register (issue 5: R3-R9, R10, C1-C3)
from .api import register_schemas as rs  # noqa: E402

operation("post", "/register/proposals", "Propose a register entry from an incident record (R3)", "line_manager, admin",
          rs.ProposalIn, {"201": "the proposed entry, with the panel's meeting deadline"})
operation("get", "/register/proposals", "Proposals awaiting the panel, nearest deadline first (R3)",
          "panel_member, admin")
operation("get", "/register/entries", "The register (?status=), audited (R9)", "panel_member, line_manager, "
          "supervisor, admin")
operation("get", "/register/entries/{id}", "One entry as the role may see it, audited (R9)",
          "panel_member, line_manager, supervisor, admin")
operation("post", "/register/entries/{id}/decision", "The panel's decision: at least 3 members present with the "
          "chair (R3), marker (R2), precautions, justification, sharing (R7)", Role.PANEL_MEMBER, rs.DecisionIn,
          {"201": "the entry, awaiting its letter"})
operation("get", "/register/entries/{id}/letter", "The customer's letter (R5); print_url is print-ready HTML",
          "panel_member, admin")
operation("post", "/register/entries/{id}/letter/sent", "The letter was sent: the entry takes effect (R5, R6)",
          Role.PANEL_MEMBER, rs.LetterSentIn)
operation("post", "/register/entries/{id}/letter/exemption", "Documented exemption from the letter (R5): the "
          "entry takes effect", Role.PANEL_MEMBER, rs.ExemptionIn)
operation("get", "/register/letter-template", "The letter template and its placeholders (R5)", "panel_member, admin")
operation("put", "/register/letter-template", "Change the letter template; every R5 element must stay (R5)",
          "panel_member, admin", rs.TemplateIn)
operation("post", "/register/entries/{id}/reviews", "Review an entry: keep or remove (R6)", Role.PANEL_MEMBER,
          rs.ReviewIn, {"201": "the entry after review"})
operation("get", "/register/reviews/due", "Entries due for review and the register review date (R6)",
          "panel_member, admin")
operation("post", "/register/reviews", "Record the six-monthly review of the whole register (R6)", Role.PANEL_MEMBER,
          rs.RegisterReviewIn, {"201": "the review"})
operation("post", "/register/entries/{id}/appeals", "Record an appeal, due in 20 working days (R8)",
          "panel_member, admin", rs.AppealIn, {"201": "the appeal"})
operation("post", "/register/appeals/{id}/outcome", "An appeal's outcome; upheld removes the entry (R8)",
          Role.PANEL_MEMBER, rs.AppealOutcomeIn)
operation("post", "/register/customers/{id}/phones", "Add a number to a customer (R4)",
          "panel_member, line_manager, admin", rs.PhoneIn, {"201": "added", "200": "already the customer's"})
operation("get", "/register/customers/{id}/export", "Subject-access export: everything held (R9)",
          "panel_member, admin")
operation("post", "/register/customers/{id}/concerns", "The customer was told their conduct is a concern (C1)",
          "line_manager, admin", rs.ConcernIn, {"201": "the notice"})
operation("post", "/register/customers/{id}/restrictions", "Restrict contact; 409 customer_not_told without a "
          "concern notice (C1, C3)", "line_manager, admin", rs.RestrictionIn, {"201": "the restriction"})
operation("post", "/register/restrictions/{id}/end", "End a contact restriction (C1)", "line_manager, admin")
operation("get", "/register/signals", "Repeat-caller (R10) and contact-volume (C2) signals with thresholds",
          "line_manager, supervisor, panel_member, admin")
operation("get", "/register/counts", "Anonymised counts left by the retention purge (R9)",
          "line_manager, supervisor, panel_member, admin")
operation("post", "/callbacks/{id}/claim", "Claim an open callback task (exactly one of concurrent claims wins)",
          Role.LINE_MANAGER, None, {"200": "the task", "409": "already_claimed", "404": "not in your teams"})
operation("post", "/callbacks/{id}/release", "Hand a claimed task back to the queue, in its old place",
          "the claimant, admin")
operation("post", "/callbacks/{id}/dial", "Call the customer back: the manager's phone first, then the customer (M1)",
          "the claimant", None, {"202": "the task, the callback's call_sid and the M1 script"})
operation("post", "/callbacks/{id}/outcome", "Record the outcome and its case note (M1, M2; no_answer retries)",
          "the claimant", schemas.OutcomeIn,
          {"200": "the task", "409": "no_dial_attempt: no_answer needs a call back first (dial)"})
operation("post", "/callbacks/{id}/cancel", "Cancel one task with a reason", "line_manager, admin",
          callback_schemas.CancelIn)
operation("post", "/callbacks/{id}/reassign", "Give a task to another line manager", Role.ADMIN,
          callback_schemas.ReassignIn)
operation("put", "/callbacks/deputy", "Hand your queue to a deputy while away (null takes it back)", Role.LINE_MANAGER,
          callback_schemas.DeputyIn)
operation("get", "/incidents", "Incident records you work on, and those awaiting your acknowledgement", "staff")
operation("get", "/incidents/{id}", "One incident record with its email deliveries", "staff who may see it")
operation("put", "/incidents/{id}", "Fill in the record: I1 fields, RIDDOR, breach, I3 welfare steps (I2)",
          "staff who may see it", callback_schemas.IncidentIn)
operation("delete", "/incidents/{id}", "Refused: incident records are never deleted (I6)", "nobody",
          None, {"405": "incident_not_deletable"})
operation("post", "/incidents/{id}/complete", "Complete and distribute the record (I4)", Role.LINE_MANAGER)
operation("post", "/incidents/{id}/acknowledge", "The staff member reads and signs the completed record (I3)",
          "the staff member", responses={"200": "the record", "409": "incident_not_completed: still open"})
operation("post", "/incidents/{id}/police-decision", "Record the senior officer's decision about the police (I7)",
          "supervisor, admin", callback_schemas.PoliceDecisionIn)
