import json
import threading

import pytest
import requests
from django.core.management import call_command

from billing import ledger
from billing.models import CreditEntry, Purchase
from generation.jobs import finish_task
from generation.models import CoverTask
from tests.billing_helpers import WEBHOOK_URL, charge_refunded, sign
from tests.conftest import api_client, assert_ledger_consistent, make_org
from tests.live import empty_queues

BODY = {"genre": "edm", "text_artist": "Pulse", "text_album": "Grid"}


def concurrently(n: int, call) -> list:
    """Run `call(i)` in n threads released at once; returns the results in order."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        barrier.wait()
        results[i] = call(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def connected(url: str, key: str, n: int) -> list[requests.Session]:
    """n sessions, each with a kept-alive connection already open: 50 simultaneous connects would overflow the
    test server's listen backlog (10) and be reset before any request is sent, which is not the race under test."""
    sessions = []
    for _ in range(n):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        assert session.get(f"{url}/api/v1/credits", timeout=30).status_code == 200
        sessions.append(session)
    return sessions


def generate(session: requests.Session, url: str, count: int, idempotency_key: str | None = None):
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    return session.post(f"{url}/api/v1/cover/generate", json=dict(BODY, count=count), headers=headers, timeout=60)


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_generates_accept_exactly_what_the_balance_covers(live_server):
    org = make_org("Race Records", credits=10)
    key = api_client(org).plaintext_key
    empty_queues()
    # Half carry their own Idempotency-Key, so the middleware's claims race along with the holds.
    sessions = connected(live_server.url, key, 50)
    results = concurrently(50, lambda i: generate(sessions[i], live_server.url, 1, f"race-{i}" if i % 2 else None))
    empty_queues()
    codes = sorted(r.status_code for r in results)
    assert codes == [200] * 10 + [402] * 40
    assert all("Not enough credits" in r.json()["msg"] for r in results if r.status_code == 402)
    acct = ledger.account(org)
    assert (acct.balance, acct.held, acct.available) == (10, 10, 0)
    assert CoverTask.objects.filter(organization=org).count() == 10
    assert CreditEntry.objects.filter(organization=org, kind="hold").count() == 10
    assert_ledger_consistent(org)


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_retries_with_one_idempotency_key_create_one_task(live_server):
    org = make_org("Retry Records", credits=10)
    key = api_client(org).plaintext_key
    empty_queues()
    sessions = connected(live_server.url, key, 50)
    results = concurrently(50, lambda i: generate(sessions[i], live_server.url, 3, "one-key"))
    empty_queues()
    assert {r.status_code for r in results} <= {200, 409}
    bodies = {json.dumps(r.json(), sort_keys=True) for r in results if r.status_code == 200}
    assert len(bodies) == 1  # every 200 is the first response or its replay
    assert CoverTask.objects.filter(organization=org).count() == 1
    acct = ledger.account(org)
    assert (acct.balance, acct.held) == (10, 3)
    assert_ledger_consistent(org)


@pytest.mark.django_db(transaction=True)
def test_a_refund_arriving_while_tasks_hold_credits_leaves_a_consistent_ledger(live_server, settings):
    from tests.billing_helpers import WEBHOOK_SECRET

    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    org = make_org("Refund Records")
    key = api_client(org).plaintext_key
    purchase = Purchase.objects.create(organization=org, credits=10, amount_cents=150, currency="usd",
                                       stripe_session_id="cs_race", stripe_payment_intent="pi_race")
    assert purchase.confirm(stripe_charge_id="ch_race")
    charge = {"id": "ch_race", "object": "charge", "payment_intent": "pi_race", "amount": 150, "metadata": {}}
    refund = json.dumps(charge_refunded(charge, 150))
    empty_queues()

    sessions = connected(live_server.url, key, 9)

    def act(i):
        if i == 0:
            return sessions[0].post(live_server.url + WEBHOOK_URL, data=refund, timeout=60,
                                    headers={"Stripe-Signature": sign(refund), "Content-Type": "application/json"})
        return generate(sessions[i], live_server.url, 3)

    results = concurrently(9, act)
    empty_queues()
    assert results[0].status_code == 200, results[0].content
    accepted = [r.json()["data"]["taskId"] for r in results[1:] if r.status_code == 200]
    refused = [r for r in results[1:] if r.status_code == 402]
    assert len(accepted) + len(refused) == 8 and len(accepted) <= 3
    h = len(accepted)
    totals = ledger.ledger_totals(org)
    acct = ledger.account(org)
    # Whatever the order: the refund took what was available then, and what the holds kept became debt.
    assert totals["refund"] + totals["debt"] == 10
    assert (acct.balance, acct.held, acct.debt) == (10 - totals["refund"], 3 * h, totals["debt"])
    assert totals["refund"] == 10 - 3 * h
    assert_ledger_consistent(org)

    for task_id in accepted:  # each delivers 2 of 3 covers: 2 charged, 1 released into the debt
        CoverTask.objects.get(pk=task_id).start()
        finish_task(task_id, 2)
    empty_queues()
    acct = ledger.account(org)
    assert (acct.balance, acct.held, acct.debt) == (0, 0, 2 * h)
    assert_ledger_consistent(org)
    call_command("verify_ledger")
