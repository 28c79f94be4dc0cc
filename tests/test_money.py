import threading

import pytest
import requests

from billing import ledger
from generation.models import CoverTask
from tests.conftest import api_client, assert_ledger_consistent, make_org
from tests.live import empty_queues


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_never_overspend(live_server):
    org = make_org("Race Records", credits=10)
    key = api_client(org).plaintext_key
    empty_queues()
    results: list[int] = []
    barrier = threading.Barrier(20)

    def submit():
        barrier.wait()
        response = requests.post(
            f"{live_server.url}/api/v1/cover/generate",
            json={"genre": "edm", "text_artist": "Pulse", "text_album": "Grid", "count": 3},
            headers={"Authorization": f"Bearer {key}"}, timeout=60,
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    empty_queues()
    assert sorted(results) == [200] * 3 + [402] * 17
    acct = ledger.account(org)
    assert (acct.balance, acct.held, acct.available) == (10, 9, 1)
    assert CoverTask.objects.filter(organization=org).count() == 3
    assert_ledger_consistent(org)


def test_hold_charge_release_keep_the_ledger_equal_to_the_balance(org):
    task = CoverTask.objects.create(organization=org, genre="rnb", params={}, count=3)
    ledger.hold(org, 3, task)
    ledger.charge(org, 2, task)
    ledger.release(org, 1, task)
    acct = ledger.account(org)
    assert (acct.balance, acct.held) == (98, 0)
    assert_ledger_consistent(org)
    with pytest.raises(ValueError):
        ledger.charge(org, 1, task)  # nothing held any more
    with pytest.raises(ledger.InsufficientCredits) as exc:
        ledger.hold(org, 99, task)
    assert (exc.value.needed, exc.value.available) == (99, 98)
    assert_ledger_consistent(org)


def test_grant_command(org, capsys):
    from django.core.management import call_command

    call_command("grant_credits", org.slug, "25")
    assert ledger.account(org).balance == 125
    assert_ledger_consistent(org)


def test_credits_endpoint(client, org):
    ledger.hold(org, 4)
    data = client.get("/api/v1/credits").json()["data"]
    assert data == {"balance": 100, "held": 4, "available": 96, "debt": 0, "chargedThisMonth": 0}
