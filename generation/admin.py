from django.contrib import admin
from django.utils.html import format_html

from generation import files
from generation.models import CallbackDelivery, CoverImage, CoverTask, DisabledEndpoint


class CoverImageInline(admin.TabularInline):
    model = CoverImage
    extra = 0
    can_delete = False
    fields = ["preview", "index", "variant", "seed", "format", "bytes", "passed", "qa"]
    readonly_fields = fields

    @admin.display(description="preview")
    def preview(self, obj):
        url = files.signed_url(obj.storage_path, obj.filename)
        return format_html('<a href="{}"><img src="{}" width="128" height="128" alt=""></a>', url, url)


class CallbackDeliveryInline(admin.TabularInline):
    model = CallbackDelivery
    extra = 0
    can_delete = False
    fields = ["attempt", "created_at", "status_code", "error", "duration_ms", "next_attempt_at"]
    readonly_fields = fields


@admin.register(CoverTask)
class CoverTaskAdmin(admin.ModelAdmin):
    list_display = ["id", "organization", "genre", "status", "count", "credits_charged", "created_at"]
    list_filter = ["status", "genre"]
    search_fields = ["id", "client_task_id", "organization__name"]
    readonly_fields = [f.name for f in CoverTask._meta.fields]
    inlines = [CoverImageInline, CallbackDeliveryInline]

    def has_add_permission(self, request):
        return False


@admin.register(CallbackDelivery)
class CallbackDeliveryAdmin(admin.ModelAdmin):
    list_display = ["task", "attempt", "status_code", "error", "created_at"]
    list_filter = ["status_code"]
    readonly_fields = [f.name for f in CallbackDelivery._meta.fields]


admin.site.register(DisabledEndpoint)
