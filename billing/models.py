from django.db import models

from accounts.models import Organization


class CreditAccount(models.Model):
    """The cached balance of one organisation, moved only by conditional UPDATEs in billing.ledger.

    `balance` is what the organisation owns (granted minus charged); `held` is the part reserved by running
    tasks. Available = balance - held, never below zero.
    """

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="credit_account")
    balance = models.BigIntegerField(default=0)
    held = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(held__gte=0), name="held_not_negative"),
            models.CheckConstraint(condition=models.Q(balance__gte=models.F("held")), name="held_within_balance"),
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.available} available ({self.held} held)"

    @property
    def available(self) -> int:
        return self.balance - self.held


class CreditEntry(models.Model):
    """One append-only line of the ledger; the account's balance and held are sums over these."""

    class Kind(models.TextChoices):
        GRANT = "grant"
        HOLD = "hold"
        CHARGE = "charge"
        RELEASE = "release"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="credit_entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.PositiveIntegerField()
    task = models.ForeignKey("generation.CoverTask", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="credit_entries")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "credit entries"

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.organization})"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("ledger entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("ledger entries are append-only")
