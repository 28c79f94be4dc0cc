import logging

from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from albumart.api import ApiError, envelope, validation_error
from billing import ledger
from generation import files
from generation.catalogue import catalogue
from generation.jobs import enqueue_render
from generation.models import CoverTask, TaskStatus, new_task_id
from generation.serializers import FeedbackSerializer, GenerateSerializer, VariationSerializer
from generation.sources import SourceError, check_photo, read_source, reference_palette
from generation.taskdata import task_data

log = logging.getLogger(__name__)


def _existing_task_conflict(org, client_task_id: str):
    existing = org.tasks.filter(client_task_id=client_task_id).exclude(status=TaskStatus.FAILED).first()
    if existing is None:
        return None
    if existing.is_terminal:
        return envelope(400, f"A cover already exists for taskId {client_task_id!r}.", {"taskId": existing.id})
    return envelope(409, f"taskId {client_task_id!r} is already being generated.", {"taskId": existing.id})


class GenerateView(APIView):
    """Start a cover task: holds `count` credits and queues the render; the result comes by callback or polling."""

    @extend_schema(request=GenerateSerializer, responses={200: dict}, operation_id="cover_generate")
    def post(self, request):
        return submit(request.org, request.data)


def submit(org, data) -> Response:
    """The whole generate request: validate, read the photo and reference, then create the task.

    The API and the dashboard's playground both come through here; the answer is the API's envelope.
    """
    serializer = GenerateSerializer(data=data)
    if not serializer.is_valid():
        return validation_error(serializer.errors)
    params = dict(serializer.validated_data)
    client_task_id = params.pop("taskId", None) or None
    callback_url = params.pop("callBackUrl", "") or ""
    if client_task_id and (conflict := _existing_task_conflict(org, client_task_id)):
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
                           source_path=source_path, warnings=warnings)
    if response.status_code != 200 and source_path:
        files.delete(source_path)  # no task refers to it
    return response


def create_task(org, params: dict, *, client_task_id=None, callback_url="", source_path="", warnings=(),
                parent=None):
    """Save the task, hold its credits and queue the render, all or nothing."""
    count = params["count"]
    try:
        with transaction.atomic():
            task = CoverTask.objects.create(
                organization=org, client_task_id=client_task_id, genre=params["genre"], params=params,
                count=count, callback_url=callback_url, warnings=list(warnings), credits_held=count,
                source_path=source_path, parent=parent,
            )
            ledger.hold(org, count, task)
            enqueue_render(task)
    except ledger.CreditsBlocked as exc:
        return envelope(402, str(exc), {"needed": count, "debt": exc.debt})
    except ledger.InsufficientCredits as exc:
        return envelope(402, f"Not enough credits: {exc.needed} needed, {exc.available} available.",
                        {"needed": exc.needed, "available": exc.available})
    except IntegrityError:
        # Two submits with the same taskId raced; the other one won.
        return _existing_task_conflict(org, client_task_id) or envelope(409, "taskId is already in use.")
    log.info("task accepted: %s covers of %s, %s credits held", count, task.genre, count,
             extra={"task_id": task.id})
    return envelope(200, "success", {"taskId": task.id, "genre": task.genre, "warnings": list(warnings)})


class RecordInfoView(APIView):
    """The task and its images; image URLs are signed afresh on every call."""

    param = "taskId"

    @extend_schema(parameters=[OpenApiParameter("taskId", str, required=True)], responses={200: dict},
                   operation_id="cover_record_info")
    def get(self, request):
        task_id = request.query_params.get(self.param) or request.query_params.get("taskId")
        if not task_id:
            return validation_error({self.param: ["is required: the taskId returned by generate"]})
        task = request.org.tasks.filter(pk=task_id).prefetch_related("images").first()
        if task is None:
            raise ApiError(404, f"No task {task_id!r} in your organisation.")
        return envelope(200, "success", task_data(task))


class StatusView(RecordInfoView):
    param = "task_id"

    @extend_schema(parameters=[OpenApiParameter("task_id", str, required=True)], responses={200: dict},
                   operation_id="cover_status")
    def get(self, request):
        return super().get(request)


class GenresView(APIView):
    @extend_schema(responses={200: dict}, operation_id="genres")
    def get(self, request):
        return envelope(200, "success", catalogue())




def _own_task(request, task_id: str) -> CoverTask:
    task = request.org.tasks.filter(pk=task_id).first()
    if task is None:
        raise ApiError(404, f"No task {task_id!r} in your organisation.")
    return task


class VariationsView(APIView):
    """A new task re-rolling a finished one: new seeds for every variant, or variations of one image."""

    @extend_schema(request=VariationSerializer, responses={200: dict}, operation_id="cover_variations")
    def post(self, request, task_id: str):
        parent = _own_task(request, task_id)
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
        return create_task(request.org, params, callback_url=parent.callback_url, source_path=parent.source_path,
                           warnings=parent.warnings, parent=parent)


class FeedbackView(APIView):
    """The artist accepted or rejected one delivered image."""

    @extend_schema(request=FeedbackSerializer, responses={200: dict}, operation_id="cover_feedback")
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
