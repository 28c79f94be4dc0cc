"""The OpenAPI 3.1 schema's shared parts (drf-spectacular): the bearer scheme, the response envelope and its error
answers, the rate-limit and request-id headers, `Idempotency-Key`, and the hook that gives every API operation the
answers its middleware can give (albumart/middleware.py, ratelimit.py, idempotency.py, inputguard.py).

A view declares its success data and its own errors, e.g. `responses=api_responses(TASK_DATA, {404: "..."})`; the
hook adds what every API path can answer. Data shapes are components registered with `component(name, schema)`
(generation/schema.py holds the API's). tests/schemacheck.py validates every API response of the test suite
against the result, so a response that drifts from this schema fails the test that got it.
"""

from collections.abc import Iterable, Mapping

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse

from albumart.idempotency import NOT_STORED
from albumart.middleware import is_api_path

_COMPONENTS: dict[str, dict] = {}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def component(name: str, schema: dict) -> dict:
    """Register `schema` as components/schemas/`name` (added to the schema by `postprocess`); its reference."""
    _COMPONENTS[name] = schema
    return ref(name)


def nullable(schema: dict) -> dict:
    """`schema` or null, the OpenAPI 3.1 way (no `nullable`)."""
    if isinstance(schema.get("type"), str) and "$ref" not in schema:
        schema = {**schema, "type": [schema["type"], "null"]}
        return {**schema, "enum": [*schema["enum"], None]} if "enum" in schema else schema
    if "oneOf" in schema and "$ref" not in schema:
        return {**schema, "oneOf": [*schema["oneOf"], {"type": "null"}]}
    return {"oneOf": [schema, {"type": "null"}]}


def obj(properties: dict, required: Iterable[str] | None = None, description: str = "", **extra) -> dict:
    """An object schema; every property is required unless `required` says otherwise (our answers always carry
    every key, null when it has no value)."""
    schema = {"type": "object", "properties": properties,
              "required": list(properties if required is None else required), **extra}
    if description:
        schema["description"] = description
    return schema


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """accounts.authentication.ApiKeyAuthentication as the schema's bearer scheme."""

    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "aa_<id>.<secret>",
                "description": "An API key of your organisation (dashboard, API keys): `Authorization: Bearer "
                               "aa_<id>.<secret>`, or a sandbox key `aa_test_<id>.<secret>` (no credits, covers "
                               "watermarked SAMPLE). A missing, unknown, revoked or malformed key is a 401 with "
                               "one and the same message."}


# The envelope

ENVELOPE = component("Envelope", obj({
    "code": {"type": "integer", "description": "the HTTP status, repeated"},
    "msg": {"type": "string", "description": "`success`, or what went wrong in plain words"},
    "data": {"description": "the answer's data: an object, or null"},
}, description="Every JSON answer of the API: `{code, msg, data}` with the HTTP status equal to `code`."))

FIELD_ERRORS = component("FieldErrors", {
    "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "description": "field name -> what is wrong with it (a header, `body` or `path` when the problem is there)",
    "example": {"genre": ["unknown genre 'polka'; use one of ambient, classical, edm, ..."]},
})


def envelope_of(data: dict, code: int = 200, name: str | None = None, description: str = "") -> dict:
    """The envelope with `data` of this schema; registered as component `name` when given."""
    schema = obj({"code": {"type": "integer", "const": code}, "msg": {"type": "string"}, "data": data},
                 description=description)
    return component(name, schema) if name else schema


def _error(name: str, code: int, data: dict, description: str) -> dict:
    return envelope_of(data, code, name, description)


# Each error code's envelope, and what it means wherever it comes from.
ERRORS: dict[int, tuple[dict, str]] = {
    400: (_error("BadRequestError", 400, nullable(obj(
        {"taskId": {"type": "string", "description": "the existing cover task of this taskId"},
         "errors": FIELD_ERRORS}, required=[])), "400: a cover already exists for this taskId, or the body is bad."),
          "Bad request."),
    401: (_error("UnauthorizedError", 401, {"type": "null"}, "401: no valid API key."),
          "The API key is missing, unknown, revoked or malformed (always the same message); "
          "`WWW-Authenticate: Bearer`."),
    402: (_error("InsufficientCreditsError", 402, obj(
        {"needed": {"type": "integer"}, "available": {"type": "integer"},
         "debt": {"type": "integer", "description": "credits owed (a refunded top-up): submitting waits for it"}},
        required=["needed"]), "402: not enough credits."),
          "Not enough credits: the message says how many are needed and available."),
    404: (_error("NotFoundError", 404, {"type": "null"}, "404: not found."),
          "Not found, or another organisation's."),
    409: (_error("ConflictError", 409, nullable(obj(
        {"taskId": {"type": "string"}, "status": {"type": "string", "description": "the task's status"}},
        required=[])), "409: a conflict with the current state."),
          "A conflict with the current state."),
    413: (_error("PayloadTooLargeError", 413, {"type": "null"}, "413: the upload is too large."),
          "The request body or an image is larger than the upload limit (MAX_UPLOAD_BYTES)."),
    422: (_error("ValidationError", 422, obj({"errors": FIELD_ERRORS}),
                 "422: invalid input; the message names the first invalid field and why."),
          "Invalid input: the message names the field and why; `data.errors` maps every invalid field to its "
          "messages."),
    429: (_error("RateLimitedError", 429, nullable(obj(
        {"scope": {"type": "string", "enum": ["generate", "read"]}, "limit": {"type": "integer"},
         "windowSeconds": {"type": "integer"}, "retryAfter": {"type": "integer"}})), "429: rate limited."),
          "Rate limited: too many requests for this API key in the window; retry after `Retry-After` seconds."),
    415: (_error("UnsupportedMediaTypeError", 415, {"type": "null"}, "415: the body's media type is not accepted."),
          "The body's Content-Type is not application/json, multipart/form-data or "
          "application/x-www-form-urlencoded."),
    455: (_error("MaintenanceError", 455, obj({"retryAfter": {"type": "integer"}}), "455: in maintenance."),
          "The service is in maintenance (an operator switch); retry after `Retry-After` seconds."),
    500: (_error("InternalError", 500, nullable(obj({"requestId": {"type": "string"}})),
                 "500: an unexpected error; the message quotes the request id."),
          "An unexpected error: the message quotes the request id for support, and nothing internal."),
}


def api_responses(data: dict, errors: Mapping[int, str] | Iterable[int] = (), *,
                  description: str = "Success.") -> dict:
    """An operation's `responses`: 200 with the envelope of `data` (a component: the envelope is `<its
    name>Envelope`), and the errors the view itself answers (code -> what it means here). The hook adds those every
    API path can answer (401, 422, 429, 455, 500...)."""
    texts = errors if isinstance(errors, Mapping) else {code: ERRORS[code][1] for code in errors}
    name = data["$ref"].rpartition("/")[2] + "Envelope"
    responses = {200: OpenApiResponse(envelope_of(data, 200, name), description)}
    for code, text in texts.items():
        responses[code] = OpenApiResponse(ERRORS[code][0], text)
    return responses


# Headers and parameters every API path has

HEADERS = {
    "RateLimit-Limit": ("integer", "Requests allowed per window for this key and kind of request (generate-type or "
                                   "other)."),
    "RateLimit-Remaining": ("integer", "Requests left in the current window."),
    "RateLimit-Reset": ("integer", "Seconds until the window resets."),
    "RateLimit-Policy": ("string", "The limit and window, e.g. `20;w=10` (draft-ietf-httpapi-ratelimit-headers)."),
    "Retry-After": ("integer", "Seconds to wait before retrying."),
    "X-Request-Id": ("string", "This request's id, to quote to support."),
    "Idempotent-Replayed": ("string", "`true` when the answer is the stored one of an earlier request with the "
                                      "same Idempotency-Key."),
}
RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy")
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "minLength": 1,
                                                                           "maxLength": 255},
    "description": "Makes a retry safe: the first answer is stored for 24 h and replayed for the same key and "
                   "parameters (with `Idempotent-Replayed: true`); the same key with other parameters, or while the "
                   "first request is still running, is a 409. Errors 409, 422, 429 and 5xx are not stored.",
}

# What the middleware can answer on every API path, by method ("*": any), added to each operation's own answers.
MIDDLEWARE_ERRORS: dict[str, dict[int, str]] = {
    "*": {401: ERRORS[401][1],
          422: "A NUL or another control character in the path or a query parameter.",
          429: ERRORS[429][1], 455: ERRORS[455][1], 500: ERRORS[500][1]},
    "post": {400: "The JSON body nests more than 32 levels deep.",
             409: "The Idempotency-Key was used with different parameters, or its first request is still in "
                  "progress.",
             413: "The request body is larger than any accepted request (the upload limit, MAX_UPLOAD_BYTES).",
             415: ERRORS[415][1],
             422: "The body is not valid JSON, or holds a control character; or the Idempotency-Key header is "
                  "empty or longer than 255 characters."},
}

TAGS = (  # path prefix -> tag, first match
    ("/api/v1/suno/", "sunoapi.org dialect"), ("/api/v1/audio/", "apiin.one dialect"),
    ("/v1/album-art/", "Runflow path"), ("/api/v1/cover", "Covers"), ("/api/v1/genres", "Covers"),
    ("/api/v1/webhooks", "Callbacks"), ("/api/v1/credits", "Credits"),
)


def _header(name: str) -> dict:
    return {"$ref": f"#/components/headers/{name}"}


def _add_error(responses: dict, code: int, text: str) -> None:
    key = str(code)
    if key not in responses:
        responses[key] = {"description": text, "content": {"application/json": {"schema": ERRORS[code][0]}}}
    elif text not in responses[key]["description"]:
        responses[key]["description"] += f" Or: {text[0].lower()}{text[1:]}"


def _complete_operation(path: str, method: str, operation: dict) -> None:
    responses = operation.setdefault("responses", {})
    for scope in ("*", method):
        for code, text in MIDDLEWARE_ERRORS.get(scope, {}).items():
            if code != 415 or "requestBody" in operation:  # a view that reads no body parses none
                _add_error(responses, code, text)
    for key, response in responses.items():
        headers = response.setdefault("headers", {})
        headers["X-Request-Id"] = _header("X-Request-Id")
        if key != "401":  # counted only for a valid key
            headers.update({name: _header(name) for name in RATE_LIMIT_HEADERS})
        if key in ("429", "455"):
            headers["Retry-After"] = _header("Retry-After")
        if method == "post" and key < "500" and int(key) not in NOT_STORED:  # what a replay can answer
            headers["Idempotent-Replayed"] = _header("Idempotent-Replayed")
    operation["responses"] = dict(sorted(responses.items()))
    if method == "post":
        operation.setdefault("parameters", []).append({"$ref": "#/components/parameters/IdempotencyKey"})
    for prefix, tag in TAGS:
        if path.startswith(prefix):
            operation["tags"] = [tag]
            break


def _split_multipart(paths: dict, schemas: dict) -> None:
    """A request property may carry `x-multipart`, its schema in a multipart body (a photo: a URL or data URI in
    JSON, a file in multipart): such a body gets a `<Name>Multipart` component of its own."""
    marked = {name for name, schema in schemas.items()
              if any("x-multipart" in prop for prop in schema.get("properties", {}).values())}
    for item in paths.values():
        for operation in item.values():
            content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
            multipart = content.get("multipart/form-data", {})
            name = multipart.get("schema", {}).get("$ref", "").rpartition("/")[2]
            if name in marked:
                schemas[f"{name}Multipart"] = {**schemas[name], "properties": {
                    key: prop.get("x-multipart", prop) for key, prop in schemas[name]["properties"].items()}}
                multipart["schema"] = ref(f"{name}Multipart")
    for name in marked:
        for prop in schemas[name]["properties"].values():
            prop.pop("x-multipart", None)


def postprocess(result: dict, generator, request, public) -> dict:
    """drf-spectacular's last hook (SPECTACULAR_SETTINGS POSTPROCESSING_HOOKS): the registered components, the
    shared headers and parameter, and on every API operation the middleware's answers and headers."""
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    clash = set(schemas) & set(_COMPONENTS)
    assert not clash, f"components named twice (a serializer and albumart.openapi.component): {sorted(clash)}"
    schemas.update(_COMPONENTS)
    _split_multipart(result.get("paths", {}), schemas)
    components["schemas"] = dict(sorted(schemas.items()))
    components["headers"] = {
        name: {"description": text, "schema": {"type": kind}, **({"required": True} if name == "Retry-After" else {})}
        for name, (kind, text) in HEADERS.items()}
    components.setdefault("parameters", {})["IdempotencyKey"] = IDEMPOTENCY_KEY
    for path, item in result.get("paths", {}).items():
        if not is_api_path(path):
            continue
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                _complete_operation(path, method, operation)
    result["tags"] = [{"name": tag} for tag in dict.fromkeys(tag for _, tag in TAGS)]
    return result
