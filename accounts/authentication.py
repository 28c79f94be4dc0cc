from rest_framework import authentication, exceptions, permissions

from accounts.models import ApiKey

_MISSING = object()


def bearer_key(http_request) -> "ApiKey | None":
    """The active key of the request's `Authorization: Bearer` header, or None. Checked once per request: the
    idempotency middleware needs the organisation before DRF authenticates, and DRF then reuses the answer."""
    header = http_request.headers.get("Authorization", "")
    cached = getattr(http_request, "_albumart_bearer", _MISSING)
    if cached is not _MISSING and cached[0] == header:
        return cached[1]
    scheme, _, token = header.partition(" ")
    key = ApiKey.authenticate(token.strip()) if scheme.lower() == "bearer" else None
    http_request._albumart_bearer = (header, key)
    return key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer aa_<id>.<secret>` (or a sandbox key, `aa_test_<id>.<secret>`); sets request.org.
    Every failure is the same 401."""

    def authenticate(self, request):
        if not authentication.get_authorization_header(request):
            return None
        key = bearer_key(request._request)
        if key is None:
            raise exceptions.AuthenticationFailed()
        key.touch()
        request.org = key.organization
        return (None, key)

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


def is_sandbox(request) -> bool:
    """Whether the request came with a sandbox key (`aa_test_...`): its tasks are test data and cost no credits."""
    return isinstance(request.auth, ApiKey) and request.auth.sandbox


class HasApiKey(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, ApiKey)
