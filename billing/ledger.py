"""Credit movements. Each one is a conditional UPDATE of the cached account plus a ledger row, in one transaction."""

from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from accounts.models import Organization
from billing import lowbalance
from billing.models import CreditAccount, CreditEntry

Kind = CreditEntry.Kind
# How each kind of entry moves the cached account; the balance, held and debt are these sums over the ledger.
EFFECTS: dict[str, dict[str, int]] = {
    Kind.GRANT: {"balance": 1},
    Kind.HOLD: {"held": 1},
    Kind.CHARGE: {"balance": -1, "held": -1},
    Kind.RELEASE: {"held": -1},
    Kind.REFUND: {"balance": -1},
    Kind.DEBT: {"debt": 1},
    Kind.SETTLE: {"balance": -1, "debt": -1},
    Kind.ADJUST: {"balance": 1},
    Kind.DEDUCT: {"balance": -1},
}


class InsufficientCredits(Exception):
    def __init__(self, needed: int, available: int):
        super().__init__(f"needed {needed}, available {available}")
        self.needed = needed
        self.available = available


class CreditsBlocked(Exception):
    """New tasks are refused while a refund or dispute left a debt that no purchase has settled yet."""

    def __init__(self, debt: int):
        super().__init__(
            f"New tasks are blocked: a refund or dispute left a debt of {debt} credits. "
            f"Buy credits to settle it, or contact support."
        )
        self.debt = debt


def account(org: Organization) -> CreditAccount:
    acct, _ = CreditAccount.objects.get_or_create(organization=org)
    return acct


def _refuse_sandbox(task) -> None:
    # A sandbox task (an aa_test_ key's) moves no credits, and generation.credits skips it: getting here would
    # bill test data, so it is an error rather than a quiet no-op.
    if task is not None and getattr(task, "sandbox", False):
        raise ValueError(f"task {task.pk} is a sandbox task: it holds, spends and releases no credits")


def _move(org: Organization, kind: str, amount: int, task, note: str, condition: Q, purchase=None,
          **changes) -> bool:
    if amount <= 0:
        raise ValueError(f"a {kind} moves a positive amount, not {amount}")
    _refuse_sandbox(task)
    # No savepoint inside a caller's transaction (the submit's): the UPDATE and the INSERT commit or roll back
    # with it; on its own, this is one short transaction.
    with transaction.atomic(savepoint=False):
        updated = CreditAccount.objects.filter(condition, organization=org).update(**changes)
        if not updated and not CreditAccount.objects.filter(organization=org).exists():
            account(org)  # the organisation's first movement creates its account
            updated = CreditAccount.objects.filter(condition, organization=org).update(**changes)
        if updated:
            CreditEntry.objects.create(organization=org, kind=kind, amount=amount, task=task, note=note[:200],
                                       purchase=purchase)
    return bool(updated)


def _locked(org: Organization) -> CreditAccount:
    """The account row, locked until the transaction ends (PostgreSQL; SQLite's IMMEDIATE transactions serialise)."""
    account(org)
    return CreditAccount.objects.select_for_update().get(organization=org)


def _settle_debt(org: Organization, note: str = "", purchase=None) -> int:
    """Pay the debt from available credits, as far as they go; call inside a transaction."""
    acct = _locked(org)
    amount = min(acct.debt, acct.available)
    if amount <= 0:
        return 0
    can = Q(debt__gte=amount, balance__gte=F("held") + amount)
    if not _move(org, Kind.SETTLE, amount, None, note or "debt settled", can, purchase=purchase,
                 debt=F("debt") - amount, balance=F("balance") - amount):
        raise RuntimeError(f"the account of {org} changed under its lock")
    return amount


def grant(org: Organization, amount: int, note: str = "", purchase=None) -> None:
    """Add credits (a purchase or an operator's gift); any outstanding debt is settled from them first."""
    with transaction.atomic():
        _move(org, Kind.GRANT, amount, None, note, Q(), purchase=purchase, balance=F("balance") + amount)
        _settle_debt(org, f"debt settled from {note or 'grant'}", purchase)


def hold(org: Organization, amount: int, task=None) -> None:
    """Reserve credits for a task; raises InsufficientCredits when the available balance is short and
    CreditsBlocked while the organisation owes credits.

    On the submit path, in the caller's transaction: a conditional `UPDATE ... RETURNING` and the ledger INSERT.
    On PostgreSQL both are one statement, which also reads the organisation's low-balance threshold for the
    check that follows, so a hold costs one round trip to the database instead of three."""
    if amount <= 0:
        raise ValueError(f"a hold moves a positive amount, not {amount}")
    _refuse_sandbox(task)
    if connection.vendor == "postgresql":
        row = _hold_in_one_statement(org, amount, task)
    else:
        row = _hold(org, amount, task)
    if row is None:  # raised outside the block: the caller's transaction stays usable
        acct = account(org)
        if acct.debt:
            raise CreditsBlocked(acct.debt)
        raise InsufficientCredits(amount, acct.available)
    balance, held, threshold = row
    lowbalance.after_debit(org, available=balance - held, threshold=threshold)


def _hold(org: Organization, amount: int, task) -> tuple | None:
    """(balance, held, UNKNOWN threshold) after the hold, or None when it could not be made."""
    table = CreditAccount._meta.db_table
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET held = held + %s WHERE organization_id = %s AND debt = 0 "  # noqa: S608
                       f"AND balance >= held + %s RETURNING balance, held", [amount, org.pk, amount])
        row = cursor.fetchone()
        if row is not None:
            CreditEntry.objects.create(organization=org, kind=Kind.HOLD, amount=amount, task=task)
    return None if row is None else (*row, lowbalance.UNKNOWN)  # the threshold: after_debit reads it


def _hold_in_one_statement(org: Organization, amount: int, task) -> tuple | None:
    """(balance, held, low-balance threshold or None) after the hold, or None when it could not be made. A
    statement is atomic on its own: the entry exists exactly when the account moved."""
    from billing.models import BillingProfile

    sql = (
        f"WITH moved AS (UPDATE {CreditAccount._meta.db_table} SET held = held + %(amount)s "  # noqa: S608
        f"  WHERE organization_id = %(org)s AND debt = 0 AND balance >= held + %(amount)s RETURNING balance, held), "
        f"entry AS (INSERT INTO {CreditEntry._meta.db_table} "
        f"  (organization_id, kind, amount, task_id, purchase_id, note, created_at) "
        f"  SELECT %(org)s, %(kind)s, %(amount)s, %(task)s, NULL, '', %(now)s FROM moved) "
        f"SELECT balance, held, (SELECT low_balance_threshold FROM {BillingProfile._meta.db_table} "
        f"  WHERE organization_id = %(org)s) FROM moved"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"amount": amount, "org": org.pk, "kind": Kind.HOLD, "now": timezone.now(),
                             "task": task.pk if task is not None else None})
        return cursor.fetchone()


def charge(org: Organization, amount: int, task=None) -> None:
    """Turn held credits into spent ones."""
    if not _move(org, Kind.CHARGE, amount, task, "", Q(held__gte=amount),
                 held=F("held") - amount, balance=F("balance") - amount):
        raise ValueError(f"cannot charge {amount}: fewer credits are held for {org}")


def release(org: Organization, amount: int, task=None) -> None:
    """Give held credits back to the available balance (or to the debt, if there is one)."""
    with transaction.atomic():
        if not _move(org, Kind.RELEASE, amount, task, "", Q(held__gte=amount), held=F("held") - amount):
            raise ValueError(f"cannot release {amount}: fewer credits are held for {org}")
        if CreditAccount.objects.filter(organization=org, debt__gt=0).exists():
            _settle_debt(org, "debt settled from released credits")


def reverse(org: Organization, credits: int, purchase=None, note: str = "") -> tuple[int, int]:
    """Take back credits after a refund or dispute: what is available now, the rest recorded as debt.

    Held credits are never taken: the tasks holding them may still deliver. Returns (taken, owed).
    """
    if credits <= 0:
        return 0, 0
    with transaction.atomic():
        acct = _locked(org)
        taken = max(0, min(credits, acct.available))
        owed = credits - taken
        if taken and not _move(org, Kind.REFUND, taken, None, note, Q(balance__gte=F("held") + taken),
                               purchase=purchase, balance=F("balance") - taken):
            raise RuntimeError(f"the account of {org} changed under its lock")
        if owed:
            _move(org, Kind.DEBT, owed, None, note, Q(), purchase=purchase, debt=F("debt") + owed)
        lowbalance.after_debit(org)
    return taken, owed


def adjust(org: Organization, delta: int, note: str) -> None:
    """A staff correction: positive adds credits (settling any debt), negative removes available ones."""
    if not note.strip():
        raise ValueError("a staff adjustment needs a note saying why")
    if delta > 0:
        with transaction.atomic():
            _move(org, Kind.ADJUST, delta, None, note, Q(), balance=F("balance") + delta)
            _settle_debt(org, f"debt settled from adjustment: {note}")
    elif delta < 0:
        amount = -delta
        if not _move(org, Kind.DEDUCT, amount, None, note, Q(balance__gte=F("held") + amount),
                     balance=F("balance") - amount):
            raise InsufficientCredits(amount, account(org).available)
        lowbalance.after_debit(org)
    else:
        raise ValueError("an adjustment of 0 credits moves nothing")


def ledger_totals(org: Organization) -> dict[str, int]:
    rows = CreditEntry.objects.filter(organization=org).values("kind").annotate(total=Sum("amount"))
    totals = {kind: 0 for kind in CreditEntry.Kind.values}
    totals.update({row["kind"]: row["total"] for row in rows})
    return totals


def sums(totals: dict[str, int]) -> dict[str, int]:
    """The account's balance, held and debt as ledger totals per kind say they must be."""
    result = {"balance": 0, "held": 0, "debt": 0}
    for kind, effects in EFFECTS.items():
        for field, sign in effects.items():
            result[field] += sign * totals.get(kind, 0)
    return result


def expected_from_ledger(org: Organization) -> tuple[int, int]:
    """(balance, held) as the ledger says they must be."""
    s = sums(ledger_totals(org))
    return s["balance"], s["held"]


def drift() -> list[dict]:
    """Every account whose cached balance, held or debt differs from its ledger, with both sides."""
    per_org: dict[int, dict[str, int]] = {}
    for row in CreditEntry.objects.values("organization_id", "kind").annotate(total=Sum("amount")):
        per_org.setdefault(row["organization_id"], {})[row["kind"]] = row["total"]
    cached = {a.organization_id: a for a in CreditAccount.objects.select_related("organization")}
    names = dict(Organization.objects.filter(pk__in=set(per_org) | set(cached)).values_list("pk", "slug"))
    problems = []
    for org_id in sorted(set(per_org) | set(cached)):
        expected = sums(per_org.get(org_id, {}))
        acct = cached.get(org_id)
        actual = {f: getattr(acct, f) for f in expected} if acct else {"balance": 0, "held": 0, "debt": 0}
        if expected != actual or acct is None and org_id in per_org:
            problems.append({"organization": names.get(org_id, str(org_id)), "expected": expected,
                             "cached": actual if acct else None})
    return problems
