from django.core.management.base import BaseCommand

from generation.jobs import sweep_stuck_tasks


class Command(BaseCommand):
    help = "Fail tasks stuck past TASK_DEADLINE_SECONDS and release their credits (run it every few minutes)."

    def handle(self, **options):
        self.stdout.write(f"failed {sweep_stuck_tasks()} stuck task(s)")
