"""The dashboard's tenant scope: the signed-in user's current organisation, and the roles that manage it."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from accounts.models import Membership

SESSION_ORG = "org_id"


def current_membership(request) -> Membership | None:
    """The membership of the organisation chosen in the session, else the user's first one; cached per request."""
    if not hasattr(request, "_memberships"):
        memberships = []
        if request.user.is_authenticated:
            memberships = list(Membership.objects.filter(user=request.user).select_related("organization")
                               .order_by("organization__name", "pk"))
        request._memberships = memberships
        chosen = request.session.get(SESSION_ORG) if hasattr(request, "session") else None
        request.membership = next((m for m in memberships if m.organization_id == chosen),
                                  memberships[0] if memberships else None)
        request.org = request.membership.organization if request.membership else None
        request.memberships = memberships
    return request.membership


def switch_org(request, org_id: int) -> bool:
    """Make `org_id` current if the user belongs to it."""
    if not Membership.objects.filter(user=request.user, organization_id=org_id).exists():
        return False
    request.session[SESSION_ORG] = org_id
    for attr in ("_memberships", "membership", "org", "memberships"):
        if hasattr(request, attr):
            delattr(request, attr)
    return True


def org_required(view):
    """Signed in, with a current organisation in `request.org` and `request.membership`."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if current_membership(request) is None:
            return redirect("org-new")
        return view(request, *args, **kwargs)

    return wrapper


def manager_required(view):
    """Like org_required, for owners and admins only: members get 403 (the object is theirs to see, not manage)."""

    @org_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership.can_manage:
            raise PermissionDenied("Only owners and admins can do this.")
        return view(request, *args, **kwargs)

    return wrapper
