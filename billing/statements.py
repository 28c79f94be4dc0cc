"""Monthly statements: what an organisation bought, spent and got back, provable line by line from the ledger."""

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Sum

from accounts.models import Organization
from billing.ledger import EFFECTS, sums
from billing.models import CreditEntry

Kind = CreditEntry.Kind


@dataclass
class Statement:
    org: Organization
    year: int
    month: int
    opening: int  # balance at the start of the month
    totals: dict[str, int] = field(default_factory=dict)
    entries: list[dict] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def closing(self) -> int:
        return self.entries[-1]["balance_after"] if self.entries else self.opening


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def statement(org: Organization, year: int, month: int) -> Statement:
    start, end = month_bounds(year, month)
    before = CreditEntry.objects.filter(organization=org, created_at__lt=start).values("kind").annotate(t=Sum("amount"))
    opening = sums({row["kind"]: row["t"] for row in before})["balance"]
    rows = (CreditEntry.objects.filter(organization=org, created_at__gte=start, created_at__lt=end)
            .select_related("purchase").order_by("created_at", "id"))
    totals = dict.fromkeys(["bought", "granted", "spent", "held", "released", "refunded", "debt", "settled",
                            "deducted"], 0)
    balance = opening
    entries = []
    for e in rows:
        change = EFFECTS[e.kind].get("balance", 0) * e.amount
        balance += change
        totals[_category(e)] += e.amount
        entries.append({"at": e.created_at, "kind": e.kind, "amount": e.amount, "balance_change": change,
                        "balance_after": balance, "task": e.task_id or "",
                        "stripe": e.purchase.stripe_ref if e.purchase_id else "", "note": e.note})
    return Statement(org=org, year=year, month=month, opening=opening, totals=totals, entries=entries)


def _category(entry: CreditEntry) -> str:
    if entry.kind == Kind.GRANT:
        return "bought" if entry.purchase_id else "granted"
    return {Kind.ADJUST: "granted", Kind.DEDUCT: "deducted", Kind.CHARGE: "spent", Kind.HOLD: "held",
            Kind.RELEASE: "released", Kind.REFUND: "refunded", Kind.DEBT: "debt", Kind.SETTLE: "settled"}[entry.kind]


def statement_csv(st: Statement) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["date", "kind", "credits", "balance_change", "balance_after", "task", "stripe", "note"])
    w.writerow([f"{st.label}-01T00:00:00+00:00", "opening_balance", "", "", st.opening, "", "", ""])
    for e in st.entries:
        w.writerow([e["at"].isoformat(), e["kind"], e["amount"], e["balance_change"], e["balance_after"], e["task"],
                    e["stripe"], _cell(e["note"])])
    w.writerow(["", "closing_balance", "", "", st.closing, "", "", ""])
    w.writerow([])
    for name, total in st.totals.items():
        w.writerow(["", f"total_{name}", total, "", "", "", "", ""])
    return out.getvalue()


def _cell(text: str) -> str:
    # A spreadsheet would run a note starting with = + - @ as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
