"""`POST /billing/stripe/webhook`: verified with the endpoint secret, each event handled once by its id.

Every handler is also idempotent on its own (run-once confirm, cumulative refund amounts), so an event that was
applied but not recorded (a crash in between) still moves nothing the second time.
"""

import logging
import math

import stripe
from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from albumart.api import json_envelope
from billing import checkout, ledger
from billing.models import Purchase, StripeEvent
from billing.stripe_client import as_int, object_id

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """The event is ours but arrived before what it depends on; a 503 makes Stripe send it again."""


def _answer(status: int, msg: str) -> JsonResponse:
    return json_envelope(status, msg)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    if not settings.STRIPE_WEBHOOK_SECRET:
        return _answer(503, "Stripe webhooks are not configured: set STRIPE_WEBHOOK_SECRET.")
    try:
        event = stripe.Webhook.construct_event(request.body, request.headers.get("Stripe-Signature"),
                                               settings.STRIPE_WEBHOOK_SECRET).to_dict()
    except (ValueError, stripe.SignatureVerificationError) as exc:
        log.warning("Stripe webhook refused: %s", exc)
        return _answer(400, "Invalid payload or Stripe-Signature.")
    if StripeEvent.objects.filter(event_id=event["id"]).exists():
        return _answer(200, "already processed")
    handler = HANDLERS.get(event["type"])
    obj = event.get("data", {}).get("object") or {}
    try:
        # Calls to Stripe happen before the transaction so that no lock is held across the network.
        prepared = handler.prepare(obj) if handler and handler.prepare else None
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = StripeEvent.objects.create(event_id=event["id"], type=event["type"],
                                                        livemode=bool(event.get("livemode")), payload=event)
            except IntegrityError:
                return _answer(200, "already processed")  # a concurrent delivery of the same event won
            outcome = handler.apply(obj, prepared) if handler else "ignored"
            StripeEvent.objects.filter(pk=record.pk).update(outcome=outcome[:200])
    except (RetryLater, stripe.StripeError, DatabaseError) as exc:
        log.warning("Stripe event %s (%s) not processed, Stripe will retry: %s", event["id"], event["type"], exc)
        return _answer(503, "Temporarily unable to process this event; retry later.")
    except Exception:
        log.exception("Stripe event %s (%s) failed", event["id"], event["type"])
        return _answer(500, "Event processing failed; retry later.")
    log.info("Stripe event %s (%s): %s", event["id"], event["type"], outcome)
    return _answer(200, outcome)


class Handler:
    def __init__(self, apply, prepare=None):
        self.apply = apply
        self.prepare = prepare


def _apply_session(session: dict, prepared) -> str:
    purchase, details = prepared
    if purchase is None:
        return "not an AlbumArt checkout"
    granted = checkout.confirm_session(purchase, details)
    return f"purchase {purchase.pk}: {'granted' if granted else purchase.state}"


def _closer(state: str, outcome: str):
    """A handler ending the session's purchase in `state` (an expired session or a failed delayed payment)."""

    def apply(session: dict, _) -> str:
        purchase = Purchase.objects.filter(stripe_session_id=session.get("id")).first()
        if purchase is None:
            return "not an AlbumArt checkout"
        purchase.close(state)
        return f"purchase {purchase.pk}: {outcome}"

    return apply


def _topup_purchase(pi: dict) -> Purchase | None:
    metadata = pi.get("metadata") or {}
    if metadata.get("kind") != Purchase.Kind.AUTO_TOPUP:
        return None  # checkout payments are fulfilled through their session
    return (Purchase.objects.filter(stripe_payment_intent=pi.get("id")).first()
            or Purchase.objects.filter(pk=as_int(metadata.get("purchase_id")),
                                       kind=Purchase.Kind.AUTO_TOPUP).first())


def _prepare_topup_succeeded(pi: dict):
    purchase = _topup_purchase(pi)
    if purchase is None or purchase.state != Purchase.State.PENDING:
        return purchase, {}
    details = checkout.payment_details(pi["id"])
    details.pop("payment_method", None)
    return purchase, details


def _apply_topup_succeeded(pi: dict, prepared) -> str:
    purchase, details = prepared
    if purchase is None:
        return "not an AlbumArt auto top-up"
    granted = purchase.confirm(**details)
    return f"auto top-up {purchase.pk}: {'granted' if granted else 'already ' + purchase.state}"


def _apply_topup_failed(pi: dict, _) -> str:
    purchase = _topup_purchase(pi)
    if purchase is None:
        return "not an AlbumArt auto top-up"
    purchase.close(Purchase.State.FAILED)
    return f"auto top-up {purchase.pk}: failed"


def _purchase_for_charge(payment_intent: str, charge_id: str, metadata: dict) -> Purchase | None:
    """The paid purchase a charge belongs to, or None if it is not ours or was never granted."""
    purchase = None
    if payment_intent:
        purchase = Purchase.objects.filter(stripe_payment_intent=payment_intent).first()
    if purchase is None and charge_id:
        purchase = Purchase.objects.filter(stripe_charge_id=charge_id).first()
    if purchase is None and metadata.get("purchase_id"):
        purchase = Purchase.objects.filter(pk=as_int(metadata["purchase_id"])).first()
    if purchase is not None and purchase.state == Purchase.State.PENDING:
        # Events arrive in any order: the refund of a payment whose completion we have not handled yet.
        raise RetryLater(f"purchase {purchase.pk} is not confirmed yet")
    if purchase is not None and purchase.state != Purchase.State.PAID:
        return None
    return purchase


def _apply_refund(charge: dict, _) -> str:
    purchase = _purchase_for_charge(object_id(charge.get("payment_intent")), charge.get("id", ""),
                                    charge.get("metadata") or {})
    if purchase is None:
        return "not an AlbumArt purchase"
    amount, refunded = charge.get("amount") or purchase.amount_cents, charge.get("amount_refunded") or 0
    # Stripe reports the cumulative refund, so the credits to take back are a target, not an increment:
    # replays and out-of-order refund events take nothing twice. Rounded up: a refund never leaves paid credits.
    target = min(math.ceil(purchase.credits * refunded / amount) if amount else purchase.credits,
                 purchase.credits - purchase.credits_disputed)
    delta = target - purchase.credits_refunded
    if delta <= 0:
        return f"purchase {purchase.pk}: nothing more to take back"
    moved = Purchase.objects.filter(pk=purchase.pk, credits_refunded=purchase.credits_refunded).update(
        credits_refunded=target, amount_refunded_cents=refunded)
    if not moved:
        raise RetryLater(f"purchase {purchase.pk} changed concurrently")
    taken, owed = ledger.reverse(purchase.organization, delta, purchase, f"refund of {purchase.stripe_ref}")
    return f"purchase {purchase.pk}: refund took {taken}, debt {owed}"


def _purchase_for_dispute(dispute: dict):
    return _purchase_for_charge(object_id(dispute.get("payment_intent")), object_id(dispute.get("charge")),
                                dispute.get("metadata") or {})


def _apply_dispute_created(dispute: dict, _) -> str:
    purchase = _purchase_for_dispute(dispute)
    if purchase is None:
        return "not an AlbumArt purchase"
    delta = purchase.credits - purchase.credits_refunded - purchase.credits_disputed
    moved = Purchase.objects.filter(pk=purchase.pk, credits_disputed=purchase.credits_disputed).update(
        credits_disputed=F("credits_disputed") + max(delta, 0), dispute_status=dispute.get("status") or "disputed")
    if not moved:
        raise RetryLater(f"purchase {purchase.pk} changed concurrently")
    if delta <= 0:
        return f"purchase {purchase.pk}: nothing more to take back"
    taken, owed = ledger.reverse(purchase.organization, delta, purchase, f"dispute on {purchase.stripe_ref}")
    return f"purchase {purchase.pk}: dispute took {taken}, debt {owed}"


def _apply_dispute_closed(dispute: dict, _) -> str:
    purchase = _purchase_for_dispute(dispute)
    if purchase is None:
        return "not an AlbumArt purchase"
    status = dispute.get("status") or "closed"
    disputed = purchase.credits_disputed
    if status != "won" or not disputed:
        Purchase.objects.filter(pk=purchase.pk).update(dispute_status=status)
        return f"purchase {purchase.pk}: dispute {status}"
    # Won: the money stays with us, so the credits taken back return (settling any debt first).
    if not Purchase.objects.filter(pk=purchase.pk, credits_disputed=disputed).update(credits_disputed=0,
                                                                                     dispute_status=status):
        raise RetryLater(f"purchase {purchase.pk} changed concurrently")
    ledger.grant(purchase.organization, disputed, note=f"dispute won on {purchase.stripe_ref}", purchase=purchase)
    return f"purchase {purchase.pk}: dispute won, {disputed} returned"


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": Handler(_apply_session, checkout.session_payment),
    "checkout.session.async_payment_succeeded": Handler(_apply_session, checkout.session_payment),
    "checkout.session.async_payment_failed": Handler(_closer(Purchase.State.FAILED, "payment failed")),
    "checkout.session.expired": Handler(_closer(Purchase.State.EXPIRED, "expired")),
    "payment_intent.succeeded": Handler(_apply_topup_succeeded, _prepare_topup_succeeded),
    "payment_intent.payment_failed": Handler(_apply_topup_failed),
    "charge.refunded": Handler(_apply_refund),
    "charge.dispute.created": Handler(_apply_dispute_created),
    "charge.dispute.closed": Handler(_apply_dispute_closed),
}
