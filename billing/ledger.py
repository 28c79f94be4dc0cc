"""Credit movements. Each one is a conditional UPDATE of the cached account plus a ledger row, in one transaction."""

from django.db import transaction
from django.db.models import F, Q, Sum

from accounts.models import Organization
from billing.models import CreditAccount, CreditEntry


class InsufficientCredits(Exception):
    def __init__(self, needed: int, available: int):
        super().__init__(f"needed {needed}, available {available}")
        self.needed = needed
        self.available = available


def account(org: Organization) -> CreditAccount:
    acct, _ = CreditAccount.objects.get_or_create(organization=org)
    return acct


def _move(org: Organization, kind: str, amount: int, task, note: str, condition: Q, **changes) -> bool:
    if amount <= 0:
        raise ValueError(f"a {kind} moves a positive amount, not {amount}")
    account(org)
    with transaction.atomic():
        updated = CreditAccount.objects.filter(condition, organization=org).update(**changes)
        if updated:
            CreditEntry.objects.create(organization=org, kind=kind, amount=amount, task=task, note=note)
    return bool(updated)


def grant(org: Organization, amount: int, note: str = "") -> None:
    _move(org, CreditEntry.Kind.GRANT, amount, None, note, Q(), balance=F("balance") + amount)


def hold(org: Organization, amount: int, task=None) -> None:
    """Reserve credits for a task; raises InsufficientCredits when the available balance is short."""
    enough = Q(balance__gte=F("held") + amount)
    if not _move(org, CreditEntry.Kind.HOLD, amount, task, "", enough, held=F("held") + amount):
        raise InsufficientCredits(amount, account(org).available)


def charge(org: Organization, amount: int, task=None) -> None:
    """Turn held credits into spent ones."""
    if not _move(org, CreditEntry.Kind.CHARGE, amount, task, "", Q(held__gte=amount),
                 held=F("held") - amount, balance=F("balance") - amount):
        raise ValueError(f"cannot charge {amount}: fewer credits are held for {org}")


def release(org: Organization, amount: int, task=None) -> None:
    """Give held credits back to the available balance."""
    if not _move(org, CreditEntry.Kind.RELEASE, amount, task, "", Q(held__gte=amount), held=F("held") - amount):
        raise ValueError(f"cannot release {amount}: fewer credits are held for {org}")


def ledger_totals(org: Organization) -> dict[str, int]:
    rows = CreditEntry.objects.filter(organization=org).values("kind").annotate(total=Sum("amount"))
    totals = {kind: 0 for kind in CreditEntry.Kind.values}
    totals.update({row["kind"]: row["total"] for row in rows})
    return totals


def expected_from_ledger(org: Organization) -> tuple[int, int]:
    """(balance, held) as the ledger says they must be."""
    t = ledger_totals(org)
    return t["grant"] - t["charge"], t["hold"] - t["charge"] - t["release"]
