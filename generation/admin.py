from datetime import timedelta

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from generation import files, review
from generation.engine.sentinel import CHECK_NAMES
from generation.models import CallbackDelivery, CoverImage, CoverTask, DisabledEndpoint, ReviewImage, Verdict


class CoverImageInline(admin.TabularInline):
    model = CoverImage
    extra = 0
    can_delete = False
    fields = ["preview", "index", "variant", "seed", "format", "bytes", "verdict", "attempts", "passed", "decision",
              "qa"]
    readonly_fields = fields

    @admin.display(description="preview")
    def preview(self, obj):
        url = files.signed_url(obj.storage_path, obj.filename)
        return format_html('<a href="{}"><img src="{}" width="128" height="128" alt=""></a>', url, url)


class CallbackDeliveryInline(admin.TabularInline):
    model = CallbackDelivery
    extra = 0
    can_delete = False
    fields = ["event", "image_index", "attempt", "created_at", "status_code", "error", "duration_ms", "next_attempt_at"]
    readonly_fields = fields


@admin.register(CoverTask)
class CoverTaskAdmin(admin.ModelAdmin):
    list_display = ["id", "organization", "genre", "status", "sandbox", "count", "credits_charged", "created_at"]
    list_filter = ["status", "sandbox", "genre"]
    search_fields = ["id", "client_task_id", "organization__name"]
    readonly_fields = [f.name for f in CoverTask._meta.fields]
    inlines = [CoverImageInline, CallbackDeliveryInline]

    def has_add_permission(self, request):
        return False


@admin.register(CallbackDelivery)
class CallbackDeliveryAdmin(admin.ModelAdmin):
    list_display = ["task", "event", "attempt", "status_code", "error", "created_at"]
    list_filter = ["event", "status_code"]
    readonly_fields = [f.name for f in CallbackDelivery._meta.fields]


admin.site.register(DisabledEndpoint)


# -- the QA review queue ---------------------------------------------------------------------------

class CheckFilter(admin.SimpleListFilter):
    title = "check"
    parameter_name = "check"

    def lookups(self, request, model_admin):
        return [(name, name) for name in CHECK_NAMES]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        flagged = [pk for pk, checks in queryset.values_list("pk", "qa__checks")
                   if (checks or {}).get(self.value()) in ("review", "fail")]
        return queryset.filter(pk__in=flagged)


class AgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"
    AGES = {"1h": ("under 1 hour", 0, 1), "24h": ("1 to 24 hours", 1, 24), "old": ("over 24 hours", 24, None)}

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _, _) in self.AGES.items()]

    def queryset(self, request, queryset):
        if self.value() not in self.AGES:
            return queryset
        _, young, old = self.AGES[self.value()]
        now = timezone.now()
        queryset = queryset.filter(created_at__lte=now - timedelta(hours=young))
        return queryset.filter(created_at__gt=now - timedelta(hours=old)) if old else queryset


class DecisionFilter(admin.SimpleListFilter):
    """Pending reviews by default: the queue is what still needs a person."""

    title = "decision"
    parameter_name = "decision"

    def lookups(self, request, model_admin):
        return [("pending", "pending"), ("approved", "approved"), ("rejected", "rejected"), ("all", "all")]

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {"selected": (self.value() or "pending") == value, "display": label,
                   "query_string": changelist.get_query_string({self.parameter_name: value})}

    def queryset(self, request, queryset):
        value = self.value() or "pending"
        if value == "all":
            return queryset
        return queryset.filter(decision="" if value == "pending" else value)


def _values_table(image) -> str:
    """Every measured value; the ones whose check is not a pass are highlighted."""
    checks = (image.qa or {}).get("checks", {})
    values = (image.qa or {}).get("values", {})
    rows = []
    for name, verdict in checks.items():
        value = values.get(name, values.get(name.replace("_point", "_ratio"), ""))
        style = {"fail": "background:#f8d7da;font-weight:bold", "review": "background:#fff3cd;font-weight:bold"
                 }.get(verdict, "")
        rows.append((style, verdict, name, value))
    return format_html('<table class="qa-values">{}</table>', format_html_join(
        "", '<tr style="{}" data-verdict="{}"><td>{}</td><td>{}</td></tr>', rows))


@admin.register(ReviewImage)
class ReviewImageAdmin(admin.ModelAdmin):
    list_display = ["previews", "metadata", "values", "verdict_info", "decide"]
    list_filter = [DecisionFilter, "task__genre", CheckFilter, "task__organization", "task__sandbox", AgeFilter]
    actions = ["approve_selected", "reject_selected"]
    list_per_page = 20
    readonly_fields = [f.name for f in CoverImage._meta.fields]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(verdict=Verdict.REVIEW).select_related("task__organization")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="cover and 56 px thumbnail")
    def previews(self, obj):
        url = files.signed_url(obj.storage_path, obj.filename)
        return format_html('<div style="display:flex;gap:12px;align-items:flex-start">'
                           '<a href="{}"><img src="{}" width="300" height="300" alt="cover {}"></a>'
                           '<img src="{}" width="56" height="56" alt="thumbnail {}"></div>',
                           url, url, obj.pk, url, obj.pk)

    @admin.display(description="metadata")
    def metadata(self, obj):
        p = obj.task.params
        return format_html("<b>{}</b><br>{}<br>{}<br><small>{} / {} / {}<br>{}</small>", p.get("text_artist", ""),
                           p.get("text_album", ""), p.get("text_feature") or "", obj.task.genre, obj.variant,
                           obj.task.organization, obj.created_at.strftime("%Y-%m-%d %H:%M"))

    @admin.display(description="measured values")
    def values(self, obj):
        return _values_table(obj)

    @admin.display(description="verdict")
    def verdict_info(self, obj):
        read = (obj.qa or {}).get("values", {}).get("ocr_read")
        return format_html("{} (score {}, {} attempt(s))<br>{}<br>OCR read: {}", obj.verdict,
                           (obj.qa or {}).get("score"), obj.attempts, obj.decision or "pending", read or "-")

    @admin.display(description="decide")
    def decide(self, obj):
        if not obj.awaiting_review:
            return obj.decision
        approve = reverse("admin:generation_reviewimage_decide", args=[obj.pk, "approve"])
        reject = reverse("admin:generation_reviewimage_decide", args=[obj.pk, "reject"])
        return format_html('<button type="submit" class="button" formaction="{}" aria-label="Approve image {}">'
                           'Approve</button> <button type="submit" class="button" formaction="{}" '
                           'aria-label="Reject image {}">Reject</button>', approve, obj.pk, reject, obj.pk)

    @admin.action(description="Approve selected images (charge and deliver)")
    def approve_selected(self, request, queryset):
        done = review.decide_many(list(queryset.values_list("pk", flat=True)), True, request.user)
        self.message_user(request, f"{done} image(s) approved.", messages.SUCCESS)

    @admin.action(description="Reject selected images (release the credit)")
    def reject_selected(self, request, queryset):
        done = review.decide_many(list(queryset.values_list("pk", flat=True)), False, request.user)
        self.message_user(request, f"{done} image(s) rejected.", messages.SUCCESS)

    def get_urls(self):
        urls = [
            path("<int:pk>/<str:action>/decide/", self.admin_site.admin_view(require_POST(self.decide_view)),
                 name="generation_reviewimage_decide"),
            path("stats/", self.admin_site.admin_view(self.stats_view), name="generation_reviewimage_stats"),
        ]
        return urls + super().get_urls()

    def decide_view(self, request, pk, action):
        if not self.has_change_permission(request) or action not in ("approve", "reject"):
            return HttpResponseRedirect(reverse("admin:generation_reviewimage_changelist"))
        image = get_object_or_404(CoverImage, pk=pk, verdict=Verdict.REVIEW)
        if review.decide(image.pk, action == "approve", request.user):
            self.message_user(request, f"Image {pk} {action}d.", messages.SUCCESS)
        else:
            self.message_user(request, f"Image {pk} was already decided.", messages.WARNING)
        return HttpResponseRedirect(reverse("admin:generation_reviewimage_changelist"))

    def stats_view(self, request):
        context = {**self.admin_site.each_context(request), "title": "QA statistics",
                   "periods": qa_stats(timezone.now())}
        return TemplateResponse(request, "admin/generation/qa_stats.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}),
                         "stats_url": reverse("admin:generation_reviewimage_stats")}
        return super().changelist_view(request, extra_context)


def _rates(counter: dict) -> list[dict]:
    rows = []
    for key in sorted(counter):
        c = counter[key]
        total = sum(c.values()) or 1
        rows.append({"key": key, "total": sum(c.values()),
                     **{v: round(100 * c.get(v, 0) / total, 1) for v in ("pass", "review", "fail")}})
    return rows


def qa_stats(now) -> list[dict]:
    """Pass, review and fail rates per genre, variant and check over the last 7 and 30 days."""
    periods = []
    for days in (7, 30):
        rows = CoverImage.objects.filter(created_at__gte=now - timedelta(days=days)).values_list(
            "task__genre", "variant", "verdict", "qa__checks")
        genre, variant, check = {}, {}, {}
        for g, v, verdict, checks in rows:
            genre.setdefault(g, {}).setdefault(verdict, 0)
            genre[g][verdict] += 1
            variant.setdefault(v, {}).setdefault(verdict, 0)
            variant[v][verdict] += 1
            for name, result in (checks or {}).items():
                if result in ("pass", "review", "fail"):
                    check.setdefault(name, {}).setdefault(result, 0)
                    check[name][result] += 1
        periods.append({"days": days, "total": len(rows), "tables": [("genre", _rates(genre)),
                                                                     ("variant", _rates(variant)),
                                                                     ("check", _rates(check))]})
    return periods
