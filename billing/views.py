"""The billing pages of the dashboard: packs and purchase, receipts, ledger and monthly statements.

Only owners and admins of the current organisation see them; a member gets 403, a user without one 404.
"""

import functools
import logging

import stripe
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import current_membership
from accounts.models import Membership
from billing import checkout, ledger, stripe_client
from billing.lowbalance import profile
from billing.models import BillingProfile, Purchase
from billing.statements import statement, statement_csv

log = logging.getLogger(__name__)
BILLING_ROLES = {Membership.Role.OWNER, Membership.Role.ADMIN}


def billing_page(view):
    """Login required; passes the organisation chosen in the dashboard's switcher (else the user's first)."""

    @functools.wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        membership = current_membership(request)
        if membership is None:
            raise Http404("You are not a member of any organisation.")
        if membership.role not in BILLING_ROLES:
            raise PermissionDenied("Only owners and admins of the organisation can see billing.")
        return view(request, membership.organization, *args, **kwargs)

    return wrapper


class SettingsForm(forms.Form):
    low_balance_threshold = forms.IntegerField(min_value=0, max_value=1_000_000,
                                               help_text="Email owners and admins when fewer credits are available "
                                                         "(at most once a day); 0 turns it off.")
    auto_topup_credits = forms.TypedChoiceField(coerce=int, required=False, empty_value=0,
                                                help_text="Buy this pack with the saved card when the balance runs "
                                                          "low. Off by default.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["auto_topup_credits"].choices = [(0, "off")] + [
            (p["credits"], f"{p['credits']:,} credits") for p in stripe_client.packs()]


def _packs() -> list[dict]:
    return [{**p, "price": f"{p['amount_cents'] / 100:,.2f} {settings.CURRENCY.upper()}"}
            for p in stripe_client.packs()]


@require_GET
@billing_page
def overview(request, org):
    prof = profile(org)
    form = SettingsForm(initial={"low_balance_threshold": prof.low_balance_threshold,
                                 "auto_topup_credits": prof.auto_topup_credits})
    return render(request, "billing/overview.html", {
        "org": org, "account": ledger.account(org), "profile": prof, "packs": _packs(), "form": form,
        "stripe_configured": stripe_client.configured(), "webhooks_configured": stripe_client.webhooks_configured(),
        "setup_help": stripe_client.SETUP_HELP, "webhook_url": request.build_absolute_uri(reverse("stripe-webhook")),
        "recent": org.purchases.exclude(state=Purchase.State.PENDING)[:5],
    })


@require_POST
@billing_page
def buy(request, org):
    if not stripe_client.configured():
        messages.error(request, stripe_client.SETUP_HELP)
        return redirect("billing")
    try:
        credits = int(request.POST.get("credits", ""))
    except ValueError:
        credits = 0
    if stripe_client.pack_for(credits) is None:
        messages.error(request, "Choose one of the credit packs.")
        return redirect("billing")
    success = request.build_absolute_uri(reverse("billing-purchases")) + "?session_id={CHECKOUT_SESSION_ID}"
    try:
        url = checkout.start_checkout(org, credits, success_url=success,
                                      cancel_url=request.build_absolute_uri(reverse("billing")), user=request.user)
    except stripe.StripeError as exc:
        log.warning("checkout for %s failed: %s", org.slug, exc)
        messages.error(request, "Stripe could not start the checkout; nothing was charged. Try again in a minute.")
        return redirect("billing")
    response = HttpResponseRedirect(url)
    response.status_code = 303  # what Stripe's Checkout guide uses after a POST
    return response


@require_POST
@billing_page
def update_settings(request, org):
    form = SettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()))
        return redirect("billing")
    BillingProfile.objects.filter(pk=profile(org).pk).update(**form.cleaned_data)
    if form.cleaned_data["auto_topup_credits"] and not profile(org).stripe_payment_method:
        messages.info(request, "Auto top-up starts after your next purchase, which saves the card for it.")
    messages.success(request, "Billing settings saved.")
    return redirect("billing")


@require_GET
@billing_page
def purchases(request, org):
    if session_id := request.GET.get("session_id"):
        _confirm_returning_buyer(request, org, session_id)
        return redirect("billing-purchases")
    return render(request, "billing/purchases.html", {"org": org, "purchases": org.purchases.all()[:200]})


def _confirm_returning_buyer(request, org, session_id: str) -> None:
    """Stripe recommends fulfilling on the success page too: the webhook may be slower than the buyer."""
    try:
        session = stripe_client.client().v1.checkout.sessions.retrieve(session_id).to_dict()
    except (stripe.StripeError, stripe_client.StripeNotConfigured) as exc:
        log.warning("could not look up checkout session %s: %s", session_id, exc)
        messages.info(request, "Your payment is being confirmed; the credits appear here within a minute.")
        return
    if str(session.get("client_reference_id")) != str(org.pk):
        return  # another organisation's session: say nothing about it
    purchase = checkout.fulfill_session(session)
    if purchase is not None and purchase.state == Purchase.State.PAID:
        messages.success(request, f"Payment received: {purchase.credits:,} credits were added.")
    else:
        messages.info(request, "Your payment is being confirmed; the credits appear here once Stripe confirms it.")


def _month(value: str | None) -> tuple[int, int]:
    now = timezone.now()
    try:
        year, month = (int(x) for x in (value or "").split("-"))
        if 2000 <= year <= 9999 and 1 <= month <= 12:
            return year, month
    except ValueError:
        pass
    return now.year, now.month


@require_GET
@billing_page
def ledger_page(request, org):
    year, month = _month(request.GET.get("month"))
    st = statement(org, year, month)
    prev_year, prev_month = (year, month - 1) if month > 1 else (year - 1, 12)
    next_year, next_month = (year, month + 1) if month < 12 else (year + 1, 1)
    return render(request, "billing/ledger.html", {
        "org": org, "st": st, "account": ledger.account(org),
        "prev": f"{prev_year:04d}-{prev_month:02d}", "next": f"{next_year:04d}-{next_month:02d}",
    })


@require_GET
@billing_page
def statement_download(request, org, year: int, month: int):
    if not (2000 <= year <= 9999 and 1 <= month <= 12):
        raise Http404("No such month.")
    st = statement(org, year, month)
    response = HttpResponse(statement_csv(st), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="albumart-{org.slug}-{st.label}.csv"'
    return response
