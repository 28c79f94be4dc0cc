import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.text import slugify

KEY_PREFIX = "aa_"
# Sandbox keys: their tasks cost no credits and their covers are watermarked SAMPLE (generation/credits.py).
SANDBOX_KEY_PREFIX = "aa_test_"
LAST_USED_GRANULARITY = timedelta(minutes=1)
# After a rotation the old webhook secret still signs callbacks this long, so receivers can switch without a gap.
WEBHOOK_SECRET_OVERLAP = timedelta(hours=24)


def new_webhook_secret() -> str:
    # Standard Webhooks: "whsec_" + base64 of the raw HMAC key.
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class Organization(models.Model):
    """The tenant: every task, key and credit belongs to one organisation."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    webhook_secret = models.CharField(max_length=80, default=new_webhook_secret)
    previous_webhook_secret = models.CharField(max_length=80, blank=True)
    previous_webhook_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # Requests per API key per RATE_LIMIT_WINDOW_SECONDS (albumart/ratelimit.py); empty: the settings' default.
    rate_limit_generate = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Generate and variations requests per API key per window; empty: RATE_LIMIT_GENERATE.")
    rate_limit_read = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Every other API request per API key per window; empty: RATE_LIMIT_READ.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            base = slugify(self.name)[:60] or "org"
            self.slug = f"{base}-{secrets.token_hex(3)}"
        super().save(*args, **kwargs)

    @property
    def webhook_key(self) -> bytes:
        return base64.b64decode(self.webhook_secret.removeprefix("whsec_"))

    @property
    def previous_webhook_secret_active(self) -> bool:
        expires = self.previous_webhook_secret_expires_at
        return bool(self.previous_webhook_secret) and expires is not None and expires > timezone.now()

    @property
    def webhook_keys(self) -> list[bytes]:
        """The keys that sign callbacks now: the current one, and the previous one during its overlap."""
        keys = [self.webhook_key]
        if self.previous_webhook_secret_active:
            keys.append(base64.b64decode(self.previous_webhook_secret.removeprefix("whsec_")))
        return keys

    def rotate_webhook_secret(self) -> str:
        """A new secret; the old one keeps signing (as a second signature) for WEBHOOK_SECRET_OVERLAP."""
        self.previous_webhook_secret = self.webhook_secret
        self.previous_webhook_secret_expires_at = timezone.now() + WEBHOOK_SECRET_OVERLAP
        self.webhook_secret = new_webhook_secret()
        self.save(update_fields=["webhook_secret", "previous_webhook_secret", "previous_webhook_secret_expires_at"])
        return self.webhook_secret


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner"
        ADMIN = "admin"
        MEMBER = "member"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_org")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def can_manage(self) -> bool:
        """Owners and admins manage keys, billing and the team; members use the product."""
        return self.role in (self.Role.OWNER, self.Role.ADMIN)

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    """An email invited into an organisation with a role; the link carries a token of which only a hash is stored."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization} ({self.role})"

    @classmethod
    def create(cls, organization: Organization, email: str, role: str, invited_by=None) -> tuple["Invitation", str]:
        """A new invitation and the token for its link, which is not stored."""
        token = secrets.token_urlsafe(24)
        invitation = cls.objects.create(organization=organization, email=email.strip().lower(), role=role,
                                        invited_by=invited_by, token_digest=_token_digest(token))
        return invitation, token

    @classmethod
    def pending_for_token(cls, token: str) -> "Invitation | None":
        return cls.objects.select_related("organization").filter(
            token_digest=_token_digest(token), accepted_at__isnull=True).first()

    def accept(self, user) -> Membership:
        membership, _ = Membership.objects.get_or_create(organization=self.organization, user=user,
                                                         defaults={"role": self.role})
        Invitation.objects.filter(pk=self.pk).update(accepted_at=timezone.now())
        return membership


class Profile(models.Model):
    """Per-user state Django's User lacks: whether the email address was verified."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    email_verified_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"profile of {self.user}"


def _digest(secret: str, pepper_id: int) -> str:
    pepper = settings.API_KEY_PEPPERS[pepper_id]
    return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A bearer key `aa_<key_id>.<secret>` (a sandbox key: `aa_test_<key_id>.<secret>`): the id is public, only a
    peppered HMAC of the secret is stored."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, default="default")
    key_id = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    pepper_id = models.PositiveSmallIntegerField(editable=False)
    # A sandbox key's tasks are test data: no credits held or charged, covers watermarked SAMPLE.
    sandbox = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.shown_id}… ({self.name})"

    @property
    def prefix(self) -> str:
        return SANDBOX_KEY_PREFIX if self.sandbox else KEY_PREFIX

    @property
    def shown_id(self) -> str:
        """The public start of the key, as lists show it: `aa_<key_id>` or `aa_test_<key_id>`."""
        return f"{self.prefix}{self.key_id}"

    @classmethod
    def create(cls, organization: Organization, name: str = "default",
               sandbox: bool = False) -> tuple["ApiKey", str]:
        """Create a key (a sandbox key: `aa_test_...`); returns it with the full plaintext, which is never stored and
        shown only now."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(30)
        pepper_id = max(settings.API_KEY_PEPPERS)
        key = cls.objects.create(organization=organization, name=name, key_id=key_id, pepper_id=pepper_id,
                                 digest=_digest(secret, pepper_id), sandbox=sandbox)
        return key, f"{key.prefix}{key_id}.{secret}"

    @classmethod
    def authenticate(cls, plaintext: str) -> "ApiKey | None":
        """The active key matching `plaintext`, or None; one answer for malformed, unknown, revoked and wrong."""
        # A key id is hex, so "test_..." after "aa_" is never a live key's id: the prefix says which kind is meant.
        sandbox = plaintext.startswith(SANDBOX_KEY_PREFIX)
        prefix = SANDBOX_KEY_PREFIX if sandbox else KEY_PREFIX
        key_id, sep, secret = plaintext.removeprefix(prefix).partition(".")
        if not plaintext.startswith(prefix) or not sep or not key_id or not secret:
            return None
        key = cls.objects.active().select_related("organization").filter(key_id=key_id, sandbox=sandbox).first()
        if key is None or key.pepper_id not in settings.API_KEY_PEPPERS:
            return None
        if not hmac.compare_digest(key.digest, _digest(secret, key.pepper_id)):
            return None
        return key

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        ApiKey.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.refresh_from_db(fields=["revoked_at"])

    def touch(self) -> None:
        """Record use, writing at most once a minute per key so that busy keys don't hammer the database."""
        now = timezone.now()
        if self.last_used_at and now - self.last_used_at < LAST_USED_GRANULARITY:
            return
        stale = models.Q(last_used_at__isnull=True) | models.Q(last_used_at__lt=now - LAST_USED_GRANULARITY)
        ApiKey.objects.filter(stale, pk=self.pk).update(last_used_at=now)
        self.last_used_at = now
