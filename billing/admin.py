from django import forms
from django.contrib import admin, messages

from billing import ledger
from billing.models import BillingProfile, CreditAccount, CreditEntry, IdempotencyRecord, Purchase, StripeEvent


class CreditAccountForm(forms.ModelForm):
    adjust_by = forms.IntegerField(
        required=False,
        help_text="A staff correction in credits, e.g. 50 or -20; written to the ledger. Positive amounts settle debt "
                  "first.",
    )
    adjust_note = forms.CharField(required=False, max_length=150, help_text="Why (shown on the customer's statement).")

    class Meta:
        model = CreditAccount
        fields = []

    def clean(self):
        data = super().clean()
        if data.get("adjust_by") and not (data.get("adjust_note") or "").strip():
            self.add_error("adjust_note", "Say why: the note goes into the ledger.")
        return data


@admin.register(CreditAccount)
class CreditAccountAdmin(admin.ModelAdmin):
    """Balances are read-only: the only way to change one here is an adjustment, which writes a ledger row."""

    form = CreditAccountForm
    list_display = ["organization", "balance", "held", "available", "debt"]
    readonly_fields = ["organization", "balance", "held", "debt"]
    search_fields = ["organization__name", "organization__slug"]
    fields = ["organization", "balance", "held", "debt", "adjust_by", "adjust_note"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        delta = form.cleaned_data.get("adjust_by")
        if not delta:
            return
        note = f"{form.cleaned_data['adjust_note'].strip()} (by {request.user.get_username()})"
        try:
            ledger.adjust(obj.organization, delta, note)
        except ledger.InsufficientCredits as exc:
            messages.error(request, f"Not adjusted: only {exc.available} credits are available to deduct.")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Append-only records: staff read them, nobody edits them here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditEntry)
class CreditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "organization", "kind", "amount", "task", "purchase", "note"]
    list_filter = ["kind"]
    search_fields = ["organization__name", "task__id", "purchase__stripe_session_id", "note"]
    readonly_fields = [f.name for f in CreditEntry._meta.fields]


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "organization", "kind", "credits", "amount_display", "state", "credits_refunded",
                    "credits_disputed", "stripe_session_id"]
    list_filter = ["state", "kind"]
    search_fields = ["organization__name", "stripe_session_id", "stripe_payment_intent", "stripe_charge_id"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "event_id", "type", "livemode", "outcome"]
    list_filter = ["type", "livemode"]
    search_fields = ["event_id"]


@admin.register(BillingProfile)
class BillingProfileAdmin(admin.ModelAdmin):
    list_display = ["organization", "stripe_customer_id", "low_balance_threshold", "auto_topup_credits"]
    readonly_fields = ["organization", "stripe_customer_id", "stripe_payment_method", "low_balance_notified_at",
                       "auto_topup_requested_at"]
    search_fields = ["organization__name", "stripe_customer_id"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "organization", "key", "status_code", "completed_at"]
    search_fields = ["key", "organization__name"]
    exclude = ["body"]
