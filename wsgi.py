"""Entry point for gunicorn (`gunicorn wsgi:app`) and the Flask CLI (`flask --app wsgi ...`)."""
import gc

from app import create_app

app = create_app()
gc.freeze()  # issue 13: the start-up heap is never collected again (full collections cost ~0.2 ms/ring)
