"""Dashboard accounts: sign-up, verification, password reset, organisations, team roles, keys, webhook secret."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, Invitation, Membership, Organization
from generation.callbacks import signed_headers


def browser(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def link_in(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


@pytest.fixture
def admin_user(org):
    user = get_user_model().objects.create_user("admin", email="admin@example.com", password="pw-admin-123")
    Membership.objects.create(organization=org, user=user, role=Membership.Role.ADMIN)
    return user


# Sign-up, verification, login, password reset


@pytest.mark.django_db
def test_signup_creates_org_with_owner_and_sends_verification(mailoutbox):
    c = Client()
    r = c.post("/signup/", {"email": "Ada@Example.com", "password": "correct-horse-9", "organization": "Ada Records"})
    assert r.status_code == 302 and r.url == "/dashboard/"
    user = get_user_model().objects.get(email="ada@example.com")
    membership = Membership.objects.get(user=user)
    assert membership.role == "owner" and membership.organization.name == "Ada Records"
    assert user.profile.email_verified_at is None
    assert "confirm your email" in c.get("/dashboard/").content.decode().lower()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["ada@example.com"]
    r = c.get(link_in(mailoutbox[0]))
    assert r.status_code == 302
    user.profile.refresh_from_db()
    assert user.profile.email_verified_at is not None


@pytest.mark.django_db
def test_signup_refuses_existing_email_and_short_password(users):
    get_user_model().objects.create_user("taken@example.com", email="taken@example.com", password="x" * 10)
    r = Client().post("/signup/", {"email": "taken@example.com", "password": "abc", "organization": "X"})
    assert r.status_code == 200
    body = r.content.decode()
    assert "exists already" in body and "too short" in body
    assert not Organization.objects.filter(name="X").exists()


@pytest.mark.django_db
def test_tampered_verification_link_is_refused(users):
    c = browser(users["owner"])
    r = c.get("/verify-email/not-a-token/", follow=True)
    assert "invalid or has expired" in r.content.decode()


@pytest.mark.django_db
def test_login_logout_and_login_required(users):
    users["owner"].email = "owner@example.com"
    users["owner"].username = "owner@example.com"
    users["owner"].save()
    c = Client()
    assert c.get("/covers/").url.startswith("/login/?next=/covers/")
    assert c.post("/login/", {"username": "OWNER@example.com", "password": "pw-owner-123"}).status_code == 302
    assert c.get("/covers/").status_code == 200
    assert c.post("/logout/").status_code == 302
    assert c.get("/covers/").status_code == 302


@pytest.mark.django_db
def test_password_reset_by_console_email(users, mailoutbox):
    owner = users["owner"]
    owner.email = "owner@example.com"
    owner.save()
    c = Client()
    assert c.post("/password-reset/", {"email": "owner@example.com"}).status_code == 302
    assert len(mailoutbox) == 1
    r = c.get(link_in(mailoutbox[0]), follow=True)
    form_url = r.redirect_chain[-1][0]
    r = c.post(form_url, {"new_password1": "brand-new-pass-1", "new_password2": "brand-new-pass-1"})
    assert r.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("brand-new-pass-1")


# Organisations


@pytest.mark.django_db
def test_org_switch_only_to_own_orgs(users, org, other_org):
    owner = users["owner"]
    second = Organization.objects.create(name="Second Label")
    Membership.objects.create(organization=second, user=owner, role="owner")
    c = browser(owner)
    assert c.post("/orgs/switch/", {"org": second.pk}).status_code == 302
    assert "Second Label" in c.get("/dashboard/").content.decode().split("<h1>")[1][:40]
    assert c.post("/orgs/switch/", {"org": other_org.pk}).status_code == 404
    assert c.post("/orgs/new/", {"name": "Third"}).status_code == 302
    assert Membership.objects.get(user=owner, organization__name="Third").role == "owner"


@pytest.mark.django_db
def test_user_without_org_is_sent_to_create_one():
    user = get_user_model().objects.create_user("lonely", password="x" * 10)
    assert browser(user).get("/covers/").url == "/orgs/new/"


# Team


@pytest.mark.django_db
def test_owner_invites_and_invitee_signs_up_into_the_org(users, org, mailoutbox):
    c = browser(users["owner"])
    r = c.post("/team/invite/", {"email": "new@example.com", "role": "member"})
    assert r.status_code == 302
    invitation = Invitation.objects.get(email="new@example.com")
    assert invitation.organization == org and invitation.token_digest  # only a hash is stored
    link = link_in(mailoutbox[0])
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert Client().get(link).status_code == 200
    r = Client().post("/signup/", {"email": "new@example.com", "password": "pw-new-12345", "invite": token})
    assert r.status_code == 302
    user = get_user_model().objects.get(email="new@example.com")
    assert Membership.objects.get(user=user).organization == org
    assert not Organization.objects.filter(memberships__user=user).exclude(pk=org.pk).exists()
    assert user.profile.email_verified_at is not None
    assert Client().get(link).status_code == 404  # used


@pytest.mark.django_db
def test_existing_user_accepts_invitation(users, org):
    _, token = Invitation.create(org, "outsider@example.com", "admin")
    c = browser(users["outsider"])
    assert c.post(f"/invite/{token}/").status_code == 302
    assert Membership.objects.get(user=users["outsider"], organization=org).role == "admin"


@pytest.mark.django_db
def test_member_cannot_manage_team(users, org):
    c = browser(users["member"])
    assert c.get("/team/").status_code == 200
    owner_m = Membership.objects.get(user=users["owner"])
    assert c.post("/team/invite/", {"email": "x@example.com", "role": "member"}).status_code == 403
    assert c.post(f"/team/{owner_m.pk}/role/", {"role": "member"}).status_code == 403
    assert c.post(f"/team/{owner_m.pk}/remove/").status_code == 403


@pytest.mark.django_db
def test_admin_manages_members_but_not_owners(users, admin_user):
    c = browser(admin_user)
    member_m = Membership.objects.get(user=users["member"])
    owner_m = Membership.objects.get(user=users["owner"])
    assert c.post(f"/team/{member_m.pk}/role/", {"role": "admin"}).status_code == 302
    member_m.refresh_from_db()
    assert member_m.role == "admin"
    assert c.post(f"/team/{member_m.pk}/role/", {"role": "owner"}).status_code == 403
    assert c.post(f"/team/{owner_m.pk}/remove/").status_code == 403
    assert c.post("/team/invite/", {"email": "boss@example.com", "role": "owner"}).status_code == 302
    assert not Invitation.objects.filter(email="boss@example.com").exists()  # owner is not a choice for admins


@pytest.mark.django_db
def test_last_owner_is_kept(users):
    c = browser(users["owner"])
    owner_m = Membership.objects.get(user=users["owner"])
    c.post(f"/team/{owner_m.pk}/role/", {"role": "member"})
    owner_m.refresh_from_db()
    assert owner_m.role == "owner"
    member_m = Membership.objects.get(user=users["member"])
    assert c.post(f"/team/{member_m.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=member_m.pk).exists()


@pytest.mark.django_db
def test_outsider_gets_404_for_another_orgs_members(users, org):
    c = browser(users["outsider"])
    member_m = Membership.objects.get(user=users["member"], organization=org)
    assert c.post(f"/team/{member_m.pk}/role/", {"role": "admin"}).status_code == 404
    assert c.post(f"/team/{member_m.pk}/remove/").status_code == 404
    invitation, _ = Invitation.create(org, "z@example.com", "member")
    assert c.post(f"/team/invitations/{invitation.pk}/revoke/").status_code == 404
    assert "member" not in c.get("/team/").content.decode().split("Members of")[1].split("</table>")[0]


# API keys and the webhook secret


@pytest.mark.django_db
def test_key_shown_once_works_and_revoked_key_is_refused(users, org):
    c = browser(users["owner"])
    r = c.post("/keys/create/", {"name": "production"}, follow=True)
    assert r.status_code == 200
    plaintext = re.search(r'id="new-key">(aa_[^<]+)<', r.content.decode()).group(1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert api.get("/api/v1/credits").status_code == 200
    listing = c.get("/keys/").content.decode()
    assert plaintext not in listing and plaintext.split(".")[0] in listing
    key = ApiKey.objects.get(name="production")
    assert c.post(f"/keys/{key.pk}/revoke/").status_code == 302
    assert api.get("/api/v1/credits").status_code == 401


@pytest.mark.django_db
def test_member_cannot_see_or_manage_keys_and_outsider_gets_404(users, org):
    key, _ = ApiKey.create(org, "prod")
    member = browser(users["member"])
    assert member.get("/keys/").status_code == 403
    assert member.post("/keys/create/", {"name": "x"}).status_code == 403
    assert member.post(f"/keys/{key.pk}/revoke/").status_code == 403
    assert member.post("/keys/webhook-secret/rotate/").status_code == 403
    assert "/keys/" not in member.get("/dashboard/").content.decode()
    assert browser(users["outsider"]).post(f"/keys/{key.pk}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.is_active


@pytest.mark.django_db
def test_webhook_rotation_keeps_old_secret_for_24h(users, org):
    old = org.webhook_secret
    assert browser(users["owner"]).post("/keys/webhook-secret/rotate/").status_code == 302
    org.refresh_from_db()
    assert org.webhook_secret != old and org.previous_webhook_secret == old
    assert len(org.webhook_keys) == 2
    headers = signed_headers(org.webhook_keys, "msg_1", b"{}", timestamp=1)
    assert len(headers["webhook-signature"].split(" ")) == 2
    org.previous_webhook_secret_expires_at = timezone.now() - timedelta(seconds=1)
    assert org.webhook_keys == [org.webhook_key]
