"""The callguard web service: `create_app` wires configuration, database, jobs, platform and blueprints."""
import os

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from . import db, jobs
from .config import from_env
from .platform import make_platform

csrf = CSRFProtect()


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(from_env(overrides))
    from call_flows import logs
    logs.configure(logs.wants_json(os.environ), app.config.get("DEFAULT_REGION") or "GB")  # 11.5; R9 masked

    db.init_app(app)
    jobs.init_app(app)
    app.extensions["platform"] = make_platform(app.config)
    from .mailer import make_mailer
    app.extensions["mailer"] = make_mailer(app.config)
    jobs.init_handover(app)

    from .auth import login_manager
    login_manager.init_app(app)
    from . import sso
    sso.init_app(app)  # OpenID Connect when OIDC_ISSUER is set (14.5)

    from . import access, routing
    routing.init_app(app)  # bounded <int:> ids and audience-shaped errors; before any blueprint
    access.init_app(app)  # every route declares who may use it (app/access.py)

    from .api import bp as api_bp
    from .ops import bp as ops_bp
    from .pages import bp as pages_bp
    from .twilio_hooks import bp as twilio_bp

    csrf.exempt(twilio_bp)  # Twilio signs its requests instead
    csrf.exempt(api_bp)  # bearer tokens; browser sessions are checked in api.before_request
    app.register_blueprint(twilio_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(pages_bp)
    from .twilio_hooks import lean
    lean.install(app)  # ring time without the staff pipeline (issue 13); before ProxyFix wraps wsgi_app
    lean.start_snapshot(app)  # ring-time flags from memory on PostgreSQL, loaded before the first request
    from . import web_security
    web_security.init_app(app)  # headers, size limits, sign-in throttle (issue 10); before CSRF reads forms
    csrf.init_app(app)

    from .cli import register_cli
    register_cli(app)
    return app
