"""Sign-up, email verification, organisations, the team and API keys: the account half of the dashboard."""

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.decorators import current_membership, manager_required, org_required, switch_org
from accounts.forms import InviteForm, KeyForm, OrganizationForm, SignupForm
from accounts.models import ApiKey, Invitation, Membership, Organization, Profile

User = get_user_model()
VERIFY_SALT = "albumart.verify-email"
VERIFY_MAX_AGE = 3 * 86400


def _send_verification(request, user) -> None:
    token = signing.dumps({"u": user.pk, "e": user.email}, salt=VERIFY_SALT)
    link = request.build_absolute_uri(reverse("verify-email", args=[token]))
    send_mail("Confirm your AlbumArt email", f"Confirm your email address by opening this link:\n\n{link}\n\n"
              "It is valid for 3 days.", None, [user.email])


def _create_org(user, name: str) -> Organization:
    org = Organization.objects.create(name=name)
    Membership.objects.create(organization=org, user=user, role=Membership.Role.OWNER)
    return org


def signup(request):
    """The first sign-up creates an organisation with its owner; a sign-up from an invitation joins that one."""
    token = request.GET.get("invite") or request.POST.get("invite") or ""
    invitation = Invitation.pending_for_token(token) if token else None
    if token and invitation is None:
        messages.error(request, "This invitation is no longer valid; ask for a new one.")
    form = SignupForm(request.POST or None, invitation=invitation,
                      initial={"email": invitation.email} if invitation else None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        with transaction.atomic():
            user = User.objects.create_user(username=email, email=email, password=form.cleaned_data["password"])
            # Following an invitation sent to this address proves it.
            verified = invitation is not None and invitation.email == email
            Profile.objects.create(user=user, email_verified_at=timezone.now() if verified else None)
            if invitation:
                org = invitation.accept(user).organization
            else:
                org = _create_org(user, form.cleaned_data["organization"])
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        switch_org(request, org.pk)
        if not verified:
            _send_verification(request, user)
            messages.success(request, f"Welcome to AlbumArt. We sent a confirmation link to {email}.")
        else:
            messages.success(request, f"Welcome to {org.name}.")
        return redirect("dashboard")
    return render(request, "accounts/signup.html", {"form": form, "invitation": invitation, "invite": token})


def verify_email(request, token: str):
    try:
        payload = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
    except signing.BadSignature:
        messages.error(request, "This confirmation link is invalid or has expired; send a new one.")
        return redirect("dashboard" if request.user.is_authenticated else "login")
    user = User.objects.filter(pk=payload["u"], email=payload["e"]).first()
    if user is None:
        raise Http404
    Profile.objects.update_or_create(user=user, defaults={"email_verified_at": timezone.now()})
    messages.success(request, "Your email address is confirmed.")
    return redirect("dashboard" if request.user.is_authenticated else "login")


@login_required
@require_POST
def resend_verification(request):
    _send_verification(request, request.user)
    messages.success(request, f"We sent a new confirmation link to {request.user.email}.")
    return redirect(request.POST.get("next") or "dashboard")


@login_required
@require_POST
def org_switch(request):
    try:
        org_id = int(request.POST.get("org", ""))
    except ValueError:
        raise Http404 from None
    if not switch_org(request, org_id):
        raise Http404
    return redirect("dashboard")


@login_required
def org_new(request):
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        org = _create_org(request.user, form.cleaned_data["name"])
        switch_org(request, org.pk)
        messages.success(request, f"Created {org.name}; you are its owner.")
        return redirect("dashboard")
    return render(request, "accounts/org_new.html", {"form": form})


# Team


@org_required
def team(request):
    memberships = request.org.memberships.select_related("user").order_by("created_at")
    invitations = request.org.invitations.filter(accepted_at__isnull=True)
    form = InviteForm(inviter=request.membership)
    return render(request, "accounts/team.html", {"memberships": memberships, "invitations": invitations,
                                                  "form": form, "roles": Membership.Role.choices})


@manager_required
@require_POST
def team_invite(request):
    form = InviteForm(request.POST, inviter=request.membership)
    if not form.is_valid():
        messages.error(request, "Enter a valid email and role.")
        return redirect("team")
    email, role = form.cleaned_data["email"].lower(), form.cleaned_data["role"]
    if request.org.memberships.filter(user__email__iexact=email).exists():
        messages.info(request, f"{email} is already in {request.org.name}.")
        return redirect("team")
    invitation, token = Invitation.create(request.org, email, role, invited_by=request.user)
    link = request.build_absolute_uri(reverse("invite-accept", args=[token]))
    send_mail(f"Join {request.org.name} on AlbumArt",
              f"{request.user.email or request.user} invited you to {request.org.name} on AlbumArt as {role}.\n\n"
              f"Accept the invitation:\n{link}\n", None, [email])
    messages.success(request, f"Invitation sent to {email} as {role}.")
    return redirect("team")


def _check_can_change(request, target: Membership) -> None:
    """Admins manage admins and members; only owners touch owners; an organisation always keeps an owner."""
    if target.is_owner and not request.membership.is_owner:
        raise PermissionDenied("Only an owner can change another owner.")


def _last_owner(target: Membership) -> bool:
    return target.is_owner and not target.organization.memberships.filter(
        role=Membership.Role.OWNER).exclude(pk=target.pk).exists()


@manager_required
@require_POST
def member_role(request, pk: int):
    target = get_object_or_404(request.org.memberships.select_related("user", "organization"), pk=pk)
    role = request.POST.get("role")
    if role not in Membership.Role.values:
        messages.error(request, "Choose owner, admin or member.")
        return redirect("team")
    _check_can_change(request, target)
    if role == Membership.Role.OWNER and not request.membership.is_owner:
        raise PermissionDenied("Only an owner can make an owner.")
    if role != Membership.Role.OWNER and _last_owner(target):
        messages.error(request, "An organisation needs an owner: make someone else owner first.")
        return redirect("team")
    target.role = role
    target.save(update_fields=["role"])
    messages.success(request, f"{target.user.email or target.user} is now {role}.")
    return redirect("team")


@manager_required
@require_POST
def member_remove(request, pk: int):
    target = get_object_or_404(request.org.memberships.select_related("user", "organization"), pk=pk)
    _check_can_change(request, target)
    if _last_owner(target):
        messages.error(request, "An organisation needs an owner: make someone else owner first.")
        return redirect("team")
    target.delete()
    messages.success(request, f"Removed {target.user.email or target.user} from {request.org.name}.")
    return redirect("team")


@manager_required
@require_POST
def invitation_revoke(request, pk: int):
    invitation = get_object_or_404(request.org.invitations.filter(accepted_at__isnull=True), pk=pk)
    invitation.delete()
    messages.success(request, f"Invitation for {invitation.email} withdrawn.")
    return redirect("team")


def invite_accept(request, token: str):
    invitation = Invitation.pending_for_token(token)
    if invitation is None:
        return render(request, "accounts/invite.html", {"invitation": None}, status=404)
    if request.method == "POST" and request.user.is_authenticated:
        invitation.accept(request.user)
        switch_org(request, invitation.organization_id)
        messages.success(request, f"You joined {invitation.organization.name}.")
        return redirect("dashboard")
    return render(request, "accounts/invite.html", {"invitation": invitation, "token": token})


# API keys and the webhook secret


NEW_KEY_SESSION = "new_api_key"


@manager_required
def keys(request, form=None):
    # The plaintext of a key just created rides in the session across one redirect and is dropped when shown.
    new_key = request.session.pop(NEW_KEY_SESSION, None)
    if new_key and new_key["org"] != request.org.pk:
        new_key = None
    keys = request.org.api_keys.order_by("revoked_at", "-created_at")
    return render(request, "accounts/keys.html", {"keys": keys, "form": form or KeyForm(), "new_key": new_key,
                                                  "org": request.org})


@manager_required
@require_POST
def key_create(request):
    form = KeyForm(request.POST)
    if not form.is_valid():
        return keys(request, form=form)
    key, plaintext = ApiKey.create(request.org, form.cleaned_data["name"],
                                   sandbox=form.cleaned_data["kind"] == KeyForm.SANDBOX)
    request.session[NEW_KEY_SESSION] = {"org": request.org.pk, "name": key.name, "plaintext": plaintext,
                                        "sandbox": key.sandbox}
    return redirect("keys")


@manager_required
@require_POST
def key_revoke(request, pk: int):
    key = get_object_or_404(request.org.api_keys, pk=pk)
    key.revoke()
    messages.success(request, f"Revoked key “{key.name}” ({key.shown_id}). The API refuses it from now on.")
    return redirect("keys")


@manager_required
@require_POST
def webhook_rotate(request):
    request.org.rotate_webhook_secret()
    messages.success(request, "New webhook signing secret. Callbacks carry both signatures for 24 hours.")
    return redirect("keys")


def home(request):
    if request.user.is_authenticated and current_membership(request):
        return redirect("dashboard")
    return redirect("login")
