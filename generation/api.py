import logging
from datetime import UTC, datetime

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import is_sandbox
from albumart.api import ApiError, envelope, validation_error
from billing import ledger
from generation import credits, engine, files, renditions
from generation.callbacks import enqueue_delivery
from generation.catalogue import catalogue
from generation.jobs import enqueue_render
from generation.models import RETIRED, CoverTask, Decision, Dialect, TaskStatus, Verdict, new_task_id
from generation.schema import CALLBACKS, GENERATE_EXAMPLES, RESPONSES
from generation.serializers import FeedbackSerializer, GenerateSerializer, VariationSerializer
from generation.sources import SourceError, check_photo, read_source, reference_palette
from generation.taskdata import task_data

log = logging.getLogger(__name__)


def _existing_task_conflict(org, client_task_id: str, sandbox: bool = False):
    # Sandbox and live tasks keep their client taskIds apart (the unique constraint's `sandbox`).
    existing = org.tasks.filter(client_task_id=client_task_id, sandbox=sandbox).exclude(status__in=RETIRED).first()
    if existing is None:
        return None
    if existing.is_terminal:
        return envelope(400, f"A cover already exists for taskId {client_task_id!r}.", {"taskId": existing.id})
    return envelope(409, f"taskId {client_task_id!r} is already being generated.", {"taskId": existing.id})


class GenerateView(APIView):
    """Start a cover task: holds `count` credits and queues the render; the result comes by callback or polling."""

    @extend_schema(request=GenerateSerializer, responses=RESPONSES["generate"], operation_id="cover_generate",
                   callbacks=CALLBACKS[Dialect.NATIVE], examples=GENERATE_EXAMPLES)
    def post(self, request):
        return submit(request.org, request.data, sandbox=is_sandbox(request))


def submit(org, data, *, sandbox: bool, serializer_class=GenerateSerializer,
           dialect: str = Dialect.NATIVE) -> Response:
    """The whole generate request: validate, read the photo and reference, then create the task.

    The API, its peer dialects (generation/dialects.py: their own serializer, the task's callback in their format)
    and the dashboard's playground all come through here; the answer is the API's envelope. `sandbox`: the request
    came with a sandbox key (accounts.authentication.is_sandbox), so the task is test data and costs nothing; it
    has no default, so that a new caller cannot charge a sandbox key's request by leaving it out.
    """
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        return validation_error(serializer.errors)
    params = dict(serializer.validated_data)
    client_task_id = params.pop("taskId", None) or None
    callback_url = params.pop("callBackUrl", "") or ""
    if client_task_id and (conflict := _existing_task_conflict(org, client_task_id, sandbox)):
        return conflict
    try:
        photo_bytes = read_source(data.get("source_image"))
        warnings = check_photo(photo_bytes) if photo_bytes is not None else []
    except SourceError as exc:
        return validation_error({"source_image": [str(exc)]})
    except ApiError as exc:  # 413
        return envelope(exc.status_code, exc.msg, exc.data)
    try:
        reference = read_source(data.get("style_reference"), "style_reference")
        if reference is not None:
            params["reference_palette"] = reference_palette(reference)
    except SourceError as exc:
        return validation_error({"style_reference": [str(exc)]})
    except ApiError as exc:
        return envelope(exc.status_code, exc.msg, exc.data)

    source_path = files.save(f"sources/{org.pk}/{new_task_id()}", photo_bytes) if photo_bytes else ""
    response = create_task(org, params, client_task_id=client_task_id, callback_url=callback_url,
                           source_path=source_path, warnings=warnings, dialect=dialect, sandbox=sandbox)
    if response.status_code != 200 and source_path:
        files.delete(source_path)  # no task refers to it
    return response


def create_task(org, params: dict, *, client_task_id=None, callback_url="", source_path="", warnings=(),
                parent=None, dialect: str = Dialect.NATIVE, sandbox: bool = False):
    """Save the task, hold its credits (none for a sandbox task) and queue the render, all or nothing."""
    count = params["count"]
    try:
        with transaction.atomic():
            task = CoverTask.objects.create(
                organization=org, client_task_id=client_task_id, genre=params["genre"], params=params,
                count=count, callback_url=callback_url, warnings=list(warnings), credits_held=0 if sandbox else count,
                source_path=source_path, parent=parent, dialect=dialect, sandbox=sandbox,
            )
            credits.hold(task)
            enqueue_render(task)
    except ledger.CreditsBlocked as exc:
        return envelope(402, str(exc), {"needed": count, "debt": exc.debt})
    except ledger.InsufficientCredits as exc:
        return envelope(402, f"Not enough credits: {exc.needed} needed, {exc.available} available.",
                        {"needed": exc.needed, "available": exc.available})
    except IntegrityError:
        # Two submits with the same taskId raced; the other one won.
        return _existing_task_conflict(org, client_task_id, sandbox) or envelope(409, "taskId is already in use.")
    log.info("task accepted: %s covers of %s, %s credits held%s", count, task.genre, task.credits_held,
             " (sandbox)" if sandbox else "", extra={"task_id": task.id})
    return envelope(200, "success", {"taskId": task.id, "genre": task.genre, "warnings": list(warnings)})


CLIENT_TASK_ID = OpenApiParameter("clientTaskId", str, description="your own task id (sent as taskId to generate); "
                                   "the live task with it, else the newest")
TASK_ID_PARAMS = ("taskId", "task_id")  # both poll paths accept either name


def _task_id_params(first: str) -> list[OpenApiParameter]:
    other = next(name for name in TASK_ID_PARAMS if name != first)
    return [OpenApiParameter(first, str, description="the taskId returned by generate"),
            OpenApiParameter(other, str, description=f"the same as {first}, by its other name")]


class RecordInfoView(APIView):
    """The task and its images; image URLs are signed afresh on every call."""

    param = "taskId"

    @extend_schema(parameters=[*_task_id_params("taskId"), CLIENT_TASK_ID], responses=RESPONSES["task"],
                   operation_id="cover_record_info")
    def get(self, request):
        # Both poll paths take the id as taskId (Suno-style) or task_id (apiin-style), whichever the client sends.
        given = {request.query_params.get(name) for name in TASK_ID_PARAMS} - {None, ""}
        if len(given) > 1:
            return validation_error({name: ["taskId and task_id name two different tasks; send one of them"]
                                     for name in TASK_ID_PARAMS})
        task_id = given.pop() if given else None
        client_task_id = request.query_params.get("clientTaskId")
        if not task_id and not client_task_id:
            return validation_error({
                self.param: ["is required (or clientTaskId): the taskId returned by generate"],
                "clientTaskId": [f"is required (or {self.param}): your own task id, sent as taskId to generate"],
            })
        tasks = request.org.tasks.prefetch_related("images")
        if client_task_id:  # the calling key's kind of task: sandbox and live taskIds are apart
            tasks = tasks.filter(client_task_id=client_task_id, sandbox=is_sandbox(request))
        if task_id:
            task = tasks.filter(pk=task_id).first()
        else:
            # At most one task per client id is live (the unique constraint); failed or cancelled ones may precede it.
            task = tasks.exclude(status__in=RETIRED).first() or tasks.first()
        if task is None:
            what = f"{task_id!r}" if task_id else f"with clientTaskId {client_task_id!r}"
            raise ApiError(404, f"No task {what} in your organisation.")
        return envelope(200, "success", task_data(task))


class StatusView(RecordInfoView):
    param = "task_id"

    @extend_schema(parameters=[*_task_id_params("task_id"), CLIENT_TASK_ID], responses=RESPONSES["task"],
                   operation_id="cover_status")
    def get(self, request):
        return super().get(request)


class GenresView(APIView):
    @extend_schema(responses=RESPONSES["genres"], operation_id="genres")
    def get(self, request):
        return envelope(200, "success", catalogue())




def _own_task(request, task_id: str) -> CoverTask:
    task = request.org.tasks.filter(pk=task_id).first()
    if task is None:
        raise ApiError(404, f"No task {task_id!r} in your organisation.")
    return task


class VariationsView(APIView):
    """A new task re-rolling a finished one: new seeds for every variant, or variations of one image."""

    @extend_schema(request=VariationSerializer, responses=RESPONSES["variations"], operation_id="cover_variations",
                   callbacks=CALLBACKS[Dialect.NATIVE])
    def post(self, request, task_id: str):
        parent = _own_task(request, task_id)
        if parent.deleted_at or parent.source_purged_at:
            # Without its photo a re-roll would quietly become a background-only cover: refused instead.
            gone = "was deleted" if parent.deleted_at else "had its photo deleted after the retention period"
            raise ApiError(409, f"Task {parent.id} {gone}; submit a new task with the photo instead.")
        serializer = VariationSerializer(data=request.data)
        if not serializer.is_valid():
            return validation_error(serializer.errors)
        params = dict(parent.params)
        params["count"] = serializer.validated_data.get("count") or parent.count
        index = serializer.validated_data.get("image")
        if index is None:
            params.update(seed=None, variant_lock=None)
        else:
            image = parent.images.filter(index=index, passed=True).first()
            if image is None:
                return validation_error({"image": [f"task {parent.id} has no delivered image {index}"]})
            # Same variant, seeds next to the chosen one: a family of close alternatives.
            params.update(seed=image.seed + 1, variant_lock=image.variant)
        # Its own callBackUrl (and events) if the request gives them, else the parent's.
        callback_url = serializer.validated_data.get("callBackUrl") or parent.callback_url
        if "webhook_events_filter" in serializer.validated_data:
            params["webhook_events_filter"] = serializer.validated_data["webhook_events_filter"]
        # The calling key decides what the variation costs: a sandbox key's is free and watermarked.
        return create_task(request.org, params, callback_url=callback_url, source_path=parent.source_path,
                           warnings=parent.warnings, parent=parent, dialect=parent.dialect,
                           sandbox=is_sandbox(request))


class FeedbackView(APIView):
    """The artist accepted or rejected one delivered image."""

    @extend_schema(request=FeedbackSerializer, responses=RESPONSES["feedback"], operation_id="cover_feedback")
    def post(self, request, task_id: str):
        task = _own_task(request, task_id)
        serializer = FeedbackSerializer(data=request.data)
        if not serializer.is_valid():
            return validation_error(serializer.errors)
        data = serializer.validated_data
        image = task.images.filter(index=data["image"], passed=True).first()
        if image is None:
            return validation_error({"image": [f"task {task.id} has no delivered image {data['image']}"]})
        image.accepted = data["accepted"]
        image.feedback_reason = data.get("reason", "")
        image.save(update_fields=["accepted", "feedback_reason"])
        return envelope(200, "success", {"taskId": task.id, "image": image.index, "accepted": image.accepted})


# The task list, cancel and delete (API.md: Beyond the peers)

LIST_LIMIT, LIST_MAX = 20, 100
CURSOR_SALT = "albumart.tasks-cursor"
LIST_PARAMS = {"limit", "cursor", "status", "genre", "createdAfter", "createdBefore", "clientTaskId", "taskId"}


def _instant(raw: str) -> datetime:
    """An ISO 8601 date or date-time; naive ones are UTC. ValueError when it is not one."""
    value = parse_datetime(raw)
    if value is None and (day := parse_date(raw)) is not None:
        value = datetime(day.year, day.month, day.day)
    if value is None:
        raise ValueError(raw)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)  # OverflowError at the calendar's ends: refused like a bad value


def _cursor(task: CoverTask) -> str:
    return signing.dumps([task.created_at.isoformat(), task.id], salt=CURSOR_SALT, compress=True)


def _after_cursor(raw: str) -> Q:
    """The tasks after the cursor's one in the list's order (newest first, then by id): ties on created_at are
    neither skipped nor repeated."""
    created, task_id = signing.loads(raw, salt=CURSOR_SALT)
    created = datetime.fromisoformat(created)
    return Q(created_at__lt=created) | Q(created_at=created, id__lt=task_id)


def _list_filters(query) -> tuple[Q, int, dict]:
    """The list's query parameters as one filter and a page size, and the errors of the invalid ones."""
    errors: dict[str, list[str]] = {}
    where = Q()
    for name in sorted(set(query) - LIST_PARAMS):
        errors[name] = [f"is not a parameter of this list; use {', '.join(sorted(LIST_PARAMS))}"]
    limit = LIST_LIMIT
    if (raw := query.get("limit")) is not None:
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if not 1 <= limit <= LIST_MAX:
            errors["limit"] = [f"must be a whole number from 1 to {LIST_MAX}, not {raw[:40]!r}"]
    if raw := query.get("status"):
        statuses = [s.strip().upper() for s in raw.split(",") if s.strip()]
        if unknown := [s for s in statuses if s not in TaskStatus.values]:
            errors["status"] = [f"unknown status {unknown[0][:40]!r}; use one or more (comma-separated) of "
                                f"{', '.join(TaskStatus.values)}"]
        where &= Q(status__in=statuses)
    if raw := query.get("genre"):
        if (genre := engine.resolve_genre(raw)) is None:
            errors["genre"] = [f"unknown genre {raw[:40]!r}; use one of {', '.join(sorted(engine.GENRES))}"]
        where &= Q(genre=genre)
    for name, lookup in (("createdAfter", "created_at__gte"), ("createdBefore", "created_at__lt")):
        if raw := query.get(name):
            try:
                where &= Q(**{lookup: _instant(raw)})
            except (ValueError, OverflowError):
                errors[name] = [f"{raw[:40]!r} is not an ISO 8601 date or date-time, e.g. 2026-05-01 or "
                                f"2026-05-01T12:00:00Z (a '+' offset must be sent as %2B)"]
    client_task_id = query.get("clientTaskId") or query.get("taskId")
    if client_task_id:
        where &= Q(client_task_id=client_task_id)
    if raw := query.get("cursor"):
        try:
            where &= _after_cursor(raw)
        except (signing.BadSignature, ValueError, TypeError):
            errors["cursor"] = ["is not a cursor of this list; pass nextCursor from the previous page as it is"]
    return where, limit, errors


class TaskListView(APIView):
    """The organisation's tasks, newest first, a page at a time."""

    @extend_schema(parameters=[
        OpenApiParameter("limit", int, description=f"tasks per page, 1 to {LIST_MAX} (default {LIST_LIMIT})"),
        OpenApiParameter("cursor", str, description="nextCursor of the previous page"),
        OpenApiParameter("status", str, description=f"one status or several, comma-separated: "
                                                    f"{', '.join(TaskStatus.values)}"),
        OpenApiParameter("genre", str, description="a genre or one of its aliases"),
        OpenApiParameter("createdAfter", str, description="ISO 8601; tasks created at or after it"),
        OpenApiParameter("createdBefore", str, description="ISO 8601; tasks created before it"),
        CLIENT_TASK_ID,
        OpenApiParameter("taskId", str, description="the same as clientTaskId (the name generate takes it by)"),
    ], responses=RESPONSES["tasks"], operation_id="cover_tasks")
    def get(self, request):
        where, limit, errors = _list_filters(request.query_params)
        if errors:
            return validation_error(errors)
        tasks = list(request.org.tasks.filter(where).order_by("-created_at", "-id")
                     .prefetch_related("images")[:limit + 1])
        following = _cursor(tasks[limit - 1]) if len(tasks) > limit else None
        return envelope(200, "success", {"tasks": [task_data(t) for t in tasks[:limit]], "nextCursor": following})


def cancel_task(org, task_id: str) -> CoverTask:
    """End a waiting task CANCELLED, under its row lock, so that a render finishing at the same moment either
    settled the task first (then this is a 409) or finds it ended and stores nothing.

    Credits: covers that passed QA while the task rendered were delivered the moment record-info listed them, so
    they are charged, as when a task fails part-way (in REVIEW they were charged already); every other held credit
    is released. The callback goes out once, with the final status."""
    with transaction.atomic():
        task = org.tasks.select_for_update().filter(pk=task_id).first()
        if task is None:
            raise ApiError(404, f"No task {task_id!r} in your organisation.")
        if task.is_terminal:
            raise ApiError(409, f"Task {task.id} is already {task.status}; only a waiting task can be cancelled.",
                           {"taskId": task.id, "status": task.status})
        if task.sandbox:  # test data: nothing was held, so nothing is charged or released
            delivered = released = 0
            message = "Cancelled by the client (a sandbox task: no credits were held)."
        else:
            delivered = task.images.filter(passed=True).count() if task.status == TaskStatus.GENERATING else 0
            released = task.credits_held - delivered
            message = f"Cancelled by the client; {released} held credit(s) released." + (
                f" {delivered} cover(s) delivered before the cancel are charged." if delivered else "")
        credits.settle(task, charge=delivered, release=released)
        # Out of the staff review queue: their credits are released, as a reject's would be.
        task.images.filter(verdict=Verdict.REVIEW, decision=Decision.PENDING).update(
            decision=Decision.REJECTED, reviewed_at=timezone.now(), review_note="task cancelled by the client")
        task.cancel(delivered, message)
        enqueue_delivery(task)
    log.info("task cancelled: %s credits released, %s charged", released, delivered, extra={"task_id": task.id})
    return task


class CancelView(APIView):
    """Cancel a waiting task: it ends CANCELLED and its held credits are released."""

    @extend_schema(request=None, responses=RESPONSES["cancel"], operation_id="cover_cancel")
    def post(self, request, task_id: str):
        task = cancel_task(request.org, task_id)
        return envelope(200, "success", task_data(CoverTask.objects.prefetch_related("images").get(pk=task.pk)))


def _cover_paths(task: CoverTask) -> list[str]:
    """Every stored file of the task's covers: the covers, the dashboard's thumbnails made from them and their
    platform presets (CoverImage.renditions lists their paths)."""
    from generation.dashboard import IMAGE_SIZES  # (the dashboard imports this module)

    paths = []
    for path, made in task.images.values_list("storage_path", "renditions"):
        paths += [path, *(f"thumbs/{px}/{path}.jpg" for px in IMAGE_SIZES.values()), *renditions.stored_paths(made)]
    return [p for p in paths if p]


def delete_task(org, task_id: str) -> CoverTask:
    """Delete an ended task's photo and covers from storage; the row and its ledger entries stay. Again on a
    deleted task: nothing more to do. The files go under the row lock and before the row says so, so a failure
    leaves the task as it was, to be deleted again."""
    with transaction.atomic():
        task = org.tasks.select_for_update().filter(pk=task_id).first()
        if task is None:
            raise ApiError(404, f"No task {task_id!r} in your organisation.")
        if not task.is_terminal:
            raise ApiError(409, f"Task {task.id} is {task.status}; cancel it first "
                                f"(POST /api/v1/cover/{task.id}/cancel), then delete it.",
                           {"taskId": task.id, "status": task.status})
        if task.deleted_at:
            return task
        for path in _cover_paths(task):
            files.delete(path)
        # A variation shares its parent's photo: the last task to let go of it deletes it.
        if task.source_path and not CoverTask.objects.filter(source_path=task.source_path).exclude(
                pk=task.pk).exists():
            files.delete_source(task.source_path)
        task.deleted_at = timezone.now()
        task.source_path = ""
        task.save(update_fields=["deleted_at", "source_path"])
    log.info("task deleted: photo and covers removed from storage", extra={"task_id": task.id})
    return task


class TaskView(APIView):
    """One task: DELETE removes its photo and covers from storage (the record stays)."""

    @extend_schema(request=None, responses=RESPONSES["delete"], operation_id="cover_delete")
    def delete(self, request, task_id: str):
        task = delete_task(request.org, task_id)
        return envelope(200, "success", task_data(task))
