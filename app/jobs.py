"""Wiring of the write path: Redis, the RQ queue, the live-event bus and the outbox hand-over
(call_flows/jobs/handover.py), built once per app. Views and CLI commands write through
`app.db.unit_of_work()`; nothing here commits."""
from redis import Redis
from rq import Queue

from call_flows import live_events
from call_flows.jobs.handover import HandOver


def init_app(app) -> None:
    """Redis (None in the embedded default), the queue and the live-event bus."""
    app.extensions["redis"] = Redis.from_url(app.config["REDIS_URL"], socket_timeout=2,
                                             socket_connect_timeout=2) if app.config["REDIS_URL"] else None
    if app.config.get("REDIS_CONNECTION") is not None:  # tests hand in fakeredis or a prepared client
        app.extensions["redis"] = app.config["REDIS_CONNECTION"]
    redis = app.extensions["redis"]
    queues = [Queue(name, connection=redis) if redis is not None else None for name in queue_names(app.config["RQ_QUEUE"])]
    app.extensions["urgent_queue"], app.extensions["queue"] = queues
    app.extensions["queues"] = queues if redis is not None else []  # what a worker listens to, in its order
    app.extensions["events"] = live_events.make_bus(app.extensions["redis"], app.config["EVENTS_CHANNEL"])


def queue_names(queue: str) -> list[str]:
    """The queues a worker listens to, in its order: `<RQ_QUEUE>-urgent` (a caller waits: a warning, the
    final notice, the handler's leg; outbox.is_urgent) first, then `<RQ_QUEUE>`, so a backlog of
    e-mails never delays a warning (9.16)."""
    return [f"{queue}-urgent", queue]


def init_handover(app) -> None:
    """The hand-over, once the platform and the mailer exist; its `ctx` is what outbox tasks get."""
    handover = HandOver(app.extensions["sessionmaker"], app.extensions["queue"], app.extensions["platform"],
                        app.extensions.get("mailer"), app.extensions["events"], app.config,
                        urgent_queue=app.extensions["urgent_queue"])
    app.extensions["handover"] = handover
    app.extensions["job_context"] = handover.ctx
