"""Low balance: an email at most once a day, and the optional auto top-up, both run on a worker after commit."""

import logging
from datetime import timedelta
from functools import partial

import stripe
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Organization
from albumart import queues
from billing.models import DEFAULT_LOW_BALANCE_THRESHOLD, BillingProfile, CreditAccount

log = logging.getLogger(__name__)

NOTIFY_EVERY = timedelta(days=1)
# A failed or slow top-up is not retried sooner than this, so that a declined card is not hammered.
TOPUP_EVERY = timedelta(hours=1)


def profile(org: Organization) -> BillingProfile:
    prof, _ = BillingProfile.objects.get_or_create(organization=org)
    return prof


UNKNOWN = object()


def after_debit(org: Organization, available: int | None = None, threshold=UNKNOWN) -> None:
    """Called after credits left the available balance (`available`, and the organisation's own `threshold` or
    None for the default, when the caller knows them): queue the email and the top-up if it fell too low."""
    if available is None:
        amounts = CreditAccount.objects.filter(organization=org).values_list("balance", "held").first()
        if amounts is None:
            return
        available = amounts[0] - amounts[1]
    if threshold is UNKNOWN:
        threshold = (BillingProfile.objects.filter(organization=org)
                     .values_list("low_balance_threshold", flat=True).first())
    threshold = DEFAULT_LOW_BALANCE_THRESHOLD if threshold is None else threshold
    if available >= threshold:
        return  # the common case costs one indexed read
    prof = profile(org)
    now = timezone.now()
    # Conditional UPDATEs: of many concurrent requests crossing the threshold, one wins the email of the day.
    notify = BillingProfile.objects.filter(
        Q(low_balance_notified_at__isnull=True) | Q(low_balance_notified_at__lt=now - NOTIFY_EVERY), pk=prof.pk,
    ).update(low_balance_notified_at=now)
    topup = prof.auto_topup_ready and BillingProfile.objects.filter(
        Q(auto_topup_requested_at__isnull=True) | Q(auto_topup_requested_at__lt=now - TOPUP_EVERY), pk=prof.pk,
    ).update(auto_topup_requested_at=now)
    if notify or topup:
        transaction.on_commit(partial(_queue, prof.pk, org.pk, bool(notify), bool(topup)))


def _queue(profile_id: int, org_id: int, notify: bool, topup: bool) -> None:
    """Queue the job; when Redis cannot take it, give the claims back so that the next debit tries again."""
    try:
        queues.get_queue("callbacks").enqueue(run, org_id, notify=notify, topup=topup)
    except Exception as exc:  # Redis down: the debit itself has committed and must not turn into a 500
        log.warning("low-balance job for organisation %s not queued (%s); the next debit retries", org_id, exc)
        fields = {"low_balance_notified_at": None} if notify else {}
        if topup:
            fields["auto_topup_requested_at"] = None
        BillingProfile.objects.filter(pk=profile_id).update(**fields)


def run(org_id: int, notify: bool, topup: bool) -> str:
    """The RQ job: top up first (so the email can say so), then write the email."""
    from billing import checkout, emails
    from billing.stripe_client import StripeNotConfigured

    org = Organization.objects.get(pk=org_id)
    purchase = None
    if topup:
        try:
            purchase = checkout.auto_topup(org)
        except (StripeNotConfigured, stripe.StripeError) as exc:
            # The email still goes out; a top-up Stripe did charge is confirmed by its webhook.
            log.warning("auto top-up for %s did not complete: %s", org.slug, exc)
    if notify:
        emails.send_low_balance(org, topup=purchase)
    return f"notify={notify} topup={purchase.state if purchase else None}"
