"""The response envelope of the public API: {"code", "msg", "data"}, with the HTTP status equal to code."""

import logging

from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

log = logging.getLogger(__name__)

AUTH_MESSAGE = "Invalid or missing API key. Send 'Authorization: Bearer <api key>' with an active key."


def envelope(code: int = 200, msg: str = "success", data=None, headers: dict | None = None) -> Response:
    return Response({"code": code, "msg": msg, "data": data}, status=code, headers=headers)


def json_envelope(code: int, msg: str, data=None) -> JsonResponse:
    """The same envelope for plain Django views and middleware, outside DRF."""
    return JsonResponse({"code": code, "msg": msg, "data": data}, status=code)


class ApiError(exceptions.APIException):
    """An error with its own code and message, e.g. 402 or 409, raised from anywhere in a view."""

    def __init__(self, code: int, msg: str, data=None):
        super().__init__(msg)
        self.status_code = code
        self.msg = msg
        self.data = data


def validation_error(errors: dict) -> Response:
    """422 naming every invalid field; the message leads with the first."""
    flat = {field: [str(m) for m in (msgs if isinstance(msgs, list | tuple) else [msgs])]
            for field, msgs in errors.items()}
    first_field, first_msgs = next(iter(flat.items()))
    return envelope(422, f"{first_field}: {first_msgs[0]}", {"errors": flat})


def exception_handler(exc, context):
    if isinstance(exc, ApiError):
        return envelope(exc.status_code, exc.msg, exc.data)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return envelope(401, AUTH_MESSAGE, headers={"WWW-Authenticate": 'Bearer realm="api"'})
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return validation_error(detail)
    if isinstance(exc, exceptions.ParseError):
        return envelope(422, f"body: {exc.detail}", {"errors": {"body": [str(exc.detail)]}})
    if isinstance(exc, exceptions.Throttled):
        return envelope(429, "Rate limited; retry later.", headers={"Retry-After": str(int(exc.wait or 1))})
    if isinstance(exc, exceptions.APIException):
        return envelope(exc.status_code, str(exc.detail))
    if isinstance(exc, Exception) and exc.__class__.__name__ == "Http404":
        return envelope(404, "Not found.")
    return None  # unexpected: RequestIdMiddleware answers 500 with the request id
