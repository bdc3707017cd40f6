"""Operations endpoints: liveness, readiness and the OpenAPI document."""
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from .access import public
from .db import engine
from .openapi import document

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
@public
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@public
def readyz():
    checks = {}
    try:
        with engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    redis = current_app.extensions.get("redis")
    if redis is not None:
        try:
            redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if ready else "unavailable", "checks": checks}), 200 if ready else 503


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(document())
