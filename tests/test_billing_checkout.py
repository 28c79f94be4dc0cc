import pytest
from django.test import Client

from billing import ledger
from billing.models import BillingProfile, Purchase
from tests.billing_helpers import (  # noqa: F401 (fast_passwords is an autouse fixture)
    deliver,
    fast_passwords,
    session_completed,
    start_purchase,
    stripe_standin,
    web_client,
)
from tests.conftest import assert_ledger_consistent


@pytest.fixture
def stripe_api(settings):
    with stripe_standin(settings) as standin:
        yield standin


def test_without_stripe_keys_the_page_explains_the_setup_and_buying_is_refused(users, org, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    web = web_client(users["owner"])
    page = web.get("/billing/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Stripe is not configured" in html and "STRIPE_SECRET_KEY" in html and "stripe listen" in html
    assert "Buy 100 credits" not in html
    response = web.post("/billing/buy", {"credits": 100})
    assert response.status_code == 302 and response["Location"] == "/billing/"
    assert not Purchase.objects.exists()
    # The rest of the product does not need Stripe.
    assert web.get("/billing/ledger").status_code == 200
    assert deliver({"id": "evt_1", "type": "x"}).status_code == 503


def test_owner_buys_a_pack_through_a_checkout_session(users, org, stripe_api):
    web = web_client(users["owner"])
    page = web.get("/billing/").content.decode()
    assert "Buy 100 credits" in page and "15.00 USD" in page and "Buy 10000 credits" in page

    session_id = start_purchase(web, 1000)
    purchase = Purchase.objects.get(stripe_session_id=session_id)
    assert (purchase.organization, purchase.credits, purchase.amount_cents, purchase.state) == (
        org, 1000, 12000, Purchase.State.PENDING)
    [created] = stripe_api.calls("POST", "/v1/checkout/sessions")
    params = created["params"]
    assert params["mode"] == "payment"
    assert params["client_reference_id"] == str(org.pk)
    assert params["customer"] == BillingProfile.objects.get(organization=org).stripe_customer_id
    assert params["line_items"] == [{"quantity": "1", "price_data": {
        "currency": "usd", "unit_amount": "12000", "product_data": {"name": "1,000 AlbumArt credits"}}}]
    assert params["metadata"] == {"organization_id": str(org.pk), "purchase_id": str(purchase.pk), "credits": "1000"}
    assert params["success_url"].endswith("/billing/purchases?session_id={CHECKOUT_SESSION_ID}")
    assert "setup_future_usage" not in params["payment_intent_data"]  # auto top-up is off by default
    assert created["headers"]["authorization"] == "Bearer sk_test_standin"
    assert created["headers"]["idempotency-key"]
    assert ledger.account(org).balance == 100  # nothing granted before Stripe confirms


def test_the_stripe_customer_is_created_once_per_organisation_and_reused(users, org, other_org, stripe_api):
    web = web_client(users["owner"])
    start_purchase(web, 100)
    start_purchase(web, 10000)
    start_purchase(web_client(users["outsider"]), 100)
    customers = stripe_api.calls("POST", "/v1/customers")
    assert len(customers) == 2
    assert customers[0]["params"]["metadata"]["organization_id"] == str(org.pk)
    ours = BillingProfile.objects.get(organization=org).stripe_customer_id
    sessions = stripe_api.calls("POST", "/v1/checkout/sessions")
    assert [s["params"]["customer"] for s in sessions[:2]] == [ours, ours]
    assert sessions[2]["params"]["customer"] != ours


def test_a_customer_missing_on_the_stripe_account_is_replaced(users, org, stripe_api):
    # e.g. the test-mode keys were swapped for live ones: the saved test-mode Customer does not exist there.
    BillingProfile.objects.create(organization=org, stripe_customer_id="cus_from_test_mode")
    session_id = start_purchase(web_client(users["owner"]), 100)
    fresh = BillingProfile.objects.get(organization=org).stripe_customer_id
    assert fresh != "cus_from_test_mode" and fresh in stripe_api.customers
    assert stripe_api.sessions[session_id]["customer"] == fresh
    assert Purchase.objects.get().state == Purchase.State.PENDING


def test_a_configured_stripe_price_id_is_used_for_the_line_item(users, org, stripe_api, settings):
    settings.CREDIT_PACKS = [{"credits": 100, "amount_cents": 1500, "price_id": "price_1Pack100"}]
    start_purchase(web_client(users["owner"]), 100)
    [created] = stripe_api.calls("POST", "/v1/checkout/sessions")
    assert created["params"]["line_items"] == [{"price": "price_1Pack100", "quantity": "1"}]


def test_an_unknown_pack_is_refused(users, org, stripe_api):
    response = web_client(users["owner"]).post("/billing/buy", {"credits": 5})
    assert response.status_code == 302
    assert not Purchase.objects.exists() and not stripe_api.requests


def test_a_stripe_outage_at_checkout_charges_nothing_and_says_so(users, org, stripe_api):
    web = web_client(users["owner"])
    web.get("/billing/")
    BillingProfile.objects.filter(organization=org).update(stripe_customer_id="cus_existing")
    stripe_api.fail_next = 1
    response = web.post("/billing/buy", {"credits": 100}, follow=True)
    assert "Stripe could not start the checkout" in response.content.decode()
    assert Purchase.objects.get().state == Purchase.State.FAILED


def test_returning_from_checkout_grants_once_and_the_webhook_then_changes_nothing(users, org, stripe_api):
    web = web_client(users["owner"])
    session_id = start_purchase(web, 100)
    stripe_api.pay(session_id)
    page = web.get(f"/billing/purchases?session_id={session_id}", follow=True).content.decode()
    assert "100 credits were added" in page
    assert ledger.account(org).balance == 200
    assert deliver(session_completed(stripe_api, session_id)).status_code == 200
    assert ledger.account(org).balance == 200
    purchase = Purchase.objects.get()
    assert purchase.state == Purchase.State.PAID and purchase.receipt_url
    assert purchase.credit_entries.get().kind == "grant"
    assert_ledger_consistent(org)


def test_another_organisations_session_id_on_the_success_page_grants_nothing(users, org, other_org, stripe_api):
    session_id = start_purchase(web_client(users["outsider"]), 100)
    stripe_api.pay(session_id)
    web_client(users["owner"]).get(f"/billing/purchases?session_id={session_id}")
    assert ledger.account(org).balance == 100 and ledger.account(other_org).balance == 100


def test_purchases_page_lists_receipt_links_of_the_own_organisation_only(users, org, other_org, stripe_api):
    ours = start_purchase(web_client(users["owner"]), 100)
    theirs = start_purchase(web_client(users["outsider"]), 1000)
    deliver(session_completed(stripe_api, ours))
    deliver(session_completed(stripe_api, theirs))
    page = web_client(users["owner"]).get("/billing/purchases").content.decode()
    assert stripe_api.charge_of(ours)["receipt_url"] in page
    assert stripe_api.charge_of(theirs)["receipt_url"] not in page
    overview = web_client(users["outsider"]).get("/billing/").content.decode()
    assert stripe_api.charge_of(theirs)["receipt_url"] in overview


@pytest.mark.parametrize("method,path", [
    ("get", "/billing/"), ("get", "/billing/purchases"), ("get", "/billing/ledger"),
    ("get", "/billing/statement/2026-01.csv"), ("post", "/billing/buy"), ("post", "/billing/settings"),
])
def test_members_get_403_and_anonymous_users_go_to_login(users, org, method, path, settings):
    member = web_client(users["member"])
    assert getattr(member, method)(path).status_code == 403
    anonymous = getattr(Client(), method)(path)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_a_user_without_an_organisation_gets_404(db):
    from django.contrib.auth import get_user_model

    loner = get_user_model().objects.create_user("loner", password="pw-loner-123")
    assert web_client(loner).get("/billing/purchases").status_code == 404


def test_admins_may_buy(users, org, stripe_api):
    from accounts.models import Membership

    Membership.objects.filter(user=users["member"]).update(role=Membership.Role.ADMIN)
    start_purchase(web_client(users["member"]), 100)
    assert Purchase.objects.get().created_by == users["member"]
