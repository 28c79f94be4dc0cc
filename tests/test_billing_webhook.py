import hashlib
import hmac
import json
import time

import pytest

from billing import ledger
from billing.models import CreditEntry, Purchase, StripeEvent
from generation.models import CoverTask
from tests.billing_helpers import (  # noqa: F401 (fast_passwords is an autouse fixture)
    WEBHOOK_SECRET,
    charge_refunded,
    deliver,
    event,
    fast_passwords,
    sign,
    start_purchase,
    stripe_standin,
    web_client,
)
from tests.conftest import assert_ledger_consistent

GENERATE = {"genre": "edm", "text_artist": "Pulse", "text_album": "Grid", "count": 1}


@pytest.fixture
def stripe_api(settings):
    with stripe_standin(settings) as standin:
        yield standin


@pytest.fixture
def checkout(users, org, stripe_api):
    """Start a purchase as the owner; returns a function giving the paid session's completed event."""

    def buy(credits: int = 100, event_id: str | None = None) -> dict:
        session_id = start_purchase(web_client(users["owner"]), credits)
        return event("checkout.session.completed", stripe_api.pay(session_id), event_id)

    return buy


def paid(org, credits: int, stripe_api) -> Purchase:
    """A confirmed purchase as the webhook leaves it, with its charge on the stand-in."""
    session = stripe_api.sessions
    purchase = Purchase.objects.create(organization=org, credits=credits, amount_cents=credits * 15, currency="usd",
                                       stripe_session_id="cs_direct_" + str(len(session)))
    pi = stripe_api._payment_intent(stripe_api.new_id("pi"), credits * 15, None, None, {})
    purchase.confirm(stripe_payment_intent=pi["id"], stripe_charge_id=pi["latest_charge"]["id"])
    return purchase


def charge_of(purchase: Purchase, stripe_api) -> dict:
    return stripe_api.payment_intents[purchase.stripe_payment_intent]["latest_charge"]


def snapshot(org) -> tuple:
    acct = ledger.account(org)
    return (acct.balance, acct.held, acct.debt, CreditEntry.objects.count(), StripeEvent.objects.count(),
            list(Purchase.objects.values_list("state", flat=True)))


# -- signatures ----------------------------------------------------------------------------------------------------
def test_a_correctly_signed_event_is_accepted_with_the_t_v1_hmac_scheme(org, checkout):
    evt = checkout(100)
    payload = json.dumps(evt)
    timestamp = int(time.time())
    # Stripe's scheme, by hand: v1 = hex HMAC-SHA256 of "{t}.{raw body}" keyed with the whole whsec_ secret.
    v1 = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    assert sign(payload, timestamp=timestamp) == f"t={timestamp},v1={v1}"
    response = deliver(evt, signature=f"t={timestamp},v1={v1}")
    assert response.status_code == 200, response.content
    assert ledger.account(org).balance == 200


@pytest.mark.parametrize("how", ["wrong secret", "tampered body", "no header", "stale timestamp", "garbage header",
                                 "not json"])
def test_a_bad_signature_is_400_and_changes_nothing(org, checkout, how, client):
    evt = checkout(100)
    before = snapshot(org)
    payload = json.dumps(evt)
    if how == "wrong secret":
        response = deliver(evt, secret="whsec_someone_else")
    elif how == "tampered body":
        signature = sign(payload)
        evt["data"]["object"]["metadata"]["credits"] = "10000"
        response = deliver(evt, signature=signature)
    elif how == "no header":
        response = deliver(evt, signature="")
    elif how == "stale timestamp":
        response = deliver(evt, signature=sign(payload, timestamp=int(time.time()) - 3600))
    elif how == "garbage header":
        response = deliver(evt, signature="v1=deadbeef")
    else:
        from django.test import Client

        response = Client().post("/billing/stripe/webhook", data="{not json", content_type="application/json",
                                 HTTP_STRIPE_SIGNATURE=sign("{not json"))
    assert response.status_code == 400
    assert snapshot(org) == before


def test_without_a_webhook_secret_events_are_refused_with_503_so_stripe_retries(org, checkout, settings):
    evt = checkout(100)
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert deliver(evt).status_code == 503
    assert ledger.account(org).balance == 100 and not StripeEvent.objects.exists()


# -- grants ------------------------------------------------------------------------------------------------------
def test_replaying_the_same_event_five_times_grants_once(org, checkout):
    evt = checkout(1000)
    answers = [deliver(evt) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["msg"] for a in answers[1:]] == ["already processed"] * 4
    assert ledger.account(org).balance == 1100
    grant = CreditEntry.objects.get(organization=org, kind="grant", purchase__isnull=False)
    purchase = Purchase.objects.get()
    assert grant.amount == 1000 and grant.purchase == purchase
    assert purchase.stripe_session_id in grant.note
    assert StripeEvent.objects.count() == 1
    assert_ledger_consistent(org)


def test_two_different_sessions_grant_twice(org, checkout):
    first, second = checkout(100), checkout(100)
    assert deliver(first).status_code == deliver(second).status_code == 200
    assert ledger.account(org).balance == 300
    assert Purchase.objects.filter(state="paid").count() == 2
    assert_ledger_consistent(org)


def test_the_same_session_in_two_different_events_still_grants_once(org, checkout):
    completed = checkout(100)
    again = event("checkout.session.async_payment_succeeded", completed["data"]["object"])
    assert deliver(completed).status_code == deliver(again).status_code == 200
    assert ledger.account(org).balance == 200
    assert StripeEvent.objects.count() == 2


def test_the_purchase_records_the_payment_and_its_receipt(org, checkout, stripe_api):
    evt = checkout(100)
    deliver(evt)
    purchase = Purchase.objects.get()
    pi = stripe_api.payment_intents[evt["data"]["object"]["payment_intent"]]
    assert purchase.stripe_payment_intent == pi["id"]
    assert purchase.stripe_charge_id == pi["latest_charge"]["id"]
    assert purchase.receipt_url == pi["latest_charge"]["receipt_url"]
    assert purchase.paid_at is not None and purchase.amount_cents == 1500
    [lookup] = stripe_api.calls("GET", "/v1/payment_intents/")
    assert lookup["params"] == {"expand": ["latest_charge"]}


def test_an_unpaid_completion_waits_for_the_async_payment(org, checkout, stripe_api):
    evt = checkout(100)
    session = evt["data"]["object"]
    session["payment_status"] = "unpaid"
    assert deliver(evt).status_code == 200
    assert ledger.account(org).balance == 100
    session["payment_status"] = "paid"
    assert deliver(event("checkout.session.async_payment_succeeded", session)).status_code == 200
    assert ledger.account(org).balance == 200


def test_a_transient_stripe_error_is_503_and_the_retry_grants(org, checkout, stripe_api):
    evt = checkout(100)
    stripe_api.fail_next = 1
    assert deliver(evt).status_code == 503
    assert ledger.account(org).balance == 100 and not StripeEvent.objects.exists()
    assert deliver(evt).status_code == 200
    assert ledger.account(org).balance == 200


def test_a_session_we_lost_track_of_is_granted_from_its_metadata(org, checkout):
    evt = checkout(100)
    Purchase.objects.all().delete()
    assert deliver(evt).status_code == 200
    assert ledger.account(org).balance == 200
    assert Purchase.objects.get().stripe_session_id == evt["data"]["object"]["id"]


def test_foreign_and_unknown_events_answer_200_and_move_nothing(org, stripe_api):
    before = snapshot(org)
    foreign = {"id": "cs_other_product", "object": "checkout.session", "payment_status": "paid", "metadata": {},
               "client_reference_id": None, "payment_intent": "pi_x"}
    assert deliver(event("checkout.session.completed", foreign)).status_code == 200
    assert deliver(event("customer.subscription.created", {"id": "sub_1"})).status_code == 200
    assert deliver(event("charge.refunded", {"id": "ch_x", "payment_intent": "pi_x", "amount": 100,
                                             "amount_refunded": 100})).status_code == 200
    acct = ledger.account(org)
    assert (acct.balance, acct.held, acct.debt) == before[:3]
    assert StripeEvent.objects.count() == 3
    assert StripeEvent.objects.get(type="customer.subscription.created").outcome == "ignored"


def test_an_expired_session_closes_its_purchase(org, checkout, stripe_api, users):
    session_id = start_purchase(web_client(users["owner"]), 100)
    session = dict(stripe_api.sessions[session_id], status="expired")
    session.pop("_params")
    assert deliver(event("checkout.session.expired", session)).status_code == 200
    assert Purchase.objects.get().state == Purchase.State.EXPIRED
    session.update(status="complete", payment_status="paid")
    deliver(event("checkout.session.completed", session))  # too late: never granted
    assert ledger.account(org).balance == 100


# -- refunds and disputes ----------------------------------------------------------------------------------------
def test_a_full_refund_takes_the_credits_back_once(org, stripe_api):
    purchase = paid(org, 100, stripe_api)
    assert ledger.account(org).balance == 200
    refund = charge_refunded(charge_of(purchase, stripe_api), 1500)
    for _ in range(3):
        assert deliver(refund).status_code == 200
    assert ledger.account(org).balance == 100
    assert CreditEntry.objects.get(kind="refund").purchase == purchase
    assert_ledger_consistent(org)


def test_partial_refunds_are_cumulative_and_rounded_up(org, stripe_api):
    purchase = paid(org, 100, stripe_api)
    charge = charge_of(purchase, stripe_api)
    deliver(charge_refunded(charge, 100))  # 100 of 1500 cents: 6.67 credits, rounded up to 7
    assert ledger.account(org).balance == 193
    deliver(charge_refunded(charge, 100))  # another event id, same cumulative amount: nothing more
    assert ledger.account(org).balance == 193
    deliver(charge_refunded(charge, 750))  # half refunded in all: 50 credits in all
    assert ledger.account(org).balance == 150
    deliver(charge_refunded(charge, 200))  # an older event arriving late takes nothing back
    assert ledger.account(org).balance == 150
    assert Purchase.objects.get().credits_refunded == 50
    assert_ledger_consistent(org)


def test_a_refund_beyond_the_available_balance_becomes_debt_that_blocks_new_tasks(org, client, stripe_api):
    purchase = paid(org, 100, stripe_api)
    ledger.hold(org, 150)  # running tasks hold most of the balance
    deliver(charge_refunded(charge_of(purchase, stripe_api), 1500))
    acct = ledger.account(org)
    assert (acct.balance, acct.held, acct.debt) == (150, 150, 50)  # held credits are never taken
    assert_ledger_consistent(org)
    with pytest.raises(ledger.CreditsBlocked):
        ledger.hold(org, 1)
    response = client.post("/api/v1/cover/generate", GENERATE, format="json")
    assert response.status_code == 402
    assert "debt of 50 credits" in response.json()["msg"] and response.json()["data"]["debt"] == 50
    assert not CoverTask.objects.exists()

    ledger.release(org, 30)  # a task finished with fewer covers: released credits pay the debt first
    acct = ledger.account(org)
    assert (acct.balance, acct.held, acct.debt) == (120, 120, 20)
    ledger.grant(org, 100, note="next purchase")
    acct = ledger.account(org)
    assert (acct.balance, acct.held, acct.debt) == (200, 120, 0)
    assert client.post("/api/v1/cover/generate", GENERATE, format="json").status_code == 200
    assert_ledger_consistent(org)


def test_a_dispute_takes_back_what_remains_and_a_won_dispute_returns_it(org, stripe_api):
    purchase = paid(org, 100, stripe_api)
    charge = charge_of(purchase, stripe_api)
    deliver(charge_refunded(charge, 150))  # 10 credits refunded first
    dispute = {"id": "dp_1", "object": "dispute", "charge": charge["id"], "amount": 1350, "status": "needs_response",
               "payment_intent": purchase.stripe_payment_intent}
    deliver(event("charge.dispute.created", dispute))
    deliver(event("charge.dispute.created", dispute))
    assert ledger.account(org).balance == 100
    assert Purchase.objects.get().credits_disputed == 90
    deliver(event("charge.dispute.closed", dict(dispute, status="won")))
    deliver(event("charge.dispute.closed", dict(dispute, status="won")))
    assert ledger.account(org).balance == 190
    assert Purchase.objects.get().dispute_status == "won"
    assert_ledger_consistent(org)


def test_a_refund_before_its_completion_was_handled_is_retried_later(org, checkout, stripe_api):
    evt = checkout(100)
    session = evt["data"]["object"]
    charge = stripe_api.charge_of(session["id"])
    refund = charge_refunded(charge, 1500)
    assert deliver(refund).status_code == 503  # the metadata names our pending purchase: not yet granted
    assert deliver(evt).status_code == 200
    assert deliver(refund).status_code == 200
    assert ledger.account(org).balance == 100
    assert_ledger_consistent(org)
