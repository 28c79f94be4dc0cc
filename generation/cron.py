"""Periodic jobs for `python manage.py rqcron generation.cron` (one cron process per deployment)."""

from rq import cron

from generation.jobs import sweep_stuck_tasks
from generation.management.commands.purge_sources import purge_sources
from generation.reconcile import reconcile
from generation.review import sweep_review_timeouts

# What Redis lost is queued again from the database: tasks with no live job, horses that died, due callbacks.
cron.register(reconcile, queue_name="callbacks", interval=30)
# Tasks whose job was lost (Redis flushed, every retry died) are failed and their credits released.
cron.register(sweep_stuck_tasks, queue_name="callbacks", interval=300)
# Reviews nobody decided within REVIEW_TIMEOUT_SECONDS are decided by REVIEW_TIMEOUT_RULE.
cron.register(sweep_review_timeouts, queue_name="callbacks", interval=600)
# Artists' photos of tasks that ended more than SOURCE_RETENTION_DAYS ago are deleted (and once at each start).
cron.register(purge_sources, queue_name="callbacks", interval=24 * 3600, job_timeout=3600)
