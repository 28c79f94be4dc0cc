from django.contrib import admin

from billing.models import CreditAccount, CreditEntry


@admin.register(CreditAccount)
class CreditAccountAdmin(admin.ModelAdmin):
    list_display = ["organization", "balance", "held", "available"]
    readonly_fields = ["organization", "balance", "held"]
    search_fields = ["organization__name"]


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "organization", "kind", "amount", "task", "note"]
    list_filter = ["kind"]
    search_fields = ["organization__name", "task__id"]
    readonly_fields = [f.name for f in CreditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
