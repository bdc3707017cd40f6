"""Case notes of an application or case (M3: the history is visible where the next contact happens),
to the people who may see them (R9, call_flows/staff/visibility.py)."""
from dataclasses import dataclass

from sqlalchemy.orm import Session

from call_flows.errors import NotFound
from call_flows.models import CaseNote, User
from call_flows.staff.visibility import visible_notes


@dataclass(frozen=True)
class SeenNote:
    """A case note as its viewer sees it: `author` is its author's username, `author_name` the name
    people read (14.3)."""

    note: CaseNote
    author: str
    author_name: str


def notes_for(session: Session, case_reference: str, viewer: User) -> list[SeenNote]:
    """The notes of `case_reference` that `viewer` may see, oldest first (possibly none)."""
    return [SeenNote(note, author, name or author) for note, author, name in visible_notes(session, case_reference, viewer)]


def case_notes(session: Session, case_reference: str, viewer: User) -> list[SeenNote]:
    """The staff API's view: NotFound when the viewer may see no note of the case, exactly as for a
    case that has none, so a case's existence does not leak (R9)."""
    notes = notes_for(session, case_reference, viewer)
    if not notes:
        raise NotFound(f"no case notes for {case_reference}")
    return notes
