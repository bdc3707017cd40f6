"""Hands outbox jobs to RQ after commit, or runs them in-process in the embedded default.

A job is always in the database before anyone tries to run it; if Redis is down the row stays
`pending` and the sweeper (`workers.jobs.tick`) hands it over once Redis is back. Retries follow the
outbox's one policy (call_flows/jobs/outbox.py): RQ never retries by itself; a retry the outbox scheduled
is handed to RQ's scheduler for the job's `run_at`, under a job id per attempt.
"""

from flask import current_app
from redis import Redis
from rq import Queue
from sqlalchemy import select

from call_flows.jobs import outbox
from call_flows.clock import utcnow
from call_flows.models import OutboxJob
from call_flows import logs

log = logs.get_logger(__name__)
JOB_TIMEOUT_S = 30  # a hung job is stopped by RQ and retried; it never holds a worker for long (9.16)


def rq_job_id(job) -> str:
    """One RQ job per attempt: a duplicate hand-over of the same attempt is the same RQ job, and a
    scheduled retry never overwrites the RQ job of the attempt that is still finishing."""
    return f"outbox-{job.id}-{job.attempts}"


def init_app(app) -> None:
    app.extensions["redis"] = Redis.from_url(app.config["REDIS_URL"], socket_timeout=2,
                                             socket_connect_timeout=2) if app.config["REDIS_URL"] else None
    if app.config.get("REDIS_CONNECTION") is not None:  # tests hand in fakeredis or a prepared client
        app.extensions["redis"] = app.config["REDIS_CONNECTION"]
    app.extensions["queue"] = (Queue(app.config["RQ_QUEUE"], connection=app.extensions["redis"])
                               if app.extensions["redis"] is not None else None)


def dispatch(app, job_ids: list[int], handed_over: list | None = None) -> None:
    """Call after the transaction that recorded the jobs has committed. Urgent tasks (a caller is
    waiting: outbox.is_urgent) are handed over first, in the order they were recorded (never ahead of
    an earlier job: a warning is played before the final notice, T3). `handed_over`: the jobs
    (`id`, `task`, `run_at`) that commit already marked enqueued (`outbox.mark_handed_over_on_commit`),
    so they are not read back."""
    if not job_ids:
        return
    queue = app.extensions["queue"]
    if queue is None:
        for job_id in job_ids:
            run_inline(app, job_id)
        return
    session = app.extensions["sessionmaker"]()
    try:
        if handed_over is None:
            jobs = list(session.execute(select(OutboxJob.id, OutboxJob.task, OutboxJob.run_at,
                                               OutboxJob.attempts)
                                        .where(OutboxJob.id.in_(job_ids))))
            session.rollback()
        else:
            jobs = list(handed_over)
        enqueued = _enqueue(queue, sorted(jobs, key=lambda job: (not outbox.is_urgent(job.task), job.id)))
        if handed_over is not None:
            outbox.mark_pending(session, [job.id for job in jobs if job.id not in enqueued])
        else:
            outbox.mark_enqueued(session, enqueued)
    finally:
        session.close()


def _enqueue(queue, jobs) -> list[int]:
    """Hand `jobs` to RQ in order; stops at the first failure (Redis down). Returns the ids handed over."""
    now, enqueued = utcnow(), []
    for job in jobs:
        try:
            if job.run_at > now:
                queue.enqueue_at(job.run_at, "workers.jobs.run_outbox_job", job.id,
                                 job_id=rq_job_id(job), job_timeout=JOB_TIMEOUT_S)
            else:
                queue.enqueue("workers.jobs.run_outbox_job", job.id, job_id=rq_job_id(job),
                              job_timeout=JOB_TIMEOUT_S)
            enqueued.append(job.id)
        except Exception:  # Redis down: the row stays (or goes back to) pending for the sweeper
            log.warning("outbox_job_not_enqueued", job=job.id, outcome="left_pending", exc_info=True)
            break
    return enqueued


def run_inline(app, job_id: int) -> str:
    """Embedded default: run a due job now, in this process. A retry stays pending for the sweeper."""
    session = app.extensions["sessionmaker"]()
    try:
        job = session.get(OutboxJob, job_id)
        if job is not None and job.status in ("done", "failed"):
            return job.status  # a repeated hand-over of a settled job does nothing
        if job is None or job.run_at > utcnow():
            return "scheduled"
        session.rollback()
        status = outbox.run(session, job_id, app.extensions["job_context"])
        dispatch(app, outbox.recorded_ids(session))  # jobs the task itself recorded
        return status
    except Exception:  # the database itself failed: the row is still pending or enqueued
        log.exception("outbox_job_failed_in_process", job=job_id, outcome="left_to_the_sweeper")
        return "failed"
    finally:
        session.close()


def commit_and_dispatch(session) -> None:
    """Commit the request's work, then hand over the outbox jobs it recorded."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's target
    handed_over = outbox.mark_handed_over_on_commit(session) if app.extensions["queue"] is not None else None
    session.commit()
    dispatch(app, outbox.recorded_ids(session), handed_over=handed_over)


def sweep(app, now=None) -> int:
    """Hand over jobs that are due but not with RQ (Redis was down, or a scheduled retry came due)."""
    session = app.extensions["sessionmaker"]()
    try:
        ids = outbox.due_for_redispatch(session, now or utcnow())
    finally:
        session.close()
    if ids:
        dispatch(app, ids)
    return len(ids)
