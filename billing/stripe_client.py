"""The Stripe API client, built from settings; STRIPE_API_BASE points it at a local stand-in in tests."""

import stripe
from django.conf import settings

# stripe-python retries connection errors and 5xx itself, with an idempotency key on every POST.
NETWORK_RETRIES = 2

SETUP_HELP = (
    "Stripe is not configured. Set STRIPE_SECRET_KEY (sk_test_... in test mode) and STRIPE_WEBHOOK_SECRET "
    "(whsec_..., printed by `stripe listen --forward-to <host>/billing/stripe/webhook`), then restart."
)


class StripeNotConfigured(Exception):
    def __init__(self):
        super().__init__(SETUP_HELP)


def configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def webhooks_configured() -> bool:
    return bool(settings.STRIPE_WEBHOOK_SECRET)


def client() -> stripe.StripeClient:
    if not configured():
        raise StripeNotConfigured()
    bases = {"api": settings.STRIPE_API_BASE.rstrip("/")} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses=bases, max_network_retries=NETWORK_RETRIES)


def packs() -> list[dict]:
    return [dict(p) for p in settings.CREDIT_PACKS]


def pack_for(credits: int) -> dict | None:
    return next((p for p in packs() if p["credits"] == credits), None)


def object_id(value) -> str:
    """Stripe fields hold an id or, when expanded, the object."""
    if isinstance(value, dict):
        return value.get("id") or ""
    return value or ""


def as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
