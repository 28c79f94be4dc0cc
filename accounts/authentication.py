from rest_framework import authentication, exceptions, permissions

from accounts.models import ApiKey


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer aa_<id>.<secret>`; sets request.org. Every failure is the same 401."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        key = ApiKey.authenticate(token.strip()) if scheme.lower() == "bearer" else None
        if key is None:
            raise exceptions.AuthenticationFailed()
        key.touch()
        request.org = key.organization
        return (None, key)

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class HasApiKey(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, ApiKey)
