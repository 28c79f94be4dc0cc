import logging
import uuid

from django.conf import settings

from albumart import logs
from albumart.api import json_envelope

log = logging.getLogger("albumart.request")

API_PREFIXES = ("/api/v1/", "/v1/")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


class RequestIdMiddleware:
    """Tags each request with an id (X-Request-Id) and turns unexpected API errors into an enveloped 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = uuid.uuid4().hex[:16]
        token = logs.request_id.set(request.request_id)  # on every log line written for this request
        try:
            response = self.get_response(request)
        finally:
            logs.request_id.reset(token)
        response["X-Request-Id"] = request.request_id
        return response

    def process_exception(self, request, exception):
        if not is_api_path(request.path):
            return None
        log.exception("unhandled error in %s %s (request %s)", request.method, request.path, request.request_id)
        return json_envelope(
            500, f"Internal error; quote request id {request.request_id} to support.", {"requestId": request.request_id}
        )


class MaintenanceModeMiddleware:
    """While MAINTENANCE_MODE is on, the API answers 455 with Retry-After so that clients back off and retry later."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.MAINTENANCE_MODE and is_api_path(request.path):
            seconds = settings.MAINTENANCE_RETRY_AFTER_SECONDS
            response = json_envelope(455, f"The service is in maintenance; retry in {seconds} s.",
                                     {"retryAfter": seconds})
            response["Retry-After"] = str(seconds)
            return response
        return self.get_response(request)


class UploadLimitMiddleware:
    """Answer 413 before reading a body that is larger than any accepted upload could be."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        declared = request.META.get("CONTENT_LENGTH") or "0"
        # Base64 data URIs are 4/3 of the file, plus room for the other fields.
        limit = settings.MAX_UPLOAD_BYTES * 4 // 3 + 256 * 1024
        if is_api_path(request.path) and declared.isdigit() and int(declared) > limit:
            return json_envelope(413, f"Request body is {int(declared)} bytes; uploads are limited to "
                                      f"{settings.MAX_UPLOAD_BYTES} bytes per image.")
        return self.get_response(request)
