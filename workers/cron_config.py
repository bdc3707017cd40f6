"""`rq cron workers/cron_config.py --url $REDIS_URL`: the periodic jobs."""
import os

from rq import cron

from workers.jobs import tick

cron.register(tick, "callguard", interval=int(os.environ.get("CALLGUARD_TICK_S") or 60))  # tests shorten it
