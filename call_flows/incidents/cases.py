"""Case notes of an application or case (M3: the history is visible where the next contact happens),
to the people who may see them (R9, call_flows/staff/visibility.py)."""
from typing import Any
from sqlalchemy.orm import Session

from call_flows.errors import NotFound
from call_flows.models import CaseNote, User
from call_flows.staff.visibility import visible_notes


def notes_for(session: Session, case_reference: str, viewer: User) -> list[dict[str, Any]]:
    """The notes of `case_reference` that `viewer` may see, oldest first (possibly none)."""
    return [note_json(note, author, name) for note, author, name in visible_notes(session, case_reference, viewer)]


def case_notes(session: Session, case_reference: str, viewer: User) -> list[dict[str, Any]]:
    """The staff API's view: NotFound when the viewer may see no note of the case, exactly as for a
    case that has none, so a case's existence does not leak (R9)."""
    notes = notes_for(session, case_reference, viewer)
    if not notes:
        raise NotFound(f"no case notes for {case_reference}")
    return notes


def note_json(note: CaseNote, author: str, author_name: str | None = None) -> dict[str, Any]:
    """`author` is the username; `author_name` the name people read (14.3)."""
    return {"id": note.id, "case_reference": note.case_reference, "kind": note.kind, "author": author,
            "author_name": author_name or author,
            "created_at": note.created_at.isoformat(), "known": note.known, "fields": note.fields}
