"""The customer dashboard's cover pages: overview, covers and task pages, playground, usage, credits and docs."""

import io
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Prefetch, Q, Sum
from django.db.models.functions import TruncDate
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from PIL import Image

from accounts.decorators import manager_required, org_required
from billing import ledger
from billing.models import CreditEntry
from generation import files
from generation.api import submit
from generation.callbacks import enqueue_delivery
from generation.catalogue import PALETTES, catalogue
from generation.models import CoverImage, CoverTask, TaskStatus
from generation.taskdata import task_data

PAGE_SIZE = 25
IMAGE_SIZES = {"thumb": 360, "preview": 1200}


def _task(request, task_id: str, *related) -> CoverTask:
    """The task in the current organisation; another organisation's is a 404."""
    task = request.org.tasks.filter(pk=task_id).prefetch_related(*related).first()
    if task is None:
        raise Http404("No such task in this organisation.")
    return task


def _with_images(tasks):
    return tasks.prefetch_related(Prefetch("images", queryset=CoverImage.objects.only(
        "id", "task_id", "index", "variant", "passed", "accepted", "storage_path", "qa").order_by("index")))


@org_required
def overview(request):
    org = request.org
    since = timezone.now() - timedelta(days=30)
    # Sandbox tasks are test data: left out of what was delivered and spent, and counted apart.
    images = CoverImage.objects.filter(task__organization=org, task__sandbox=False, created_at__gte=since).aggregate(
        total=Count("id"), passed=Count("id", filter=Q(passed=True)))
    month = org.tasks.filter(created_at__gte=since).aggregate(
        tasks=Count("id", filter=Q(sandbox=False)), charged=Sum("credits_charged", filter=Q(sandbox=False)),
        test_tasks=Count("id", filter=Q(sandbox=True)))
    context = {
        "account": ledger.account(org),
        "images": images,
        "month": month,
        "recent": _with_images(org.tasks.all())[:6],
        "has_key": org.api_keys.active().exists(),
        "has_task": bool(month["tasks"]) or org.tasks.exists(),
    }
    return render(request, "dashboard/overview.html", context)


# Covers


@org_required
def covers(request):
    tasks = request.org.tasks.all()
    status, genre, q = request.GET.get("status", ""), request.GET.get("genre", ""), request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    if kind in ("live", "test"):
        tasks = tasks.filter(sandbox=kind == "test")
    if status in TaskStatus.values:
        tasks = tasks.filter(status=status)
    if genre:
        tasks = tasks.filter(genre=genre)
    if q:
        tasks = tasks.filter(Q(client_task_id__icontains=q) | Q(id=q) | Q(params__text_artist__icontains=q)
                             | Q(params__text_album__icontains=q))
    page = Paginator(tasks.order_by("-created_at"), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _with_images(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "dashboard/covers.html", {
        "page": page, "status": status, "genre": genre, "kind": kind, "q": q, "query": query.urlencode(),
        "statuses": TaskStatus.values, "genres": [g["genre"] for g in catalogue()["genres"]],
    })


@org_required
def task_detail(request, task_id: str):
    task = _task(request, task_id, "images", "deliveries")
    images = list(task.images.all())
    for image in images:
        image.download_url = files.signed_url(image.storage_path, image.filename) if image.passed else ""
    context = {"task": task, "images": images, "deliveries": list(task.deliveries.all()), "params": task.params}
    # A 410 Gone disabled the task's callBackUrl: the page says so and offers to re-enable it (generation/webhooks.py).
    context["callback_disabled"] = task.callback_url and request.org.disabled_endpoints.filter(
        url=task.callback_url).first()
    return render(request, "dashboard/task.html", context)


@org_required
def task_progress(request, task_id: str):
    """What the task page polls while the task runs: its status and the images rendered so far."""
    task = _task(request, task_id, "images")
    images = [{"index": i.index, "variant": i.variant, "passed": i.passed,
               "thumb": reverse("cover-image", args=[task.id, i.index, "thumb"])} for i in task.images.all()]
    return JsonResponse({"status": task.status, "terminal": task.is_terminal, "count": task.count,
                         "rendered": len(images), "images": images, "error": task.error_message or None})


@org_required
def cover_image(request, task_id: str, index: int, size: str):
    """A JPEG thumbnail or preview of one cover, made once from the full file and kept in storage."""
    if size not in IMAGE_SIZES:
        raise Http404
    task = _task(request, task_id)
    if task.deleted_at:
        raise Http404("This task's covers were deleted.")
    image = get_object_or_404(task.images, index=index)
    px = IMAGE_SIZES[size]
    path = f"thumbs/{px}/{image.storage_path}.jpg"
    if not default_storage.exists(path):
        with Image.open(io.BytesIO(files.read(image.storage_path))) as full:
            full.draft("RGB", (px, px))  # JPEG decodes at a reduced scale: much faster
            small = full.convert("RGB")
            small.thumbnail((px, px), Image.Resampling.LANCZOS)
            buf = io.BytesIO()
            small.save(buf, "JPEG", quality=84, optimize=True)
        files.save(path, buf.getvalue())
    response = FileResponse(default_storage.open(path, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@org_required
@require_POST
def image_feedback(request, task_id: str, index: int):
    """Accept or reject one delivered cover, as POST /api/v1/cover/{taskId}/feedback does."""
    task = _task(request, task_id)
    image = get_object_or_404(task.images, index=index, passed=True)
    image.accepted = request.POST.get("accepted") == "1"
    image.feedback_reason = request.POST.get("reason", "")[:500]
    image.save(update_fields=["accepted", "feedback_reason"])
    messages.success(request, f"Cover {index + 1} {'accepted' if image.accepted else 'rejected'}.")
    return redirect("task", task.id)


@org_required
@require_POST
def callback_replay(request, task_id: str):
    """Queue one more delivery of the task's callback, logged like every other attempt."""
    task = _task(request, task_id)
    if not task.callback_url or not task.is_terminal:
        messages.error(request, "Only a finished task with a callBackUrl has a callback to replay.")
        return redirect("task", task.id)
    with transaction.atomic():
        row = enqueue_delivery(task, replay=True)
    messages.success(request, f"Callback replay queued (attempt {row.attempt}); refresh to see its response.")
    return redirect("task", task.id)


# Playground


PLAYGROUND_FIELDS = ("taskId", "genre", "style", "palette", "text_artist", "text_album", "text_feature", "count",
                     "output_format", "size", "seed", "mood", "callBackUrl")


def _playground_context(request, values=None, errors=None):
    cat = catalogue()
    return {"genres": cat["genres"], "palettes": cat["palettes"], "account": ledger.account(request.org),
            "values": values or {"count": "3", "output_format": "png", "size": "3000"}, "errors": errors or {}}


@org_required
def playground(request):
    """Submit a task through create_task, the path the API's generate uses, then watch it on the task page."""
    if request.method != "POST":
        return render(request, "dashboard/playground.html", _playground_context(request))
    values = {f: request.POST.get(f, "") for f in PLAYGROUND_FIELDS}
    data = {k: v for k, v in values.items() if v != ""}
    data["explicit"] = request.POST.get("explicit") == "on"
    values["explicit"] = data["explicit"]
    if "source_image" in request.FILES:
        data["source_image"] = request.FILES["source_image"]
    response = submit(request.org, data, sandbox=False)  # the playground spends credits, as a live key does
    body = response.data
    if response.status_code == 422:
        errors = {f: " ".join(msgs) for f, msgs in body["data"]["errors"].items()}
        messages.error(request, "Check the highlighted fields.")
        return render(request, "dashboard/playground.html", _playground_context(request, values, errors), status=422)
    if response.status_code != 200:
        messages.error(request, body["msg"])
        return render(request, "dashboard/playground.html", _playground_context(request, values),
                      status=response.status_code)
    warnings = body["data"]["warnings"]
    for warning in warnings:
        messages.warning(request, warning)
    messages.success(request, "Task submitted: the covers appear here as the worker renders them.")
    return redirect("task", body["data"]["taskId"])


# Usage


def bar_chart(points: list[tuple[str, float]], *, label: str, unit: str = "", percent: bool = False,
              height: int = 160) -> str:
    """An accessible inline SVG bar chart: one bar per point, the value in each bar's tooltip."""
    width, pad, top = 480, 30, 12
    peak = 100 if percent else max([v for _, v in points] + [1])
    step = (width - pad) / max(len(points), 1)
    bars = []
    for i, (name, value) in enumerate(points):
        h = (height - top - 20) * (value / peak if peak else 0)
        x, y = pad + i * step + step * 0.15, height - 20 - h
        shown = f"{value:.0f}%" if percent else f"{value:g}{unit}"
        bar_width = min(step * 0.7, 48)
        x += (step * 0.7 - bar_width) / 2
        bars.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" height="{h:.1f}" rx="2">'
                    f"<title>{escape(name)}: {shown}</title></rect>")
    ticks = []
    if points:
        for i in sorted({0, len(points) // 2, len(points) - 1}):
            x = pad + i * step + step / 2
            anchor = "end" if i == len(points) - 1 and len(points) > 2 else "middle"
            ticks.append(f'<text x="{min(x, width):.1f}" y="{height - 4}" text-anchor="{anchor}">'
                         f"{escape(points[i][0])}</text>")
    top_label = "100%" if percent else f"{peak:g}"
    axis = f'<text x="0" y="{top + 4}">{top_label}</text><text x="0" y="{height - 20}">0</text>'
    line = f'<line x1="{pad}" y1="{height - 20}" x2="{width}" y2="{height - 20}" class="axis"/>'
    return mark_safe(f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
                     f"<title>{escape(label)}</title>{line}{axis}{''.join(bars)}{''.join(ticks)}</svg>")


def _days(since, days: int) -> list:
    start = since.date()
    return [start + timedelta(days=i) for i in range(days + 1)]


@org_required
def usage(request):
    org = request.org
    days = {"7": 7, "30": 30, "90": 90}.get(request.GET.get("days", "30"), 30)
    since = timezone.now() - timedelta(days=days)
    # Sandbox tasks are test data: no covers delivered or credits spent in these numbers (they are counted apart).
    per_day = {row["day"]: row for row in CoverImage.objects.filter(task__organization=org, task__sandbox=False,
                                                                    created_at__gte=since)
               .annotate(day=TruncDate("created_at")).values("day")
               .annotate(total=Count("id"), passed=Count("id", filter=Q(passed=True)))}
    spent = dict(CreditEntry.objects.filter(organization=org, kind=CreditEntry.Kind.CHARGE, created_at__gte=since)
                 .annotate(day=TruncDate("created_at")).values("day").annotate(n=Sum("amount"))
                 .values_list("day", "n"))
    genres = list(org.tasks.filter(created_at__gte=since, sandbox=False).values("genre")
                  .annotate(tasks=Count("id"), covers=Sum("credits_charged")).order_by("-covers", "genre"))
    dates = _days(since, days)
    label = [d.strftime("%b %d") for d in dates]
    delivered = [(n, per_day.get(d, {}).get("passed", 0)) for n, d in zip(label, dates, strict=True)]
    rate = [(n, 100 * r["passed"] / r["total"] if (r := per_day.get(d)) and r["total"] else 0)
            for n, d in zip(label, dates, strict=True)]
    credits = [(n, spent.get(d, 0)) for n, d in zip(label, dates, strict=True)]
    totals = {"delivered": sum(v for _, v in delivered), "credits": sum(v for _, v in credits),
              "images": sum(r["total"] for r in per_day.values())}
    totals["rate"] = round(100 * totals["delivered"] / totals["images"]) if totals["images"] else 0
    return render(request, "dashboard/usage.html", {
        "days": days, "totals": totals, "genres": genres,
        "test_tasks": org.tasks.filter(created_at__gte=since, sandbox=True).count(),
        "delivered_chart": bar_chart(delivered, label=f"Covers delivered per day, last {days} days"),
        "rate_chart": bar_chart(rate, label="QA pass rate per day", percent=True),
        "credits_chart": bar_chart(credits, label="Credits spent per day"),
        "genre_chart": bar_chart([(g["genre"], g["covers"] or 0) for g in genres], label="Covers delivered by genre"),
    })


# Credits (the purchase flow and statements live under /billing/)


@manager_required
def credits(request):
    entries = CreditEntry.objects.filter(organization=request.org).select_related("task")
    kind, task_q = request.GET.get("kind", ""), request.GET.get("task", "").strip()
    if kind in CreditEntry.Kind.values:
        entries = entries.filter(kind=kind)
    if task_q:
        entries = entries.filter(Q(task_id=task_q) | Q(task__client_task_id=task_q))
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "dashboard/credits.html", {
        "account": ledger.account(request.org), "page": page, "kind": kind, "task": task_q,
        "kinds": CreditEntry.Kind.values, "query": query.urlencode(),
    })


# Docs


@org_required
def docs(request):
    base = settings.PUBLIC_BASE_URL if settings.PUBLIC_BASE_URL.startswith("http") else request.build_absolute_uri("/")
    key = request.org.api_keys.active().order_by("sandbox", "-created_at").first()  # a live key's, if any
    example_task = request.org.tasks.exclude(client_task_id=None).first() or request.org.tasks.first()
    return render(request, "dashboard/docs.html", {
        "base": base.rstrip("/"), "key": f"{key.shown_id}.<secret>" if key else "aa_<your key>",
        "has_key": key is not None, "task_id": example_task.id if example_task else "<taskId>",
        "genres": ", ".join(g["genre"] for g in catalogue()["genres"]), "palettes": ", ".join(sorted(PALETTES)),
        "example": task_data(example_task) if example_task and example_task.is_terminal else None,
    })
