from wsgi import app as _lean
app = _lean.wsgi_app.inner  # the full Flask pipeline (before issue 13), for A/B runs
