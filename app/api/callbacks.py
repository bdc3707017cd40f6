"""The line manager's callback queue (T5, M1)."""
from flask import jsonify

from call_flows.callbacks.queue import queue_for
from call_flows.clock import utcnow
from call_flows.vocabulary import Role

from ..auth import current_staff, roles_required
from ..db import db_session
from ..openapi import operation
from . import bp
from .shapes import task_json


@bp.get("/callbacks")
@roles_required(Role.LINE_MANAGER)
@operation("The line manager's queue, most urgent first")
def list_callbacks():
    now = utcnow()
    tasks = queue_for(db_session(), current_staff(), now)
    return jsonify({"callbacks": [task_json(t, now) for t in tasks]})
