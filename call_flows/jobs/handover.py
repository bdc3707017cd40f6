"""Hands outbox jobs to RQ after commit, or runs them in-process in the embedded default.

A job is always in the database before anyone tries to run it; if Redis is down the row stays
`pending` and the sweeper (`workers.jobs.tick`) hands it over once Redis is back. Retries follow the
outbox's one policy (call_flows/jobs/outbox.py): RQ never retries by itself; a job not yet due (a
retry the outbox scheduled) stays `pending` in the database and the sweep (`workers.jobs.sweep`, every
few seconds) hands it over once due. RQ's scheduler holds nothing of ours: a `kill -9` of the worker
holding its lock delays no retry (issue 12).

`HandOver(sessionmaker, queue, platform, mailer, bus, config)` is built once per process (web or
worker): `queue` is an RQ `Queue` or None (the embedded default), `urgent_queue` the one for tasks a
caller waits for (workers listen to it first); its `ctx` (`JobContext`) is what
outbox tasks get. It is also the wiring workers/ run with (workers.context).
"""
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows import live_events
from call_flows import logs
from call_flows.clock import utcnow
from call_flows.jobs import attempts, outbox
from call_flows.models import OutboxJob
from call_flows.platform.protocol import CallPlatform

log = logs.get_logger(__name__)
JOB_TIMEOUT_S = 30  # a hung job is stopped by RQ and retried; it never holds a worker for long (9.16)
RUN_JOB = "workers.jobs.run_outbox_job"  # the RQ job function, named by its import path


@dataclass
class JobContext:
    """The collaborators an outbox task may use (passed as `ctx`): the call platform and the mailer.
    What a task wants the board and consoles to see it records as a domain event (call_flows/events.py)."""

    platform: CallPlatform
    mailer: Any = None


def rq_job_id(job: Any) -> str:
    """One RQ job per attempt: a duplicate hand-over of the same attempt is the same RQ job, and a
    scheduled retry never overwrites the RQ job of the attempt that is still finishing."""
    return f"outbox-{job.id}-{job.attempts}"


class HandOver:
    """Gets committed outbox jobs run: by RQ workers, or in this process without a queue."""

    def __init__(self, sessionmaker: Callable[[], Session], queue: Any, platform: CallPlatform, mailer: Any,
                 bus: live_events.Bus, config: dict[str, Any] | None = None, urgent_queue: Any = None) -> None:
        self.sessionmaker, self.queue, self.bus, self.config = sessionmaker, queue, bus, config or {}
        self.urgent_queue = urgent_queue  # urgent tasks' queue, listened to first (app.jobs.queue_names); None: `queue`
        self.ctx = JobContext(platform=platform, mailer=mailer)

    def prepare(self, session: Session) -> list[outbox.JobRef] | None:
        """Before commit: with a queue, mark the session's recorded jobs handed over in its own
        transaction (outbox.mark_handed_over_on_commit, 9.16); None without a queue."""
        return outbox.mark_handed_over_on_commit(session) if self.queue is not None else None

    def dispatch(self, job_ids: list[int], handed_over: list[Any] | None = None) -> None:
        """Call after the transaction that recorded the jobs has committed. Urgent tasks (a caller is
        waiting: outbox.is_urgent) are handed over first, in the order they were recorded (never ahead of
        an earlier job: a warning is played before the final notice, T3). `handed_over`: the jobs
        `prepare` already marked enqueued, so they are not read back."""
        if not job_ids:
            return
        if self.queue is None:
            for job_id in job_ids:
                self.run_inline(job_id)
            return
        session = self.sessionmaker()
        try:
            if handed_over is None:
                jobs = list(session.execute(select(OutboxJob.id, OutboxJob.task, OutboxJob.run_at, OutboxJob.attempts)
                                            .where(OutboxJob.id.in_(job_ids))))
                session.rollback()
            else:
                jobs = list(handed_over)
            enqueued = self._enqueue(sorted(jobs, key=lambda job: (not outbox.is_urgent(job.task), job.id)))
            if handed_over is not None:
                outbox.mark_pending(session, [job.id for job in jobs if job.id not in enqueued])
            else:
                outbox.mark_enqueued(session, enqueued)
        finally:
            session.close()

    def _enqueue(self, jobs: list[Any]) -> list[int]:
        """Hand the due ones of `jobs` to RQ in order; stops at the first failure (Redis down). A job
        not yet due is left `pending` for the sweep (not RQ's scheduler, whose lock outlives a killed
        holder by a minute). Returns the ids handed over."""
        now, enqueued = utcnow(), []
        for job in jobs:
            if job.run_at > now:
                continue  # the sweep hands it over when due (outbox.due_for_redispatch)
            queue = self.urgent_queue if self.urgent_queue is not None and outbox.is_urgent(job.task) else self.queue
            try:  # one pipeline: RQ would send the queue's registration (SADD rq:queues) as a round trip of its own
                with queue.connection.pipeline() as pipe:
                    queue.enqueue(RUN_JOB, job.id, job_id=rq_job_id(job), job_timeout=JOB_TIMEOUT_S, pipeline=pipe)
                    pipe.execute()
                enqueued.append(job.id)
            except Exception:  # Redis down: the row stays (or goes back to) pending for the sweeper
                log.warning("outbox_job_not_enqueued", job=job.id, outcome="left_pending", exc_info=True)
                break
        return enqueued

    def run(self, session: Session, job_id: int, now: datetime | None = None) -> str:
        """Run one job (attempts.run) in a unit of work on `session`: each of its transactions commits
        through it, so the live events its task recorded are published, and the jobs it recorded
        handed over, after that commit (never on a rollback). A retry already due is handed over
        again at once; a later one waits `pending` for the sweep. Returns the job's status."""
        from call_flows.unit_of_work import SqlAlchemyUnitOfWork  # it imports this module

        with SqlAlchemyUnitOfWork(self, session) as uow:
            status = attempts.run(uow, job_id, self.ctx, now)
        if status == "pending" and self.queue is not None:
            self.dispatch([job_id])
        return status

    def run_inline(self, job_id: int) -> str:
        """Embedded default: run a due job now, in this process. A retry stays pending for the sweeper."""
        session = self.sessionmaker()
        try:
            job = session.get(OutboxJob, job_id)
            if job is not None and job.status in ("done", "failed"):
                return job.status  # a repeated hand-over of a settled job does nothing
            if job is None or job.run_at > utcnow():
                return "scheduled"
            session.rollback()
            return self.run(session, job_id)
        except Exception:  # the database itself failed: the row is still pending or enqueued
            log.exception("outbox_job_failed_in_process", job=job_id, outcome="left_to_the_sweeper")
            return "failed"
        finally:
            session.close()

    def sweep(self, now: datetime | None = None) -> int:
        """Hand over jobs that are due but not with RQ (Redis was down, a scheduled retry came due, a
        worker died holding one). Returns how many."""
        session = self.sessionmaker()
        try:
            ids = outbox.due_for_redispatch(session, now or utcnow())
        finally:
            session.close()
        if ids:
            self.dispatch(ids)
        return len(ids)
