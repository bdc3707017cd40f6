"""Entry point for gunicorn (`gunicorn wsgi:app`) and the Flask CLI (`flask --app wsgi ...`)."""
from app import create_app
from app.heap import freeze_start_up

app = create_app()
freeze_start_up()  # issue 13: the start-up heap, geocoder included, is never collected again (app/heap.py)
