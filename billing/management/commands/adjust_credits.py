from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from billing import ledger


class Command(BaseCommand):
    help = "A staff correction of an organisation's credits, up or down, written to the ledger with its reason."

    def add_arguments(self, parser):
        parser.add_argument("organization", help="the organisation's slug")
        parser.add_argument("delta", type=int, help="credits to add (positive) or remove (negative)")
        parser.add_argument("--note", required=True, help="why; shown on the customer's statement")

    def handle(self, organization, delta, note, **options):
        org = Organization.objects.filter(slug=organization).first()
        if org is None:
            raise CommandError(f"no organisation with slug {organization!r}")
        try:
            ledger.adjust(org, delta, note)
        except (ValueError, ledger.InsufficientCredits) as exc:
            raise CommandError(str(exc)) from None
        acct = ledger.account(org)
        self.stdout.write(f"adjusted {org.slug} by {delta}; balance {acct.balance}, available {acct.available}, "
                          f"owed {acct.debt}")
