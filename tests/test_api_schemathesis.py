"""Issue 10: schemathesis generates requests from `/openapi.json` and sends each one as every role
(call_handler, line_manager, supervisor, panel_member, admin; bearer tokens) and without credentials.
Every response must agree with the document: no server error (5xx), a documented status code, the
documented content type and headers; and without credentials, 401 (CONTRACT).

Bounded in time: `EXAMPLES` generated requests per operation, no shrinking, a fixed seed. Records
made first (a terminated call, a register entry in force with its customer) and path parameters
drawn partly from them let the generated requests reach the handlers rather than stop at 404.
Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.
"""
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from tests.callback_helpers import terminated_call
from tests.register_helpers import CALLER, in_force, panel

ROLES = ("call_handler", "line_manager", "supervisor", "panel_member", "admin")
EXAMPLES = 5  # generated requests per operation, each sent as 5 roles and anonymously (about 1,350 requests)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture
def people(app, client, ring, team, staff):
    """One member of staff per role, and records for the generated requests to find."""
    members = panel(staff)
    ended = terminated_call(app, client, team["handler"], case_reference="PP-123")
    in_force(client, ring, team, members)
    admin = staff.add("admin", "admin")
    roles = {"call_handler": team["handler"], "line_manager": team["manager"], "supervisor": team["supervisor"],
             "panel_member": members[0], "admin": admin}
    known = {"id": st.integers(1, 8), "CallSid": st.just(ended["call_sid"]), "phone": st.just(CALLER),
             "reference": st.just("PP-123")}
    return roles, known


def _strategy(operation, known: dict):
    """Fully generated requests, and requests whose path parameters name records that exist."""
    names = [p.name for p in operation.path_parameters]
    generated = operation.as_strategy()
    if not names:
        return generated
    fixed = st.fixed_dictionaries({n: known[n] for n in names if n in known})
    return st.one_of(generated, fixed.flatmap(lambda values: operation.as_strategy(path_parameters=values)))


def test_issue10_every_role_gets_answers_that_match_the_openapi_document(app, people):
    roles, known = people
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    found: list[str] = []
    counts: Counter = Counter()
    statuses: Counter = Counter()

    def fuzz(operation):
        @seed(20261129)
        @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=_strategy(operation, known))
        def run(case):
            counts["examples"] += 1
            for role, person in roles.items():
                response = case.call(headers=person["headers"])
                statuses[(role, response.status_code)] += 1
                try:
                    case.validate_response(response, checks=CHECKS, headers=person["headers"])
                except FailureGroup as group:
                    found.append(f"{role} {case.method} {case.formatted_path}: {group.exceptions[0].title}\n"
                                 f"{str(group)[:1200]}")
            anonymous = case.call()
            counts["requests"] += len(roles) + 1
            if anonymous.status_code != 401:
                found.append(f"anonymous {case.method} {case.formatted_path}: {anonymous.status_code}, not 401")

        run()

    for result in schema.get_all_operations():
        counts["operations"] += 1
        fuzz(result.ok())
    print(f"\nschemathesis {schemathesis.__version__}: {counts['operations']} operations, {counts['examples']} "
          f"generated requests x {len(roles)} roles + anonymous = {counts['requests']} requests, "
          f"{len(found)} failures; statuses {sorted(statuses.items())}")
    assert counts["operations"] >= 40 and counts["examples"] >= counts["operations"]
    assert found == [], "\n\n".join(found[:8])
