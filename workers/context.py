"""One Flask app per worker process, built from the same environment as the web service."""
from functools import lru_cache


@lru_cache(maxsize=1)
def worker_app():
    from app import create_app

    return create_app()
