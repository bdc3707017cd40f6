"""One Flask app per worker process, built from the same environment as the web service."""
_app = None


def use_app(app) -> None:
    """Run jobs against an app that already exists (tests, or a process that embeds a worker)."""
    global _app
    _app = app


def worker_app():
    global _app
    if _app is None:
        from app import create_app

        _app = create_app()
    return _app
