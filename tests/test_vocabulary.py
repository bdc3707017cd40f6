"""Issue 11.3: one vocabulary. Every code has its label, and no module keeps its own copy of a code
list (a tuple, list, set or table of a vocabulary's codes) or spells a role as a string."""
import ast
import io
import tokenize
from enum import Enum
from pathlib import Path
from typing import get_args

import pytest
from pydantic import ValidationError

from call_flows import labels, vocabulary
from call_flows.vocabulary import (CallbackOutcome, CallStatus, ImmediateReason, Marker, NoteField, PlayStatus,
                                   Recipient, RegisterSource, RegisterStatus, Role, TaskStatus, WarningReason,
                                   IncidentStatus)

ROOT = Path(__file__).resolve().parents[1]
TABLES = {CallStatus: "call_status", Role: "role", WarningReason: "warning_reason", ImmediateReason: "immediate_reason",
          Marker: "marker", CallbackOutcome: "outcome", NoteField: "note_field", PlayStatus: "play_status",
          Recipient: "recipient", RegisterStatus: "register_status", RegisterSource: "register_source",
          TaskStatus: "task_status", IncidentStatus: "incident_status"}
# The one place a role's text is not a role: the first segment of the /admin/... URLs.
NOT_A_ROLE = {("app/pages/__init__.py", '"admin"')}
# The outcomes staff record: a Literal so the API's message lists only these (checked against the vocabulary below).
NOT_A_COPY = {("app/api/schemas.py", "CallbackOutcome codes ['behaviour_not_improved', 'no_answer', 'resolved']")}


def _sources():
    for top in ("app", "call_flows", "workers"):
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel not in ("call_flows/vocabulary.py", "call_flows/labels.py"):
                yield rel, path.read_text()


def test_every_vocabulary_is_an_enum_with_a_label_table_naming_each_member():
    enums = {v for v in vars(vocabulary).values() if isinstance(v, type) and issubclass(v, Enum) and v.__module__ ==
             vocabulary.__name__}
    assert enums == set(TABLES), "a new vocabulary needs its label table (call_flows.labels)"
    for enum, name in TABLES.items():
        table = labels.VOCABULARIES[name]
        assert set(table) == set(enum), (name, set(enum) ^ set(table))
        assert all(isinstance(text, str) and text.strip() for text in table.values()), name
        assert all(labels.label(name, member) == table[member] for member in enum)
        assert all(labels.label(name, member.value) == table[member] for member in enum)  # stored text finds it


def test_r2_marker_labels_are_domain_wording_and_the_board_uses_them(monkeypatch):
    assert labels.label("marker", 2) == "Potentially violent / threatening aggression"
    from call_flows.calls import board
    assert board.MARKERS is labels.MARKERS


def test_groups_are_members_of_their_vocabulary():
    assert set(vocabulary.ENDED) | set(vocabulary.OPEN) == set(CallStatus)
    assert not set(vocabulary.ENDED) & set(vocabulary.OPEN)
    for group in (vocabulary.WAITING, vocabulary.LIVE):
        assert set(group) <= set(vocabulary.OPEN)
    for group in (vocabulary.CALL_ROLES, vocabulary.PANEL, vocabulary.PANEL_ROLES, vocabulary.REGISTER_READERS,
                  vocabulary.MANAGERS, vocabulary.OVERSEERS, vocabulary.SENIORS, vocabulary.SEES_RINGING):
        assert group and all(isinstance(role, Role) for role in group) and len(set(group)) == len(group)
    assert set(vocabulary.REGISTER_READERS) == set(Role) - {Role.CALL_HANDLER}  # R9: handlers see flags only


def test_the_api_schemas_accept_exactly_the_vocabulary():
    from app.api import register_schemas, schemas
    assert get_args(schemas.OutcomeIn.model_fields["outcome"].annotation) == tuple(vocabulary.RECORDED_OUTCOMES)
    assert schemas.WarningIn.model_fields["reason"].annotation is WarningReason
    assert list(schemas.NoteFields.model_fields) == [field.value for field in NoteField]
    marker = get_args(register_schemas.DecisionIn.model_fields["marker"].annotation)
    assert set(get_args(marker[0])) == set(Marker)
    # shown and refused as the Literal it replaced: the codes in place, the same message
    assert schemas.WarningIn.model_json_schema()["properties"]["reason"] == {
        "enum": [m.value for m in WarningReason], "type": "string", "title": "Reason"}
    with pytest.raises(ValidationError) as refused:
        schemas.TerminationIn(reason="shouting", immediate_reason=None)
    assert refused.value.errors()[0]["msg"] == ("Input should be 'abuse', 'threats', 'discrimination', "
                                                "'intimidating_language', 'acoustic_shock' or 'other'")
    assert schemas.TerminationIn(reason="abuse", immediate_reason="other_serious").model_dump(mode="json") == {
        "reason": "abuse", "immediate_reason": "other_serious", "immediate_detail": None, "case_reference": None,
        "note": None}


def _copies(tree: ast.AST) -> list[tuple[int, str]]:
    """Collections of two or more string constants that all belong to one vocabulary."""
    values = {enum: {m.value for m in enum} for enum in TABLES if issubclass(enum, str)}
    found = []
    for node in ast.walk(tree):
        items = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else (
            node.keys if isinstance(node, ast.Dict) else None)
        if not items or len(items) < 2 or not all(isinstance(i, ast.Constant) and isinstance(i.value, str)
                                                 for i in items):
            continue
        codes = {i.value for i in items}
        for enum, known in values.items():
            if codes <= known:
                found.append((node.lineno, f"{enum.__name__} codes {sorted(codes)}"))
    return found


def test_no_module_keeps_its_own_copy_of_a_code_list():
    copies = [(rel, *hit) for rel, text in _sources() for hit in _copies(ast.parse(text))
              if (rel, hit[1]) not in NOT_A_COPY]
    assert copies == [], "use call_flows.vocabulary instead"


def test_no_role_is_spelled_as_a_string_outside_the_vocabulary():
    roles = {m.value for m in Role}
    spelled = []
    for rel, text in _sources():
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING and (rel, token.string) not in NOT_A_ROLE:
                try:
                    value = ast.literal_eval(token.string)
                except (ValueError, SyntaxError):
                    continue
                if value in roles:
                    spelled.append((rel, token.start[0], token.string))
    assert spelled == [], "write Role.X (call_flows.vocabulary)"


@pytest.mark.parametrize("value", ["in-progress", "no-answer", "call_handler", "threat_of_violence", "spoke_to"])
def test_members_are_the_stored_text(value):
    """No migration: a member is equal to, hashes as and formats as the text stored today."""
    member = next(m for enum in TABLES if issubclass(enum, str) for m in enum if m.value == value)
    assert member == value and hash(member) == hash(value) and f"{member}" == value and str(member) == value


def test_r2_the_live_pages_show_the_marker_label_the_card_carries_never_a_copy():
    """One wording (R2): the board's and console's scripts take the marker's label from the card
    (call_flows/labels.py MARKERS via board.flags_json), never from a table of their own."""
    from pathlib import Path

    static = Path(__file__).resolve().parent.parent / "app" / "static"
    for script in ("live.js", "board.js", "console.js"):
        text = (static / script).read_text().lower()
        assert not any(word in text for word in ("violent", "abusive")), script
    assert "marker_label" in (static / "live.js").read_text()
