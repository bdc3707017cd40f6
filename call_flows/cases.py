"""Case notes of an application or case (M3: the history is visible where the next contact happens)."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import CaseNote, User
from .people import SHOWN_NAME


def notes_for(session: Session, case_reference: str) -> list[dict]:
    rows = session.execute(
        select(CaseNote, User.username, SHOWN_NAME).join(User, User.id == CaseNote.author_id)
        .where(CaseNote.case_reference == case_reference).order_by(CaseNote.created_at, CaseNote.id)).all()
    return [note_json(note, author, name) for note, author, name in rows]


def note_json(note: CaseNote, author: str, author_name: str | None = None) -> dict:
    """`author` is the username; `author_name` the name people read (14.3)."""
    return {"id": note.id, "case_reference": note.case_reference, "kind": note.kind, "author": author,
            "author_name": author_name or author,
            "created_at": note.created_at.isoformat(), "known": note.known, "fields": note.fields}
