from django.views.defaults import page_not_found, server_error

from albumart.api import json_envelope
from albumart.middleware import is_api_path


def not_found(request, exception=None):
    if is_api_path(request.path):
        return json_envelope(404, "Not found: no such endpoint. See /api/docs/ for the API.")
    return page_not_found(request, exception)


def error(request):
    if is_api_path(request.path):
        request_id = getattr(request, "request_id", "unknown")
        return json_envelope(500, f"Internal error; quote request id {request_id} to support.")
    return server_error(request)
