from django.core.management.base import BaseCommand, CommandError

from billing import ledger


class Command(BaseCommand):
    help = ("Check that every organisation's cached balance, held and debt equal the sums of its ledger; "
            "exits non-zero and names each account that drifted.")

    def handle(self, **options):
        problems = ledger.drift()
        for p in problems:
            self.stderr.write(f"DRIFT {p['organization']}: cached {p['cached']}, ledger says {p['expected']}")
        if problems:
            raise CommandError(f"{len(problems)} account(s) differ from their ledger")
        self.stdout.write("ledger OK: every cached balance equals its ledger")
