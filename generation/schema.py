"""The API's data in the OpenAPI schema (API.md): the task data of record-info, status and the callback
(generation/taskdata.py), the other answers' data, the peers' formats (generation/dialects.py), the generate
request's photo and palette fields, and the callbacks. The envelope, errors and headers are albumart/openapi.py's.

A key added to an answer must be added here too: tests/schemacheck.py fails a test whose API response carries a
key, a type or a status code this schema does not describe.
"""

from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiCallback, OpenApiExample

from albumart.openapi import ERRORS, api_responses, component, nullable, obj
from generation.catalogue import PALETTES
from generation.engine import VARIANTS
from generation.models import Dialect, TaskStatus, Verdict, WebhookEvent
from generation.renditions import PLATFORMS
from generation.serializers import FILE_FIELDS, HEX

STRING, INTEGER, BOOLEAN, NUMBER = ({"type": t} for t in ("string", "integer", "boolean", "number"))
TIME = {"type": "string", "format": "date-time"}
STRINGS = {"type": "array", "items": STRING}
URL = {"type": "string", "format": "uri"}
VERDICT = {"type": "string", "enum": Verdict.values, "description": "the Sentinel's verdict: pass, review (a person "
                                                                    "decides) or fail"}
CHECK_RESULT = {"type": "string", "enum": ["pass", "review", "fail", "skip"]}

# The task data

QA = component("QaResult", obj({
    "passed": BOOLEAN,
    "verdict": VERDICT,
    "score": {"type": "number", "minimum": 0, "maximum": 1},
    "checks": {"type": "object", "additionalProperties": CHECK_RESULT,
               "description": "check -> result, e.g. `{\"size\": \"pass\", \"legibility56px\": \"pass\"}`"},
    "values": {"type": "object", "additionalProperties": True, "description": "the measured values, by name"},
    "timingsMs": {"type": "object", "additionalProperties": NUMBER},
    "attempts": {"type": "array", "items": obj({"seed": INTEGER, "verdict": VERDICT, "failed": STRINGS},
                                               required=[]),
                 "description": "every render of this image, the last one kept"},
}, required=[], description="The Sentinel's quality checks of one cover, with the API's camelCase names (README, "
                            "Names in responses)."))

REVIEW = nullable(obj({"decision": nullable({"type": "string", "enum": ["", "approved", "rejected"]}),
                       "reviewedAt": nullable(TIME)},
                      description="staff review of a `review` verdict; null otherwise"))

RENDITIONS = component("Renditions", {
    "type": "object", "propertyNames": {"enum": list(PLATFORMS)},
    "additionalProperties": {"oneOf": [
        obj({"url": URL, "width": INTEGER, "height": INTEGER, "format": STRING, "bytes": INTEGER,
             "filename": STRING}),
        obj({"url": {"type": "null"}, "reason": STRING}, description="not made, and why"),
    ]},
    "description": "platform -> its file (a signed download URL and the file's measurements), when the task asked "
                   "for `renditions`",
})

IMAGE_FIELDS = {
    "index": INTEGER,
    "url": {**URL, "description": "signed; valid for at least 14 days, always fetchable again via record-info"},
    "filename": STRING,
    "variant": {"type": "string", "enum": list(VARIANTS)},
    "width": INTEGER,
    "height": INTEGER,
    "format": {"type": "string", "enum": ["png", "jpeg"]},
    "bytes": INTEGER,
    "seed": INTEGER,
    "qa": QA,
    "verdict": VERDICT,
    "attempts": INTEGER,
    "review": REVIEW,
    "accepted": nullable({"type": "boolean", "description": "the artist's feedback, null until given"}),
    "renditions": RENDITIONS,
}
IMAGE = component("Image", obj(IMAGE_FIELDS, required=[f for f in IMAGE_FIELDS if f != "renditions"],
                               description="A delivered cover (it passed QA)."))

FAILED_CHECK = obj({"check": STRING, "result": CHECK_RESULT,
                    "values": {"type": "object", "additionalProperties": True}, "reason": STRING})
FAILED_FIELDS = {
    "index": INTEGER, "variant": STRING, "seed": INTEGER, "attempts": INTEGER,
    "outcome": {"type": "string", "enum": ["failed", "rejected"]},
    "verdict": VERDICT,
    "reason": {"type": "string", "description": "in plain words, with the measured values"},
    "failedChecks": {"type": "array", "items": FAILED_CHECK},
    "qa": QA,
    "review": REVIEW,
}
FAILED_IMAGE = component("FailedImage", obj(FAILED_FIELDS, description="A cover that was not delivered (and not "
                                                                       "charged), and why."))

TASK_FIELDS = {
    "taskId": STRING,
    "musicTaskId": nullable({"type": "string", "description": "your own taskId sent to generate"}),
    "parentTaskId": nullable({"type": "string", "description": "the task a variation re-rolls"}),
    "status": {"type": "string", "enum": TaskStatus.values},
    "genre": STRING,
    "count": {"type": "integer", "minimum": 1, "maximum": 4},
    "createTime": TIME,
    "completeTime": nullable(TIME),
    "deleteTime": nullable(TIME),
    "images": {"type": "array", "items": IMAGE},
    "failedImages": {"type": "array", "items": FAILED_IMAGE,
                     "description": "once the task has ended: every cover not delivered, and why"},
    "sandbox": {"type": "boolean", "description": "a sandbox key's task: test data, watermarked, never charged"},
    "credits": obj({"held": INTEGER, "charged": INTEGER}),
    "warnings": STRINGS,
    "errorCode": nullable(INTEGER),
    "errorMessage": nullable(STRING),
}
TASK_DATA = component("TaskData", obj(TASK_FIELDS, description=(
    "A cover task: SUCCESS, every image passed QA; PARTIAL, some did and the rest failed after retries (not "
    "charged, listed in failedImages); FAILED, none passed or the task errored (nothing charged); REVIEW, an "
    "image waits for staff review; CANCELLED, by the client.")))

# An `image` progress event: the stored cover, passed or not.
IMAGE_EVENT = component("ImageEvent", {"oneOf": [
    obj({**IMAGE_FIELDS, "passed": {"const": True}}, required=[*IMAGE_FIELDS.keys() - {"renditions"}, "passed"]),
    obj({"index": INTEGER, "variant": STRING, "seed": INTEGER, "attempts": INTEGER, "passed": {"const": False},
         "outcome": {"const": "review"}, "verdict": VERDICT, "reason": STRING, "qa": QA}),
    obj({**FAILED_FIELDS, "passed": {"const": False}}),
]})
CALLBACK_DATA = component("TaskCallbackData", obj(
    {**TASK_FIELDS, "event": {"type": "string", "enum": WebhookEvent.values},
     "image": nullable(IMAGE_EVENT)}, required=[*TASK_FIELDS, "event"],
    description="The task data and the event: `completed` (the final callback, always sent), or `started` and "
                "`image` when `webhook_events_filter` asked for them (`image` then names the stored cover)."))
TASK_CALLBACK = component("TaskCallback", obj({
    "code": {"type": "integer", "enum": [200, 501, 531],
             "description": "200 success, partial success, cancelled or a progress event; 531 failed, credits "
                            "released (501 generation failed)"},
    "msg": {"type": "string", "description": "success, cancelled, the event name, or why it failed"},
    "data": CALLBACK_DATA,
}, description="The native callback body: the envelope around the task data."))

# The other answers

SUBMITTED = component("Submitted", obj({
    "taskId": {"type": "string", "description": "the cover task's id, for record-info and the callback"},
    "genre": {"type": "string", "description": "the genre resolved from the one sent (aliases map to a genre)"},
    "warnings": STRINGS,
}))
TASK_LIST = component("TaskList", obj({
    "tasks": {"type": "array", "items": TASK_DATA},
    "nextCursor": nullable({"type": "string", "description": "pass as `cursor` for the next page; null at the end"}),
}))
FEEDBACK = component("FeedbackRecorded", obj({"taskId": STRING, "image": INTEGER, "accepted": BOOLEAN}))
HEX_COLOURS = {"type": "array", "items": {"type": "string", "pattern": HEX.pattern}}
CATALOGUE = component("Catalogue", obj({
    "genres": {"type": "array", "items": obj({
        "genre": STRING, "label": STRING, "aliases": STRINGS, "scene": STRING, "scenes": STRINGS,
        "palette": HEX_COLOURS, "fonts": STRINGS})},
    "palettes": {"type": "object", "additionalProperties": HEX_COLOURS,
                 "description": "the named palettes a request's `palette` may use"},
    "variants": STRINGS,
}))
CREDITS = component("Credits", obj({
    "balance": INTEGER, "held": {"type": "integer", "description": "held by running tasks"},
    "available": INTEGER, "debt": INTEGER, "chargedThisMonth": INTEGER}))
WEBHOOK_SECRET = component("WebhookSecret", obj({
    "key": {"type": "string", "pattern": "^whsec_", "description": "the Standard Webhooks signing secret"},
    "previousKey": nullable({"type": "string", "pattern": "^whsec_", "description":
                             "during the 24 hours after a rotation, the secret before it (it still signs)"}),
    "previousExpiresAt": nullable({**TIME, "description": "when the previous secret stops signing"}),
}))
DISABLED_WEBHOOKS = component("DisabledWebhooks", obj({"endpoints": {"type": "array", "items": obj(
    {"url": URL, "disabledAt": TIME})}}))
ENABLED_WEBHOOK = component("EnabledWebhook", obj({"url": URL, "enabled": {"const": True}, "requeued": {
    "type": "integer", "description": "final callbacks given up because of the 410, queued again"}}))

# The peers' formats

SUNO_RECORD = component("SunoCoverRecord", obj({
    "taskId": STRING,
    "parentTaskId": nullable({"type": "string", "description": "the music task"}),
    "callbackUrl": nullable(URL),
    "createTime": TIME,
    "completeTime": nullable(TIME),
    "response": nullable(obj({"images": {"type": "array", "items": URL}})),
    "successFlag": {"type": "integer", "enum": [0, 1, 2, 3], "description": "0 pending, 1 success, 2 generating, "
                                                                             "3 failed"},
    "status": {"type": "string", "enum": ["PENDING", "SUCCESS", "GENERATING", "GENERATE_COVER_FAILED"]},
    "errorCode": nullable({"type": "integer", "enum": [200, 500]}),
    "errorMessage": STRING,
}, description="sunoapi.org's cover details."))
SUNO_CALLBACK = component("SunoCoverCallback", obj({
    "code": {"type": "integer", "enum": [200, 501]}, "msg": STRING,
    "data": obj({"taskId": STRING, "images": nullable({"type": "array", "items": URL})}),
}, description="sunoapi.org's cover callback: the images as URL strings, or code 501 with `images: null`."))
APIIN_STATUS = component("ApiinCoverStatus", obj({
    "taskId": STRING,
    "status": {"type": "string", "enum": ["PENDING", "GENERATING", "SUCCESS", "FAILED"]},
    "images": {"type": "array", "items": URL},
    "created_at": TIME,
    "completed_at": nullable(TIME),
    "error_message": nullable(STRING),
}, description="apiin.one's cover status."))
APIIN_CALLBACK = component("ApiinCoverCallback", obj({
    "code": {"type": "integer", "enum": [200, 501]}, "msg": STRING, "data": APIIN_STATUS}))

# The generate request: fields the serializers cannot describe themselves

PALETTE = {"oneOf": [
    {"type": "string", "enum": sorted(PALETTES), "description": "a named palette (GET /api/v1/genres lists them)"},
    {**HEX_COLOURS, "minItems": 1, "maxItems": 6, "description": "1 to 6 hex colours"},
], "description": "a palette name, or a list of 1 to 6 hex colours like `[\"#0b0b0f\", \"#d4a017\"]` (in a form: "
                  "a JSON list, or the colours comma-separated)", "example": "dark_gold"}
PHOTO_TEXT = {"oneOf": [
    {**URL, "pattern": "^https?://", "description": "an http(s) URL of a public image"},
    {"type": "string", "pattern": "^data:[^,]*;base64,", "description": "a data URI, data:image/jpeg;base64,..."},
]}
PHOTO_FILE = {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream",
              "description": "the file (JPEG, PNG, WebP, HEIC); a URL or data URI as text works too"}
PHOTOS = {
    "source_image": "the artist photo: JPEG, PNG, WebP (HEIC if supported); absent or null: a background-only cover",
    "style_reference": "an existing cover used as the visual target (palette, light, contrast) instead of the "
                       "genre default",
}


class PaletteFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "generation.serializers.PaletteField"

    def get_name(self):
        return "Palette"

    def map_serializer_field(self, auto_schema, direction):
        return PALETTE


class RenditionsFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "generation.serializers.RenditionsField"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "array", "items": {"type": "string", "enum": list(PLATFORMS)},
                "description": "platform presets, each delivered in the size, format and byte limit the platform "
                               "publishes (in a form: comma-separated or repeated)"}


class WebhookEventsFilterSchema(OpenApiSerializerFieldExtension):
    target_class = "generation.serializers.WebhookEventsFilterField"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "array", "items": {"type": "string", "enum": WebhookEvent.values}}


class GenerateRequestSchema(OpenApiSerializerExtension):
    """The generate body in every dialect: the serializer's fields plus the photos, which submit reads itself (a
    URL or a data URI in JSON; a file in multipart: `x-multipart`, applied by albumart.openapi.postprocess)."""

    target_class = "generation.serializers.GenerateSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        assert set(PHOTOS) == set(FILE_FIELDS)
        for name, text in PHOTOS.items():
            schema["properties"][name] = {**nullable(PHOTO_TEXT), "description": text,
                                          "x-multipart": {**PHOTO_FILE, "description": text}}
        return schema


GENERATE_EXAMPLES = [OpenApiExample("A background-only cover", request_only=True, value={
    "taskId": "release-123", "genre": "trap", "text_artist": "NOVA", "text_album": "STILL STANDING", "count": 1,
    "callBackUrl": "https://platform.example/hooks/albumart"})]

# Callbacks

WEBHOOK_HEADERS = [
    {"name": "webhook-id", "in": "header", "required": True, "schema": STRING,
     "description": "the delivery's id, the same on every retry: deduplicate with it"},
    {"name": "webhook-timestamp", "in": "header", "required": True, "schema": INTEGER,
     "description": "Unix seconds; refuse one too far from now (replays)"},
    {"name": "webhook-signature", "in": "header", "required": True,
     "schema": {"type": "string", "pattern": "^v1,"},
     "description": "`v1,<base64 HMAC-SHA256 of \"{webhook-id}.{webhook-timestamp}.{body}\">` with the key in your "
                    "`whsec_` secret (GET /api/v1/webhooks/secret); during a secret rotation two, space-separated"},
]
CALLBACK_DESCRIPTION = (
    "POSTed when the task ends (and on progress events when `webhook_events_filter` asks), signed the Standard "
    "Webhooks way. Any 2xx ends the deliveries; a non-2xx, a timeout (15 s) or a connection error is retried after "
    "5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 24 h; redirects are not followed; 410 Gone disables the URL (POST "
    "/api/v1/webhooks/enable re-enables it).")


def _callback(name: str, url: str, body: dict, summary: str) -> OpenApiCallback:
    return OpenApiCallback(name, url, {"post": {
        "summary": summary, "description": CALLBACK_DESCRIPTION, "security": [], "parameters": WEBHOOK_HEADERS,
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {"2XX": {"description": "Received; no more deliveries."},
                      "410": {"description": "Gone: this callback URL is disabled for the organisation."},
                      "default": {"description": "Anything else: the delivery is retried."}},
    }})


CALLBACKS = {
    Dialect.NATIVE: [_callback("taskResult", "{$request.body#/callBackUrl}", TASK_CALLBACK,
                               "The task's result (and progress events)")],
    Dialect.SUNOAPI: [_callback("coverResult", "{$request.body#/callBackUrl}", SUNO_CALLBACK,
                                "The cover result, in sunoapi.org's format")],
    Dialect.APIIN: [_callback("coverResult", "{$request.body#/callback_url}", APIIN_CALLBACK,
                              "The cover status when the task ends, in apiin.one's format (or at callBackUrl)")],
}

# Each operation's answers: its data, and the errors the view itself gives (the hook adds the middleware's).

NO_TASK = "No task with this id in your organisation (another organisation's task is a 404 too)."
GENERATE_ERRORS = {
    400: "A cover already exists for this taskId: `data.taskId` names it.",
    402: ERRORS[402][1],
    409: "This taskId is already being generated (a concurrent duplicate): `data.taskId` names the task.",
    413: "The photo or style reference is larger than MAX_UPLOAD_BYTES.",
    422: "A field is invalid or unknown, or a required one is missing (the message names it).",
}
PEER_GENERATE_ERRORS = {**GENERATE_ERRORS, 400: "A cover already exists for this music task, finished or still "
                                                "running: `data.taskId` names it (the peers have no 409 for it)."}
PEER_GENERATE_ERRORS.pop(409)
POLL_ERRORS = {404: NO_TASK, 422: "No task id given, or two different ones."}

RESPONSES = {
    "generate": api_responses(SUBMITTED, GENERATE_ERRORS, description="The task is queued; its credits are held."),
    "peer_generate": api_responses(SUBMITTED, PEER_GENERATE_ERRORS, description="The task is queued."),
    "task": api_responses(TASK_DATA, POLL_ERRORS),
    "tasks": api_responses(TASK_LIST, {422: "A parameter is invalid or unknown."}),
    "variations": api_responses(SUBMITTED, {
        402: ERRORS[402][1], 404: NO_TASK, 409: "The task was deleted, or its photo purged: submit a new task.",
        422: "A field is invalid, or the task has no delivered image with this index."}),
    "feedback": api_responses(FEEDBACK, {404: NO_TASK, 422: "A field is invalid, or the task has no delivered "
                                                            "image with this index."}),
    "cancel": api_responses(TASK_DATA, {404: NO_TASK, 409: "The task has ended already: `data.status` says how."},
                            description="Cancelled: the task data, status CANCELLED."),
    "delete": api_responses(TASK_DATA, {404: NO_TASK, 409: "The task is still running: cancel it first."},
                            description="The photo and covers are deleted; the record stays."),
    "genres": api_responses(CATALOGUE),
    "credits": api_responses(CREDITS),
    "webhook_secret": api_responses(WEBHOOK_SECRET),
    "webhooks_disabled": api_responses(DISABLED_WEBHOOKS),
    "webhooks_enable": api_responses(ENABLED_WEBHOOK, {404: "This URL is not a disabled callback URL of your "
                                                            "organisation.", 422: "`url` is missing or invalid."}),
    "suno_record": api_responses(SUNO_RECORD, POLL_ERRORS),
    "apiin_status": api_responses(APIIN_STATUS, POLL_ERRORS),
}
