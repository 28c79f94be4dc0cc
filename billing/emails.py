"""The billing emails, sent with Django's mail settings (console by default, SMTP when EMAIL_* say so)."""

from django.conf import settings
from django.core.mail import send_mail

from accounts.models import Membership, Organization
from billing.models import CreditAccount, Purchase


def billing_recipients(org: Organization) -> list[str]:
    """Owners and admins: the people who can buy credits."""
    roles = [Membership.Role.OWNER, Membership.Role.ADMIN]
    emails = org.memberships.filter(role__in=roles).exclude(user__email="").values_list("user__email", flat=True)
    return sorted(set(emails))


def send_low_balance(org: Organization, topup: Purchase | None = None) -> int:
    recipients = billing_recipients(org)
    if not recipients:
        return 0
    acct = CreditAccount.objects.get(organization=org)
    lines = [
        f"The available credit balance of {org.name} is {acct.available} "
        f"({acct.balance} owned, {acct.held} held by running tasks).",
        "",
    ]
    if topup is not None and topup.state == Purchase.State.PAID:
        lines.append(f"An automatic top-up of {topup.credits} credits ({topup.amount_display}) was charged.")
    elif topup is not None:
        lines.append(f"An automatic top-up of {topup.credits} credits was attempted but is {topup.state}.")
    else:
        lines.append("New cover tasks are refused once the available balance cannot cover them.")
    lines += ["", f"Buy credits: {settings.PUBLIC_BASE_URL}/billing/", "",
              "You receive this at most once a day; change the threshold on the billing page."]
    return send_mail(f"AlbumArt: low credit balance for {org.name}", "\n".join(lines),
                     settings.DEFAULT_FROM_EMAIL, recipients)
