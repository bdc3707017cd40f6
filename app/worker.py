"""The RQ worker class for production (9.16: a press reaches the caller at once).

    rq worker --url "$REDIS_URL" --with-scheduler --worker-class app.worker.CallguardWorker callguard-urgent callguard

RQ's default `Worker` forks a work-horse per job, and the horse started without the Flask app, so
every job built the whole app again (seconds per warning). `CallguardWorker` is RQ's `SimpleWorker`
(jobs run in the worker process itself, no fork) with the app, its database pool, its Twilio
client and the REST modules twilio-python imports lazily all prepared once, when the worker starts,
so the first job is as fast as the rest. It lives in app/ because it is the worker process's
composition root: it builds the wiring (call_flows.jobs.handover.HandOver) from the app and installs
it for the jobs in workers/ (workers.context), which import call_flows only, never app/.

A job that hangs cannot hold a worker for long: every job has a timeout (`handover.JOB_TIMEOUT_S`, enforced
by RQ's death penalty, SIGALRM, in the worker's main thread) and every Twilio request one of its own
(`TWILIO_TIMEOUT_S`, app/platform.py); the outbox retries the job (its one retry policy). Run several
workers so that a slow Twilio request never delays the next caller's warning."""
import os

from rq import SimpleWorker

from call_flows import logs
from workers import context

log = logs.get_logger(__name__)


def prepare(wiring) -> None:
    """Load everything a job would otherwise load on first use: a database connection in the pool,
    the caller-facing tasks' module and twilio-python's REST modules (the `Client` imports each
    domain on first access)."""
    with wiring.sessionmaker() as session:
        session.connection()
    import call_flows.jobs.effects  # noqa: F401  (the tasks a caller waits for; jobs import their task by path)
    client = getattr(wiring.ctx.platform, "client", None)
    if client is not None:
        account = client.api.v2010.account
        account.calls("CA" + "0" * 32)
        account.conferences("CF" + "0" * 32).participants  # noqa: B018  (the access imports the module)


class CallguardWorker(SimpleWorker):
    """SimpleWorker with the app's wiring installed for workers/ (workers.context) and prepared
    before the first job (see the module's docstring). A wiring installed already (tests) is used.
    Its heartbeat is one round trip to Redis: RQ sends one right after taking a job, before running
    it, as three separate commands (9.16)."""

    def __init__(self, *args, **kwargs):
        logs.configure(logs.wants_json(os.environ), os.environ.get("DEFAULT_REGION") or "GB")  # RQ's lines too
        super().__init__(*args, **kwargs)
        own_app = context._wiring is None
        if own_app:
            from . import create_app

            context.use(create_app().extensions["handover"])
        wiring = context.wiring()
        prepare(wiring)
        if own_app:  # as wsgi.py: the geocoder a job's first live card would load (0.18 s), then the heap frozen
            from .heap import freeze_start_up

            freeze_start_up()
        if wiring.config.get("OUTBOX_LEASE_S"):  # tests shorten the lease (call_flows/jobs/lease.py LEASE_S)
            from call_flows.jobs import attempts, lease

            lease.LEASE_S = wiring.config["OUTBOX_LEASE_S"]
            attempts.BACKOFF_BASE_S = wiring.config.get("OUTBOX_BACKOFF_S") or attempts.BACKOFF_BASE_S
        log.info("worker_prepared")

    def heartbeat(self, timeout: int | None = None, pipeline=None):
        if pipeline is not None:
            return super().heartbeat(timeout, pipeline)
        with self.connection.pipeline(transaction=False) as pipe:
            super().heartbeat(timeout, pipe)
            pipe.execute()
