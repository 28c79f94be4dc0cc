from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from billing import ledger


class Command(BaseCommand):
    help = "Grant credits to an organisation (writes a ledger row)."

    def add_arguments(self, parser):
        parser.add_argument("organization", help="the organisation's slug")
        parser.add_argument("amount", type=int)
        parser.add_argument("--note", default="granted by operator")

    def handle(self, organization, amount, note, **options):
        org = Organization.objects.filter(slug=organization).first()
        if org is None:
            raise CommandError(f"no organisation with slug {organization!r}")
        if amount <= 0:
            raise CommandError("amount must be a positive number of credits")
        ledger.grant(org, amount, note=note)
        self.stdout.write(f"granted {amount} credits to {org.slug}; available now {ledger.account(org).available}")
