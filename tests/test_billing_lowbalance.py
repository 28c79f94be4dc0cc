from datetime import timedelta

import django_rq
import pytest
from django.core import mail
from django.utils import timezone

from billing import ledger, lowbalance
from billing.models import BillingProfile, Purchase
from tests.billing_helpers import (  # noqa: F401 (fast_passwords is an autouse fixture)
    deliver,
    event,
    fast_passwords,
    session_completed,
    start_purchase,
    stripe_standin,
    web_client,
)
from tests.conftest import assert_ledger_consistent
from tests.live import empty_queues


@pytest.fixture(autouse=True)
def clean_queues():
    empty_queues()
    yield
    empty_queues()


@pytest.fixture
def owner_email(users):
    users["owner"].email = "owner@northside.example"
    users["owner"].save()
    users["member"].email = "member@northside.example"  # members cannot buy: not emailed
    users["member"].save()
    return users["owner"].email


@pytest.fixture
def stripe_api(settings):
    with stripe_standin(settings) as standin:
        yield standin


def low_balance_jobs() -> list:
    return [j for j in django_rq.get_queue("callbacks").jobs if j.func_name == "billing.lowbalance.run"]


def run_jobs() -> list:
    """Perform the queued low-balance jobs here, as a worker would."""
    jobs = low_balance_jobs()
    for job in jobs:
        job.perform()
        job.delete()
    return jobs


def spend(org, credits: int, capture) -> None:
    with capture(execute=True):
        ledger.hold(org, credits)


def test_falling_under_the_threshold_emails_owners_and_admins_at_most_once_a_day(
        org, owner_email, django_capture_on_commit_callbacks):
    spend(org, 85, django_capture_on_commit_callbacks)  # 15 left: above the default threshold of 10
    assert not low_balance_jobs()
    spend(org, 6, django_capture_on_commit_callbacks)  # 9 left
    assert len(run_jobs()) == 1
    [email] = mail.outbox
    assert email.to == [owner_email]
    assert "Northside Records" in email.subject and "is 9 " in email.body and "/billing/" in email.body
    spend(org, 1, django_capture_on_commit_callbacks)
    spend(org, 1, django_capture_on_commit_callbacks)
    assert not low_balance_jobs() and len(mail.outbox) == 1  # not again the same day

    BillingProfile.objects.update(low_balance_notified_at=timezone.now() - timedelta(hours=25))
    spend(org, 1, django_capture_on_commit_callbacks)
    run_jobs()
    assert len(mail.outbox) == 2


def test_a_warning_redis_could_not_take_is_sent_at_the_next_debit(org, owner_email, redis_down,
                                                                  django_capture_on_commit_callbacks):
    """The debit commits whatever Redis does; the day's claim on the email is given back, so it is not lost."""
    spend(org, 91, django_capture_on_commit_callbacks)  # 9 left: under the threshold, with Redis down
    assert ledger.account(org).held == 91  # the hold stands
    assert BillingProfile.objects.get(organization=org).low_balance_notified_at is None  # the claim given back
    redis_down.restore()
    spend(org, 1, django_capture_on_commit_callbacks)
    assert len(run_jobs()) == 1 and len(mail.outbox) == 1


def test_the_threshold_is_per_organisation_and_0_turns_it_off(org, other_org, owner_email,
                                                              django_capture_on_commit_callbacks):
    lowbalance.profile(org)
    BillingProfile.objects.filter(organization=org).update(low_balance_threshold=0)
    BillingProfile.objects.create(organization=other_org, low_balance_threshold=95)
    spend(org, 100, django_capture_on_commit_callbacks)
    assert not low_balance_jobs()
    spend(other_org, 6, django_capture_on_commit_callbacks)
    assert len(low_balance_jobs()) == 1


def test_the_billing_page_saves_the_threshold_and_auto_top_up(users, org):
    web = web_client(users["owner"])
    response = web.post("/billing/settings", {"low_balance_threshold": "50", "auto_topup_credits": "1000"})
    assert response.status_code == 302
    prof = BillingProfile.objects.get(organization=org)
    assert (prof.low_balance_threshold, prof.auto_topup_credits) == (50, 1000)
    assert not prof.auto_topup_ready  # no card saved yet
    web.post("/billing/settings", {"low_balance_threshold": "-1", "auto_topup_credits": "7"})
    assert BillingProfile.objects.get(organization=org).low_balance_threshold == 50


def test_auto_top_up_is_off_by_default(org, owner_email, stripe_api, django_capture_on_commit_callbacks):
    assert BillingProfile.objects.get_or_create(organization=org)[0].auto_topup_credits == 0
    spend(org, 95, django_capture_on_commit_callbacks)
    run_jobs()
    assert not stripe_api.calls("POST", "/v1/payment_intents")
    assert len(mail.outbox) == 1 and "automatic top-up" not in mail.outbox[0].body


def enable_auto_topup(users, org, stripe_api) -> str:
    """Opt in, then buy once: that checkout saves the card for off-session top-ups."""
    web = web_client(users["owner"])
    web.post("/billing/settings", {"low_balance_threshold": "20", "auto_topup_credits": "1000"})
    session_id = start_purchase(web, 100)
    [created] = stripe_api.calls("POST", "/v1/checkout/sessions")
    assert created["params"]["payment_intent_data"]["setup_future_usage"] == "off_session"
    assert deliver(session_completed(stripe_api, session_id)).status_code == 200
    prof = BillingProfile.objects.get(organization=org)
    assert prof.auto_topup_ready and prof.stripe_payment_method.startswith("pm_")
    return prof.stripe_payment_method


def test_auto_top_up_charges_the_saved_card_off_session_and_grants_once(
        users, org, owner_email, stripe_api, django_capture_on_commit_callbacks):
    card = enable_auto_topup(users, org, stripe_api)
    spend(org, 185, django_capture_on_commit_callbacks)  # 15 left, under 20
    assert len(run_jobs()) == 1
    [topup] = stripe_api.calls("POST", "/v1/payment_intents")
    params = topup["params"]
    assert (params["amount"], params["currency"], params["off_session"], params["confirm"]) == (
        "12000", "usd", "true", "true")
    assert params["payment_method"] == card
    assert params["customer"] == BillingProfile.objects.get(organization=org).stripe_customer_id
    purchase = Purchase.objects.get(kind=Purchase.Kind.AUTO_TOPUP)
    assert purchase.state == Purchase.State.PAID and purchase.receipt_url
    assert ledger.account(org).available == 1015
    assert "automatic top-up of 1000 credits" in mail.outbox[0].body

    # Stripe's own event about the same payment changes nothing.
    pi = dict(stripe_api.payment_intents[purchase.stripe_payment_intent], latest_charge=None)
    assert deliver(event("payment_intent.succeeded", pi)).status_code == 200
    assert ledger.account(org).available == 1015
    # A second crossing within the hour does not charge again.
    spend(org, 1000, django_capture_on_commit_callbacks)
    assert not low_balance_jobs()
    assert len(stripe_api.calls("POST", "/v1/payment_intents")) == 1
    assert_ledger_consistent(org)


def test_a_declined_auto_top_up_grants_nothing(users, org, owner_email, stripe_api,
                                               django_capture_on_commit_callbacks):
    card = enable_auto_topup(users, org, stripe_api)
    stripe_api.decline_payment_methods.add(card)
    spend(org, 185, django_capture_on_commit_callbacks)
    run_jobs()
    assert Purchase.objects.get(kind=Purchase.Kind.AUTO_TOPUP).state == Purchase.State.FAILED
    assert ledger.account(org).available == 15
    assert "attempted" in mail.outbox[0].body
    assert_ledger_consistent(org)


def test_an_auto_top_up_confirmed_only_by_the_webhook_is_granted(users, org, stripe_api):
    """If the worker died after Stripe charged, payment_intent.succeeded still grants the credits, once."""
    enable_auto_topup(users, org, stripe_api)
    purchase = Purchase.objects.create(organization=org, kind=Purchase.Kind.AUTO_TOPUP, credits=1000,
                                       amount_cents=12000, currency="usd")
    metadata = {"kind": "auto_topup", "purchase_id": str(purchase.pk), "organization_id": str(org.pk),
                "credits": "1000"}
    pi = stripe_api._payment_intent(stripe_api.new_id("pi"), 12000, None, None, metadata)
    evt = event("payment_intent.succeeded", dict(pi, latest_charge=pi["latest_charge"]["id"]))
    assert deliver(evt).status_code == deliver(evt).status_code == 200
    purchase.refresh_from_db()
    assert purchase.state == Purchase.State.PAID and purchase.receipt_url == pi["latest_charge"]["receipt_url"]
    assert ledger.account(org).balance == 1200
    assert_ledger_consistent(org)
