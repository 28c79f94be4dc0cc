import time

from django.core.management.base import BaseCommand

from generation.reconcile import reconcile


class Command(BaseCommand):
    help = ("Queue again what Redis lost: tasks with no live render job, GENERATING tasks whose work horse died "
            "(run again, or failed with credits released), and callback attempts that are due. Safe to run on many "
            "machines at once.")

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0,
                            help="run again every this many seconds until stopped (0: one pass)")

    def handle(self, *args, every: float = 0, **options):
        while True:
            done = reconcile()
            self.stdout.write(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in done.items()))
            if not every:
                return
            time.sleep(every)
