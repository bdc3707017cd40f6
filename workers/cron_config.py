"""`rq cron workers/cron_config.py --url $REDIS_URL`: the periodic jobs."""
from rq import cron

from workers.jobs import tick

cron.register(tick, "callguard", interval=60)
