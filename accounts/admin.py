from django.contrib import admin, messages

from accounts.models import ApiKey, Membership, Organization


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    fields = ["name", "key_id", "sandbox", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_id", "sandbox", "created_at", "last_used_at", "revoked_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # keys are created where the plaintext can be shown once


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["webhook_secret", "created_at"]
    inlines = [MembershipInline, ApiKeyInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "organization", "sandbox", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["sandbox", "revoked_at"]
    search_fields = ["key_id", "organization__name"]
    readonly_fields = ["organization", "key_id", "sandbox", "pepper_id", "created_at", "last_used_at", "revoked_at"]
    exclude = ["digest"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            key.revoke()
        messages.success(request, "Keys revoked.")
