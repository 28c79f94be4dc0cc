from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from accounts.models import Organization

# The default low-balance threshold of a new organisation, in available credits; 0 turns the email off.
DEFAULT_LOW_BALANCE_THRESHOLD = 10


class CreditAccount(models.Model):
    """The cached balance of one organisation, moved only by conditional UPDATEs in billing.ledger.

    `balance` is what the organisation owns (granted minus spent and reversed); `held` is the part reserved by
    running tasks; `debt` is what a refund or dispute could not take back and blocks new tasks until settled.
    Available = balance - held, never below zero.
    """

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="credit_account")
    balance = models.BigIntegerField(default=0)
    held = models.BigIntegerField(default=0)
    debt = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(held__gte=0), name="held_not_negative"),
            models.CheckConstraint(condition=models.Q(balance__gte=models.F("held")), name="held_within_balance"),
            models.CheckConstraint(condition=models.Q(debt__gte=0), name="debt_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.available} available ({self.held} held)"

    @property
    def available(self) -> int:
        return self.balance - self.held


class CreditEntry(models.Model):
    """One append-only line of the ledger; the account's balance, held and debt are sums over these."""

    class Kind(models.TextChoices):
        GRANT = "grant"  # credits bought or given by an operator: +balance
        HOLD = "hold"  # reserved by a task: +held
        CHARGE = "charge"  # held credits spent on delivered covers: -held, -balance
        RELEASE = "release"  # held credits given back: -held
        REFUND = "refund"  # taken back after a Stripe refund or dispute: -balance
        DEBT = "debt"  # the part of a refund that could not be taken back: +debt
        SETTLE = "settle"  # debt paid from credits that became available: -debt, -balance
        ADJUST = "adjust"  # a staff correction upwards: +balance
        DEDUCT = "deduct"  # a staff correction downwards: -balance

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="credit_entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.PositiveIntegerField()
    task = models.ForeignKey("generation.CoverTask", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="credit_entries")
    purchase = models.ForeignKey("billing.Purchase", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="credit_entries")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "credit entries"
        # "Charged this month" and the statements read one organisation's entries of a kind over a time range:
        # without this they scan the organisation's whole ledger.
        indexes = [models.Index(fields=["organization", "kind", "created_at"], name="entry_org_kind_time")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.organization})"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("ledger entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("ledger entries are append-only")


class BillingProfile(models.Model):
    """An organisation's Stripe identity and its low-balance preferences."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="billing_profile")
    stripe_customer_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    # Saved by a checkout that opted into auto top-up; charged off-session.
    stripe_payment_method = models.CharField(max_length=255, blank=True)
    low_balance_threshold = models.PositiveIntegerField(default=DEFAULT_LOW_BALANCE_THRESHOLD)
    low_balance_notified_at = models.DateTimeField(null=True, blank=True)
    # Credits of the pack bought automatically when the balance runs low; 0 is off (the default).
    auto_topup_credits = models.PositiveIntegerField(default=0)
    auto_topup_requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"billing profile of {self.organization}"

    @property
    def auto_topup_ready(self) -> bool:
        return bool(self.auto_topup_credits and self.stripe_customer_id and self.stripe_payment_method)


class Purchase(models.Model):
    """A credit pack paid through Stripe. `confirm()` grants its credits exactly once, whoever calls it first."""

    class Kind(models.TextChoices):
        CHECKOUT = "checkout"
        AUTO_TOPUP = "auto_topup"

    class State(models.TextChoices):
        PENDING = "pending"
        PAID = "paid"
        FAILED = "failed"
        EXPIRED = "expired"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="purchases")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.CHECKOUT)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    credits = models.PositiveIntegerField()
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    stripe_session_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    stripe_payment_intent = models.CharField(max_length=255, null=True, blank=True, unique=True)
    stripe_charge_id = models.CharField(max_length=255, blank=True)
    receipt_url = models.URLField(max_length=1000, blank=True)
    # Refunds are cumulative on the Stripe charge; we keep what we already took back so replays take nothing.
    amount_refunded_cents = models.PositiveIntegerField(default=0)
    credits_refunded = models.PositiveIntegerField(default=0)
    credits_disputed = models.PositiveIntegerField(default=0)
    dispute_status = models.CharField(max_length=30, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.credits} credits for {self.organization} ({self.state})"

    @property
    def amount_display(self) -> str:
        return f"{self.amount_cents / 100:.2f} {self.currency.upper()}"

    @property
    def credits_reversed(self) -> int:
        return self.credits_refunded + self.credits_disputed

    # What Stripe tells us at payment time, recorded with the state change.
    PAYMENT_DETAILS = frozenset({"stripe_charge_id", "receipt_url", "stripe_payment_intent", "amount_cents"})

    def confirm(self, **details) -> bool:
        """Mark paid and grant the credits; False (and nothing moves) if it was already confirmed or closed."""
        from billing import ledger

        if unknown := set(details) - self.PAYMENT_DETAILS:
            raise TypeError(f"unknown payment details: {sorted(unknown)}")
        paid = {"state": self.State.PAID, "paid_at": timezone.now(), **{k: v for k, v in details.items() if v}}
        with transaction.atomic():
            # The state guard makes this run once even when the webhook and the success page race.
            if not Purchase.objects.filter(pk=self.pk, state=self.State.PENDING).update(**paid):
                return False
            for field, value in paid.items():
                setattr(self, field, value)
            ledger.grant(self.organization, self.credits, note=f"purchase {self.stripe_ref}", purchase=self)
        return True

    def close(self, state: str) -> bool:
        """A pending purchase that will never be paid (expired session, declined card)."""
        return bool(Purchase.objects.filter(pk=self.pk, state=self.State.PENDING).update(state=state))

    @property
    def stripe_ref(self) -> str:
        return self.stripe_session_id or self.stripe_payment_intent or f"#{self.pk}"


class StripeEvent(models.Model):
    """Every Stripe event handled, by its id: a replayed or retried delivery finds its row and does nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_id} ({self.type})"


class IdempotencyRecord(models.Model):
    """The first response to a POST with an Idempotency-Key, per organisation, replayed for 24 hours."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="idempotency_records")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and the parsed parameters
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # null while the request is in flight
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="one_record_per_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.organization})"

    @property
    def in_flight(self) -> bool:
        return self.completed_at is None
