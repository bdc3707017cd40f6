"""`rq cron workers/cron_config.py --url $REDIS_URL`: the periodic jobs."""
import os

from rq import cron

from workers.jobs import sweep, tick

cron.register(tick, "callguard", interval=int(os.environ.get("CALLGUARD_TICK_S") or 60))  # tests shorten it
# due retries run within a few seconds of their run_at, whichever worker died (issue 12): on the urgent
# queue, ahead of e-mails, since a retried warning or final notice has a caller waiting for it
cron.register(sweep, "callguard-urgent", interval=int(os.environ.get("CALLGUARD_SWEEP_S") or 5))
