import csv
import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F

from billing import ledger
from billing.models import CreditAccount, CreditEntry, Purchase
from billing.statements import statement
from generation.models import CoverTask
from tests.billing_helpers import fast_passwords, web_client  # noqa: F401 (fast_passwords is an autouse fixture)
from tests.conftest import assert_ledger_consistent


def account_triple(org) -> tuple[int, int, int]:
    acct = ledger.account(org)
    return acct.balance, acct.held, acct.debt


def test_every_kind_of_movement_keeps_the_cache_equal_to_the_ledger(org):
    task = CoverTask.objects.create(organization=org, genre="edm", params={}, count=3)
    ledger.hold(org, 3, task)
    ledger.charge(org, 2, task)
    ledger.release(org, 1, task)
    ledger.adjust(org, 10, "goodwill for a slow render")
    ledger.adjust(org, -5, "duplicate grant corrected")
    taken, owed = ledger.reverse(org, 200, note="refund")
    assert (taken, owed) == (103, 97)
    assert account_triple(org) == (0, 0, 97)
    ledger.grant(org, 100, note="purchase")
    assert account_triple(org) == (3, 0, 0)
    kinds = list(CreditEntry.objects.filter(organization=org).order_by("id").values_list("kind", flat=True))
    assert kinds == ["grant", "hold", "charge", "release", "adjust", "deduct", "refund", "debt", "grant", "settle"]
    assert_ledger_consistent(org)
    assert ledger.drift() == []


def test_deductions_and_reversals_never_touch_held_credits(org):
    ledger.hold(org, 90)
    with pytest.raises(ledger.InsufficientCredits):
        ledger.adjust(org, -11, "too much")
    assert ledger.reverse(org, 15, note="refund") == (10, 5)
    assert account_triple(org) == (90, 90, 5)
    with pytest.raises(ValueError):
        ledger.adjust(org, 5, "  ")  # a staff adjustment says why
    assert_ledger_consistent(org)


def test_ledger_entries_are_append_only(org):
    entry = CreditEntry.objects.filter(organization=org).first()
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


def test_verify_ledger_passes_on_a_clean_ledger(org, other_org, capsys):
    ledger.hold(org, 5)
    call_command("verify_ledger")
    assert "ledger OK" in capsys.readouterr().out


@pytest.mark.parametrize("field", ["balance", "held", "debt"])
def test_verify_ledger_finds_a_deliberately_corrupted_balance(org, other_org, capsys, field):
    ledger.hold(org, 5)
    CreditAccount.objects.filter(organization=org).update(**{field: F(field) + 7})
    with pytest.raises(CommandError, match="1 account"):
        call_command("verify_ledger")
    err = capsys.readouterr().err
    assert org.slug in err and other_org.slug not in err
    assert f"'{field}': " in err


def test_verify_ledger_finds_a_missing_ledger_row(org):
    CreditEntry.objects.filter(organization=org).update(amount=F("amount") - 1)
    assert [p["organization"] for p in ledger.drift()] == [org.slug]


def test_adjust_credits_command(org, capsys):
    call_command("adjust_credits", org.slug, "-20", "--note", "test credits removed")
    assert ledger.account(org).balance == 80
    assert CreditEntry.objects.get(kind="deduct").note == "test credits removed"
    with pytest.raises(CommandError):
        call_command("adjust_credits", org.slug, "-500", "--note", "more than there is")


def test_staff_adjust_credits_in_the_admin(org, db):
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.create_superuser("staff", "staff@example.com", "pw-staff-123")
    web = web_client(staff)
    acct = ledger.account(org)
    url = f"/admin/billing/creditaccount/{acct.pk}/change/"
    assert web.get(url).status_code == 200
    response = web.post(url, {"adjust_by": "25", "adjust_note": "compensation for outage"})
    assert response.status_code == 302
    entry = CreditEntry.objects.get(kind="adjust")
    assert entry.amount == 25 and entry.note == "compensation for outage (by staff)"
    assert ledger.account(org).balance == 125
    response = web.post(url, {"adjust_by": "5", "adjust_note": ""})
    assert response.status_code == 200 and ledger.account(org).balance == 125  # a note is required
    assert_ledger_consistent(org)


def backdate(entry_ids, when: datetime) -> None:
    CreditEntry.objects.filter(pk__in=entry_ids).update(created_at=when)


def test_monthly_statement_adds_up_from_opening_to_closing(org):
    january = datetime(2026, 1, 15, tzinfo=UTC)
    february = datetime(2026, 2, 10, tzinfo=UTC)
    backdate(CreditEntry.objects.filter(organization=org).values("pk"), datetime(2025, 12, 24, tzinfo=UTC))
    purchase = Purchase.objects.create(organization=org, credits=1000, amount_cents=12000, currency="usd",
                                       stripe_session_id="cs_test_statement")
    before = set(CreditEntry.objects.values_list("pk", flat=True))
    purchase.confirm()
    task = CoverTask.objects.create(organization=org, genre="edm", params={}, count=3)
    ledger.hold(org, 3, task)
    ledger.charge(org, 2, task)
    ledger.release(org, 1, task)
    backdate(set(CreditEntry.objects.values_list("pk", flat=True)) - before, january)
    before = set(CreditEntry.objects.values_list("pk", flat=True))
    ledger.hold(org, 4)
    ledger.charge(org, 4)
    backdate(set(CreditEntry.objects.values_list("pk", flat=True)) - before, february)

    st = statement(org, 2026, 1)
    assert st.opening == 100 and st.closing == 1098
    assert (st.totals["bought"], st.totals["spent"], st.totals["released"]) == (1000, 2, 1)
    assert [e["kind"] for e in st.entries] == ["grant", "hold", "charge", "release"]
    assert st.entries[0]["stripe"] == "cs_test_statement"
    feb = statement(org, 2026, 2)
    assert feb.opening == 1098 and feb.closing == 1094 and feb.totals["spent"] == 4
    assert feb.closing == ledger.account(org).balance


def test_statement_csv_download(users, org):
    web = web_client(users["owner"])
    ledger.hold(org, 3)
    ledger.charge(org, 3)
    now = datetime.now(UTC)
    response = web.get(f"/billing/statement/{now.year}-{now.month:02d}.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"albumart-{org.slug}-{now.year}-{now.month:02d}.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:5] == ["date", "kind", "credits", "balance_change", "balance_after"]
    assert rows[1][1] == "opening_balance" and rows[1][4] == "0"
    assert [r[1] for r in rows[2:5]] == ["grant", "hold", "charge"]
    assert rows[4][3] == "-3" and rows[4][4] == "97"
    assert ["", "closing_balance", "", "", "97", "", "", ""] in rows
    assert ["", "total_spent", "3", "", "", "", "", ""] in rows
    assert web.get("/billing/statement/2026-13.csv").status_code == 404


def test_ledger_page_shows_the_statement_of_the_own_organisation(users, org, other_org):
    ledger.grant(other_org, 777, note="their secret grant")
    page = web_client(users["owner"]).get("/billing/ledger")
    html = page.content.decode()
    assert page.status_code == 200 and "Opening balance" in html and "test" in html
    assert "their secret grant" not in html and "777" not in html
    assert web_client(users["owner"]).get("/billing/ledger?month=1999-99").status_code == 200


def test_credits_endpoint_shows_debt(client, org):
    ledger.hold(org, 4)
    assert client.get("/api/v1/credits").json()["data"] == {
        "balance": 100, "held": 4, "available": 96, "debt": 0, "chargedThisMonth": 0}
