"""The peers' cover APIs as dialects of ours (API.md, Dialects): each is a request serializer and a rendering of the
task data, over the one submit (generation.api.submit) and the one task data (generation.taskdata.task_data).

- sunoapi.org: POST /api/v1/suno/cover/generate, GET /api/v1/suno/cover/record-info, and its callback format
  (https://docs.sunoapi.org/suno-api/cover-suno, .../get-cover-suno-details, .../cover-suno-callbacks).
- apiin.one: POST /api/v1/audio/music/cover/generate, GET /api/v1/audio/music/cover/status
  (https://apiin.one/docs/suno/cover).
- Runflow: POST /v1/album-art/generate is our native request that also takes `webhook_url` (and `callback_url`, the
  name docs.runflow.io/webhooks uses) for the callback URL; its answers and callbacks are native.

A task remembers its dialect, so its callback is rendered in the format of the API it was submitted through.
"""

from collections.abc import Mapping
from datetime import datetime

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import is_sandbox
from albumart.api import ApiError, envelope
from generation import engine
from generation.api import submit
from generation.models import CoverTask, Dialect
from generation.schema import CALLBACKS, GENERATE_EXAMPLES, RESPONSES
from generation.serializers import GenerateSerializer, check_callback_url
from generation.taskdata import task_data

# Requests


MUSIC_TASK = "is required: the music task's id (the taskId its generation returned); one cover task per music task"


def _needed(field: str) -> str:
    """Why a peer's request needs a field: the music task, and the metadata that the peer reads from it."""
    return {
        "taskId": MUSIC_TASK,
        "task_id": MUSIC_TASK.replace("is required:", "is required (or taskId):"),
        "genre": "is required: the peer takes the style from its own music task, which this service cannot read; "
                 f"send the release's genre ({', '.join(sorted(engine.GENRES))}, or an alias such as trap, house, "
                 "soul or country)",
        "text_artist": "is required: the artist line printed on the cover, exactly as in the release metadata; a "
                       "music task does not carry it, and this service never guesses an artist's name",
        "text_album": "is required: the release title printed on the cover, exactly as in the release metadata "
                      "(usually the music task's title)",
    }[field]


METADATA = ("genre", "text_artist", "text_album")


def _one_of(attrs: dict, name: str, *aliases: str) -> None:
    """Keep one value under our name `name` from it or the peer's `aliases`; two different values are refused."""
    given = {n: attrs.pop(n) for n in (name, *aliases) if n in attrs}
    values = {n: v for n, v in given.items() if v not in (None, "")}
    if len(set(values.values())) > 1:
        first, *others = values
        raise serializers.ValidationError({o: [f"differs from {first}; send one of them"] for o in others})
    if values:
        attrs[name] = next(iter(values.values()))
    elif name in given:
        attrs[name] = given[name]


class PeerMetadataMixin:
    """A peer's body: its music task id, plus the release metadata this service needs and the peer does not (its
    own music task has it); a missing one is a 422 that says why it is needed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in (*METADATA, "taskId"):
            self.fields[field].error_messages["required"] = _needed(field)


class SunoCoverSerializer(PeerMetadataMixin, GenerateSerializer):
    """sunoapi.org's cover body, `taskId` and `callBackUrl`, plus every field of our generate request."""

    taskId = serializers.CharField(max_length=128, help_text="the music task's id (sunoapi: the taskId of the music "
                                                             "generation); one cover task per music task")


class ApiinCoverSerializer(PeerMetadataMixin, GenerateSerializer):
    """apiin.one's cover body: the music task as `task_id` (current docs) or `taskId` (earlier docs), an optional
    `callback_url`, plus every field of our generate request."""

    task_id = serializers.CharField(required=False, max_length=128, help_text="the music task's id (or taskId)")
    callback_url = serializers.URLField(required=False, allow_blank=True, max_length=2000,
                                        help_text="where the result is POSTed (or callBackUrl)")

    def validate_callback_url(self, value):
        return check_callback_url(value, "callback_url")

    def to_internal_value(self, data):
        # Named with the other missing fields, not after them: the music task under either name.
        missing = {"task_id": [_needed("task_id")]}
        if not isinstance(data, Mapping) or data.get("task_id") or data.get("taskId"):
            missing = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if missing and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**missing, **exc.detail}) from None
            raise
        if missing:
            raise serializers.ValidationError(missing)
        return value

    def validate(self, attrs):
        _one_of(attrs, "taskId", "task_id")
        _one_of(attrs, "callBackUrl", "callback_url")
        return attrs


class RunflowGenerateSerializer(GenerateSerializer):
    """Our generate request, with Runflow's names for the callback URL."""

    webhook_url = serializers.URLField(required=False, allow_blank=True, max_length=2000,
                                       help_text="where the result is POSTed: the same as callBackUrl")
    callback_url = serializers.URLField(required=False, allow_blank=True, max_length=2000,
                                        help_text="the same as callBackUrl (docs.runflow.io's name)")

    def validate_webhook_url(self, value):
        return check_callback_url(value, "webhook_url")

    def validate_callback_url(self, value):
        return check_callback_url(value, "callback_url")

    def validate(self, attrs):
        _one_of(attrs, "callBackUrl", "webhook_url", "callback_url")
        return attrs


def peer_answer(response: Response) -> Response:
    """Submit's answer as the peers give it: a second cover for the same music task is 400 with the existing
    taskId, whether it is finished or still running (the peers have no 409 for it); a body without the release
    metadata is a 422 whose message lists every missing field."""
    body = response.data
    if response.status_code == 409 and isinstance(body.get("data"), dict) and body["data"].get("taskId"):
        return envelope(400, body["msg"] + " One cover task per music task: the existing taskId is in data.",
                        body["data"])
    if response.status_code == 422:
        errors = body["data"]["errors"]
        missing = [f for f, messages in errors.items() if messages and messages[0].startswith("is required")]
        if missing and next(iter(errors)) in missing:
            msg = f"Needed: {', '.join(missing)} (data.errors says why each is needed)."
            if set(missing) & set(METADATA):
                msg += (" The peer reads the release metadata from its music task, which this service cannot see: "
                        "send it with the request. An artist's name is never guessed.")
            return envelope(422, msg, body["data"])
    return response


# Task data as the peers write it

SUNO_FLAGS = {"pending": 0, "success": 1, "generating": 2, "failed": 3}  # sunoapi's successFlag
SUNO_STATUS = {"pending": "PENDING", "success": "SUCCESS", "generating": "GENERATING",
               "failed": "GENERATE_COVER_FAILED"}
APIIN_STATUS = {"pending": "PENDING", "success": "SUCCESS", "generating": "GENERATING", "failed": "FAILED"}


def outcome(data: dict) -> str:
    """The task data's status in the four states a peer's client tells apart. PARTIAL delivered covers, so it is a
    success to them (only the covers that passed are listed); a cancelled task is one when covers had passed."""
    status = data["status"]
    if status == "PENDING":
        return "pending"
    if status in ("GENERATING", "REVIEW"):
        return "generating"
    if status in ("SUCCESS", "PARTIAL") or (status == "CANCELLED" and data["images"]):
        return "success"
    return "failed"


def _peer_time(iso: str | None, millis: bool) -> str | None:
    """A task data time as the peers write it: 2025-01-15T10:35:27.000Z (sunoapi) or 2026-02-24T12:00:30Z
    (apiin)."""
    if not iso:
        return None
    at = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return at.strftime("%Y-%m-%dT%H:%M:%S") + (f".{at.microsecond // 1000:03d}Z" if millis else "Z")


def suno_record(task: CoverTask) -> dict:
    """sunoapi.org's record-info data: the cover images as URL strings under response.images, successFlag 0-3."""
    data = task_data(task)
    state = outcome(data)
    failed = state == "failed"
    return {
        "taskId": data["taskId"],
        "parentTaskId": data["musicTaskId"],
        "callbackUrl": task.callback_url or None,
        "createTime": _peer_time(data["createTime"], millis=True),
        "completeTime": _peer_time(data["completeTime"], millis=True),
        "response": {"images": [i["url"] for i in data["images"]]} if state == "success" else None,
        "successFlag": SUNO_FLAGS[state],
        "status": SUNO_STATUS[state],
        # The documented values: 200 done, 500 failed (the reason in errorMessage); none while it runs.
        "errorCode": 500 if failed else 200 if state == "success" else None,
        "errorMessage": (data["errorMessage"] or "Cover generation failed.") if failed else "",
    }


def suno_callback(task: CoverTask) -> dict:
    """sunoapi.org's cover callback: {"code": 200, "data": {"taskId", "images": [URL]}}, or 501 with images null."""
    data = task_data(task)
    if outcome(data) == "success":
        return {"code": 200, "msg": "success",
                "data": {"taskId": data["taskId"], "images": [i["url"] for i in data["images"]]}}
    return {"code": 501, "msg": data["errorMessage"] or "Cover generation failed.",
            "data": {"taskId": data["taskId"], "images": None}}


def apiin_status(task: CoverTask) -> dict:
    """apiin.one's cover status data: status, images as URL strings, created_at."""
    data = task_data(task)
    state = outcome(data)
    return {
        "taskId": data["taskId"],
        "status": APIIN_STATUS[state],
        "images": [i["url"] for i in data["images"]] if state == "success" else [],
        "created_at": _peer_time(data["createTime"], millis=False),
        "completed_at": _peer_time(data["completeTime"], millis=False),
        "error_message": (data["errorMessage"] or "Cover generation failed.") if state == "failed" else None,
    }


def apiin_callback(task: CoverTask) -> dict:
    # apiin.one documents no cover callback; its status data in the envelope, as the peers' callbacks do.
    data = apiin_status(task)
    if data["status"] == "FAILED":
        return {"code": 501, "msg": data["error_message"], "data": data}
    return {"code": 200, "msg": "success", "data": data}


def peer_callback(task: CoverTask) -> dict:
    """The callback body of a task submitted through a peer's API (taskdata.callback_envelope asks)."""
    return {Dialect.SUNOAPI: suno_callback, Dialect.APIIN: apiin_callback}[task.dialect](task)


# Views


def _task(request, *names: str) -> CoverTask:
    """The task named by the query parameter `names[0]` or its other names; 422 without one or with two different
    ones, 404 when it is not the organisation's."""
    given = {request.query_params.get(n) for n in names} - {None, ""}
    if len(given) != 1:
        why = (f"is required (or {', '.join(names[1:])}): the taskId returned by generate" if not given
               else f"{' and '.join(names)} name two different tasks; send one of them")
        raise ApiError(422, f"{names[0]}: {why}", {"errors": {names[0]: [why]}})
    task_id = given.pop()
    task = request.org.tasks.prefetch_related("images").filter(pk=task_id).first()
    if task is None:
        raise ApiError(404, f"No task {task_id!r} in your organisation.")
    return task


SUNO_EXAMPLE = OpenApiExample("sunoapi.org body, with the release metadata", request_only=True, value={
    "taskId": "73d6128b3523a0079df10da9471017c8", "callBackUrl": "https://api.example.com/callback",
    "genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING"})


class SunoCoverGenerateView(APIView):
    """sunoapi.org's "Generate Music Cover" on our engine; the callback comes in sunoapi's format."""

    @extend_schema(
        request=SunoCoverSerializer, responses=RESPONSES["peer_generate"], operation_id="suno_cover_generate",
        callbacks=CALLBACKS[Dialect.SUNOAPI],
        summary="Start a cover task (sunoapi.org dialect)", examples=[SUNO_EXAMPLE],
        description="sunoapi.org's body (`taskId` of the music task, `callBackUrl`) plus the release metadata "
                    "(`genre`, `text_artist`, `text_album` required) and any other field of /api/v1/cover/generate. "
                    "A second cover for the same music task is 400 with the existing taskId. The callback is "
                    "`{\"code\": 200, \"msg\": \"success\", \"data\": {\"taskId\", \"images\": [URL]}}`, or code "
                    "501 with `images: null` when no cover could be made.")
    def post(self, request):
        return peer_answer(submit(request.org, request.data, serializer_class=SunoCoverSerializer,
                                  dialect=Dialect.SUNOAPI, sandbox=is_sandbox(request)))


class SunoRecordInfoView(APIView):
    """sunoapi.org's "Get Music Cover Details" for any of the organisation's tasks."""

    @extend_schema(
        parameters=[OpenApiParameter("taskId", str, description="the taskId returned by generate (or task_id)")],
        responses=RESPONSES["suno_record"], operation_id="suno_cover_record_info",
        summary="A cover task (sunoapi.org dialect)",
        description="`taskId`, `parentTaskId` (the music task), `callbackUrl`, `createTime`, `completeTime`, "
                    "`response.images` (URL strings, once covers are delivered), `successFlag` (0 pending, 1 success, "
                    "2 generating, 3 failed), `errorCode` (200, or 500 when failed), `errorMessage`.")
    def get(self, request):
        return envelope(200, "success", suno_record(_task(request, "taskId", "task_id")))


class ApiinCoverGenerateView(APIView):
    """apiin.one's "Generate Music Cover" on our engine."""

    @extend_schema(
        request=ApiinCoverSerializer, responses=RESPONSES["peer_generate"], operation_id="apiin_cover_generate",
        callbacks=CALLBACKS[Dialect.APIIN],
        summary="Start a cover task (apiin.one dialect)",
        description="apiin.one's body (`task_id`, or `taskId`, of the music task) plus the release metadata "
                    "(`genre`, `text_artist`, `text_album` required) and any other field of /api/v1/cover/generate; "
                    "`callback_url` (or `callBackUrl`) gets the status data when the task ends. A second cover for "
                    "the same music task is 400 with the existing taskId.")
    def post(self, request):
        return peer_answer(submit(request.org, request.data, serializer_class=ApiinCoverSerializer,
                                  dialect=Dialect.APIIN, sandbox=is_sandbox(request)))


class ApiinCoverStatusView(APIView):
    """apiin.one's cover status for any of the organisation's tasks."""

    @extend_schema(
        parameters=[OpenApiParameter("task_id", str, description="the taskId returned by generate (or taskId)")],
        responses=RESPONSES["apiin_status"], operation_id="apiin_cover_status",
        summary="A cover task (apiin.one dialect)",
        description="`taskId`, `status` (PENDING, GENERATING, SUCCESS, FAILED), `images` (URL strings once SUCCESS), "
                    "`created_at`, `completed_at`, `error_message`.")
    def get(self, request):
        return envelope(200, "success", apiin_status(_task(request, "task_id", "taskId")))


class RunflowGenerateView(APIView):
    """/v1/album-art/generate: the native generate request, with Runflow's `webhook_url` for the callback."""

    @extend_schema(
        request=RunflowGenerateSerializer, responses=RESPONSES["generate"], operation_id="album_art_generate",
        callbacks=CALLBACKS[Dialect.NATIVE], examples=GENERATE_EXAMPLES,
        summary="Start a cover task (Runflow path)",
        description="The same as /api/v1/cover/generate; the callback URL may also be sent as `webhook_url` or "
                    "`callback_url`. Answers and callbacks are native.")
    def post(self, request):
        return submit(request.org, request.data, serializer_class=RunflowGenerateSerializer,
                      sandbox=is_sandbox(request))

