"""How people are named to people (issue 14.3): the display name, else the username. Usernames stay
for signing in and in the API's identifiers; everything a person reads (pages, scripts, emails,
letters) uses these."""
from collections.abc import Iterable
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from call_flows.models import User

SHOWN_NAME = func.coalesce(func.nullif(User.display_name, ""), User.username)  # SQL twin of User.shown_name


def shown_names(session: Session, ids: Iterable[int | None] | None = None) -> dict[int, str]:
    """{user id: name shown} for `ids` (default: everyone)."""
    query = select(User.id, SHOWN_NAME)
    if ids is not None:
        ids = {i for i in ids if i}
        if not ids:
            return {}
        query = query.where(User.id.in_(ids))
    return dict(session.execute(query).all())
