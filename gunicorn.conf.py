"""gunicorn settings, read from the repository root (gunicorn's default `--config ./gunicorn.conf.py`).

- gunicorn's access and error logs are formatted like every other line (call_flows/logs.py), caller
  numbers masked (R9; app/log_privacy.py).
- Each worker tells the app how many request threads it has, so the app keeps live event streams
  below that number (app/pages/stream_slots.py; 9.9: ring time is answered whatever the number of
  open boards and consoles). A sync worker (one thread) holds no streams at all.
"""
logger_class = "app.log_privacy.MaskingGunicornLogger"


def post_worker_init(worker):
    config = getattr(worker.wsgi, "config", None)
    if config is not None:
        config.setdefault("SERVER_THREADS", worker.cfg.threads)
