"""`rq cron workers/cron_config.py --url $REDIS_URL`: the periodic jobs, on the queues the web processes and
the README's worker command use (`<RQ_QUEUE>`, `<RQ_QUEUE>-urgent`; app/config.py's default `callguard`)."""
import os

from rq import cron

from workers.jobs import sweep, tick

QUEUE = os.environ.get("RQ_QUEUE") or "callguard"
cron.register(tick, QUEUE, interval=int(os.environ.get("CALLGUARD_TICK_S") or 60))  # tests shorten it
# due retries run within a few seconds of their run_at, whichever worker died (issue 12): on the urgent
# queue, ahead of e-mails, since a retried warning or final notice has a caller waiting for it
cron.register(sweep, f"{QUEUE}-urgent", interval=int(os.environ.get("CALLGUARD_SWEEP_S") or 5))
