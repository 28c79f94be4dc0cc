"""The submit path's cost in statements: a regression here is the API's capacity lost."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiKey
from tests.conftest import api_client, make_org

BODY = {"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING", "count": 1}


@pytest.fixture
def counted(monkeypatch):
    calls = []
    real = ApiKey.authenticate.__func__

    def authenticate(cls, plaintext):
        calls.append(plaintext)
        return real(cls, plaintext)

    monkeypatch.setattr(ApiKey, "authenticate", classmethod(authenticate))
    return calls


@pytest.mark.django_db
def test_a_submit_with_an_idempotency_key_checks_the_key_once_and_stays_lean(counted):
    org = make_org("Lean Records", credits=100)
    client = api_client(org)
    client.post("/api/v1/cover/generate", BODY, format="json")  # the account and the key's last use exist now
    counted.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/cover/generate", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 200, response.content
    assert len(counted) == 1  # the idempotency middleware's check is DRF's too
    statements = [q["sql"] for q in queries.captured_queries]
    holds = [s for s in statements if "UPDATE" in s and "held = held +" in s]
    assert len(holds) == 1 and "RETURNING" in holds[0]
    assert not [s for s in statements if "SAVEPOINT" in s and "billing" in s]
    assert len(statements) <= 14, "\n".join(statements)
    if connection.vendor == "postgresql":
        # One statement moves the account, writes the ledger entry and reads the low-balance threshold.
        assert "INSERT INTO billing_creditentry" in holds[0] and "low_balance_threshold" in holds[0]
        assert not [s for s in statements if "billing_creditentry" in s and s not in holds]
        assert not [s for s in statements if "billing_billingprofile" in s and s not in holds]
        assert len(statements) <= 10, "\n".join(statements)


@pytest.mark.django_db
def test_a_hold_in_one_statement_writes_exactly_one_entry_and_refuses_what_the_balance_cannot_cover():
    from billing import ledger
    from billing.models import CreditEntry

    org = make_org("One Statement Records", credits=3)
    ledger.hold(org, 2)
    with pytest.raises(ledger.InsufficientCredits):
        ledger.hold(org, 2)
    assert list(CreditEntry.objects.filter(organization=org, kind="hold").values_list("amount", flat=True)) == [2]
    acct = ledger.account(org)
    assert (acct.balance, acct.held, acct.available) == (3, 2, 1)


@pytest.mark.django_db
def test_a_hold_the_balance_cannot_cover_leaves_the_submit_transaction_usable():
    org = make_org("Short Records", credits=1)
    client = api_client(org)
    response = client.post("/api/v1/cover/generate", {**BODY, "count": 3}, format="json")
    assert response.status_code == 402 and response.json()["data"] == {"needed": 3, "available": 1}
    assert client.post("/api/v1/cover/generate", BODY, format="json").status_code == 200
