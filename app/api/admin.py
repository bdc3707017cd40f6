"""Organisation settings (DOMAIN "configurable"): administrators change wording and windows without code."""
from flask import jsonify

from call_flows import settings as org_settings
from call_flows.vocabulary import Role

from ..auth import roles_required
from ..db import db_session, unit_of_work
from ..openapi import operation
from . import bp
from .schemas import SettingIn


@bp.get("/settings")
@roles_required(Role.ADMIN)
@operation("Organisation settings (wording, windows, thresholds)")
def get_settings():
    return jsonify(org_settings.load(db_session(), fresh=True).model_dump())


@bp.put("/settings/<key>")
@roles_required(Role.ADMIN)
@operation("Change one organisation setting; a value outside the setting's type or bounds "
           "(call_flows.settings.OrgSettings) is a 400 naming them", SettingIn)
def put_setting(key, body: SettingIn):
    with unit_of_work() as uow:
        org_settings.save(uow.session, key, body.value)
        uow.commit()
    return jsonify({"key": key, "value": getattr(org_settings.load(db_session(), fresh=True), key)})


@bp.delete("/users/<username>/sessions")
@roles_required(Role.ADMIN)
@operation("End every browser session of a user (issue 10.8)")
def revoke_user_sessions(username):
    """10.8: an administrator ends every browser session of a user at once (they sign in again)."""
    from call_flows.staff import accounts
    from call_flows.clock import utcnow

    with unit_of_work() as uow:
        user = accounts.find_user(uow.session, username)
        ended = accounts.revoke_sessions(uow.session, user.id, utcnow())
        uow.commit()
    return jsonify({"username": user.username, "sessions_ended": ended})
