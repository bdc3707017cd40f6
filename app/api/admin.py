"""Organisation settings (DOMAIN "configurable"): administrators change wording and windows without code."""
from flask import jsonify

from call_flows import settings as org_settings

from ..auth import roles_required
from ..db import db_session, unit_of_work
from . import bp
from .errors import json_body
from .schemas import SettingIn


@bp.get("/settings")
@roles_required("admin")
def get_settings():
    return jsonify(org_settings.load(db_session(), fresh=True))


@bp.put("/settings/<key>")
@roles_required("admin")
def put_setting(key):
    body = SettingIn.model_validate(json_body())
    session = db_session()
    org_settings.save(session, key, body.value)
    unit_of_work().commit()
    return jsonify({"key": key, "value": org_settings.load(session, fresh=True)[key]})


@bp.delete("/users/<username>/sessions")
@roles_required("admin")
def revoke_user_sessions(username):
    """10.8: an administrator ends every browser session of a user at once (they sign in again)."""
    from call_flows.staff import accounts
    from call_flows.clock import utcnow

    session = db_session()
    user = accounts.find_user(session, username)
    ended = accounts.revoke_sessions(session, user.id, utcnow())
    unit_of_work().commit()
    return jsonify({"username": user.username, "sessions_ended": ended})
