"""Buying credits: a Stripe Checkout Session per purchase, one Stripe Customer per organisation, auto top-ups."""

import logging

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.models import Organization
from billing.lowbalance import profile
from billing.models import BillingProfile, Purchase
from billing.stripe_client import as_int, client, object_id, pack_for

log = logging.getLogger(__name__)
PAID_STATUSES = {"paid", "no_payment_required"}


def ensure_customer(org: Organization, replacing: str = "") -> str:
    """The organisation's Stripe Customer id, created on first use and then reused."""
    prof = profile(org)
    if prof.stripe_customer_id:
        return prof.stripe_customer_id
    # The idempotency key makes two concurrent first purchases get the same Customer from Stripe.
    customer = client().v1.customers.create(
        params={"name": org.name, "metadata": {"organization_id": str(org.pk), "organization_slug": org.slug}},
        options={"idempotency_key": f"albumart-customer-{org.slug}-{replacing or 'first'}"},
    )
    BillingProfile.objects.filter(pk=prof.pk, stripe_customer_id__isnull=True).update(stripe_customer_id=customer.id)
    prof.refresh_from_db(fields=["stripe_customer_id"])
    return prof.stripe_customer_id


def start_checkout(org: Organization, credits: int, *, success_url: str, cancel_url: str, user=None) -> str:
    """Create a pending Purchase and its Checkout Session; returns the URL to send the buyer to."""
    pack = pack_for(credits)
    if pack is None:
        raise ValueError(f"there is no pack of {credits} credits")
    purchase = Purchase.objects.create(organization=org, credits=pack["credits"], amount_cents=pack["amount_cents"],
                                       currency=settings.CURRENCY, created_by=user)
    if pack["price_id"]:
        line_item = {"price": pack["price_id"], "quantity": 1}
    else:
        line_item = {"quantity": 1, "price_data": {
            "currency": settings.CURRENCY, "unit_amount": pack["amount_cents"],
            "product_data": {"name": f"{pack['credits']:,} AlbumArt credits"},
        }}
    metadata = {"organization_id": str(org.pk), "purchase_id": str(purchase.pk), "credits": str(pack["credits"])}
    payment_intent_data = {"metadata": metadata, "description": f"{pack['credits']:,} AlbumArt credits"}
    if profile(org).auto_topup_credits:
        # Keep the card for off-session auto top-ups, which the organisation opted into.
        payment_intent_data["setup_future_usage"] = "off_session"
    params = {"mode": "payment", "client_reference_id": str(org.pk), "line_items": [line_item], "metadata": metadata,
              "payment_intent_data": payment_intent_data, "success_url": success_url, "cancel_url": cancel_url}
    stale = ""
    try:
        for attempt in (1, 2):
            params["customer"] = ensure_customer(org, replacing=stale)
            try:
                session = client().v1.checkout.sessions.create(
                    params=params, options={"idempotency_key": f"albumart-checkout-{org.slug}-{purchase.pk}-{attempt}"})
                break
            except stripe.InvalidRequestError as exc:
                if attempt == 2 or exc.param != "customer":
                    raise
                # The saved Customer is gone from this Stripe account (deleted, or test keys swapped for live ones).
                stale = params["customer"]
                BillingProfile.objects.filter(organization=org, stripe_customer_id=stale).update(
                    stripe_customer_id=None)
    except stripe.StripeError:
        purchase.close(Purchase.State.FAILED)
        raise
    Purchase.objects.filter(pk=purchase.pk).update(stripe_session_id=session.id)
    return session.url


def purchase_for_session(session: dict) -> Purchase | None:
    """Ours by session id; else by the metadata we sent (our save of the id was lost); else None: not ours."""
    found = Purchase.objects.select_related("organization").filter(stripe_session_id=session["id"]).first()
    if found:
        return found
    metadata = session.get("metadata") or {}
    org = Organization.objects.filter(pk=as_int(session.get("client_reference_id"))).first()
    credits = as_int(metadata.get("credits"))
    if org is None or not credits:
        return None
    claimed = Purchase.objects.filter(pk=as_int(metadata.get("purchase_id")), organization=org,
                                      stripe_session_id__isnull=True).update(stripe_session_id=session["id"])
    if not claimed:
        try:
            with transaction.atomic():
                Purchase.objects.create(organization=org, credits=credits, stripe_session_id=session["id"],
                                        amount_cents=session.get("amount_total") or 0,
                                        currency=session.get("currency") or settings.CURRENCY)
        except IntegrityError:
            pass  # a concurrent delivery created it
    return Purchase.objects.select_related("organization").get(stripe_session_id=session["id"])


def payment_details(payment_intent_id: str) -> dict:
    """The charge id, receipt URL and saved payment method of a PaymentIntent, asked of Stripe."""
    pi = client().v1.payment_intents.retrieve(payment_intent_id, params={"expand": ["latest_charge"]}).to_dict()
    charge = pi.get("latest_charge")
    details = {"stripe_payment_intent": pi["id"], "payment_method": object_id(pi.get("payment_method"))}
    if isinstance(charge, dict):
        details.update(stripe_charge_id=charge.get("id") or "", receipt_url=charge.get("receipt_url") or "")
    return details


def session_payment(session: dict) -> tuple[Purchase | None, dict | None]:
    """The purchase of a Checkout Session and, if it is paid and still to be granted, its payment details
    from Stripe (network calls: make them outside any transaction)."""
    purchase = purchase_for_session(session)
    if purchase is None or purchase.state != Purchase.State.PENDING:
        return purchase, None
    if session.get("payment_status") not in PAID_STATUSES:
        return purchase, None  # a delayed payment method: async_payment_succeeded comes later
    details = {"amount_cents": session.get("amount_total")}
    if pi_id := object_id(session.get("payment_intent")):
        details.update(payment_details(pi_id))
    return purchase, details


def confirm_session(purchase: Purchase | None, details: dict | None) -> bool:
    """Grant the credits of a paid session, once."""
    if purchase is None or details is None:
        return False
    details = dict(details)
    payment_method = details.pop("payment_method", "")
    granted = purchase.confirm(**details)
    if granted and payment_method:
        _remember_payment_method(purchase.organization, payment_method)
    return granted


def fulfill_session(session: dict) -> Purchase | None:
    """Grant a completed, paid Checkout Session's credits, once; the success page's way (the webhook's is
    the same in two steps)."""
    purchase, details = session_payment(session)
    confirm_session(purchase, details)
    return purchase


def _remember_payment_method(org: Organization, payment_method: str) -> None:
    # Only organisations that opted into auto top-up asked Stripe to keep the card (setup_future_usage).
    BillingProfile.objects.filter(organization=org, auto_topup_credits__gt=0).update(
        stripe_payment_method=payment_method)


def auto_topup(org: Organization) -> Purchase | None:
    """Charge the saved payment method for the organisation's auto top-up pack, off-session."""
    prof = profile(org)
    pack = pack_for(prof.auto_topup_credits)
    if not prof.auto_topup_ready or pack is None:
        return None
    purchase = Purchase.objects.create(organization=org, kind=Purchase.Kind.AUTO_TOPUP, credits=pack["credits"],
                                       amount_cents=pack["amount_cents"], currency=settings.CURRENCY)
    metadata = {"organization_id": str(org.pk), "purchase_id": str(purchase.pk), "credits": str(pack["credits"]),
                "kind": Purchase.Kind.AUTO_TOPUP}
    try:
        pi = client().v1.payment_intents.create(
            params={
                "amount": pack["amount_cents"], "currency": settings.CURRENCY, "customer": prof.stripe_customer_id,
                "payment_method": prof.stripe_payment_method, "off_session": True, "confirm": True,
                "description": f"{pack['credits']:,} AlbumArt credits (auto top-up)", "metadata": metadata,
                "expand": ["latest_charge"],
            },
            options={"idempotency_key": f"albumart-topup-{org.slug}-{purchase.pk}"},
        ).to_dict()
    except stripe.CardError as exc:
        # Declined: nothing was charged. Other errors leave it pending: the webhook may still confirm it.
        log.warning("auto top-up for %s declined: %s", org.slug, exc.user_message)
        purchase.close(Purchase.State.FAILED)
        purchase.refresh_from_db()
        return purchase
    Purchase.objects.filter(pk=purchase.pk).update(stripe_payment_intent=pi["id"])
    purchase.stripe_payment_intent = pi["id"]
    if pi.get("status") == "succeeded":
        charge = pi.get("latest_charge")
        charge = charge if isinstance(charge, dict) else {}
        purchase.confirm(stripe_charge_id=charge.get("id") or "", receipt_url=charge.get("receipt_url") or "")
    purchase.refresh_from_db()
    return purchase
