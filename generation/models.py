import hashlib
import secrets
import unicodedata

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower, StrIndex, Substr
from django.utils import timezone

from accounts.models import Organization


def new_task_id() -> str:
    return secrets.token_hex(16)


class IllegalTransition(Exception):
    pass


def release_key(artist: str | None, title: str | None) -> str:
    """The release a task is for, as its artist and title read to a person: accents, case and spacing left out
    ("Beyoncé  - Renaissance" and "BEYONCE - renaissance" are one release). "" without both, which matches
    nothing. The reuse check leaves out the covers of the same release (jobs.known_hashes)."""

    def plain(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text or "")
        return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().split())

    artist, title = plain(artist), plain(title)
    if not artist or not title:
        return ""
    return hashlib.sha256(f"{artist}\n{title}".encode()).hexdigest()[:32]


class TaskStatus(models.TextChoices):
    PENDING = "PENDING"
    GENERATING = "GENERATING"
    REVIEW = "REVIEW"
    SUCCESS = "SUCCESS"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class Dialect(models.TextChoices):
    """The API a task was submitted through: its callback is rendered in that API's format (generation/dialects.py)."""

    NATIVE = "native"
    SUNOAPI = "sunoapi"
    APIIN = "apiin"


WAITING = {TaskStatus.PENDING, TaskStatus.GENERATING, TaskStatus.REVIEW}
TERMINAL = {TaskStatus.SUCCESS, TaskStatus.PARTIAL, TaskStatus.FAILED, TaskStatus.CANCELLED}
# A failed or cancelled task frees its client task id: the platform may submit the release again.
RETIRED = {TaskStatus.FAILED, TaskStatus.CANCELLED}
TRANSITIONS = {
    TaskStatus.PENDING: {TaskStatus.GENERATING, TaskStatus.FAILED, TaskStatus.CANCELLED},
    # GENERATING -> GENERATING is a retried job starting over.
    TaskStatus.GENERATING: {TaskStatus.GENERATING, TaskStatus.REVIEW, *TERMINAL},
    TaskStatus.REVIEW: set(TERMINAL),
}


class CoverTask(models.Model):
    """One generate request: `count` covers for one release. The database row is the truth about its state."""

    id = models.CharField(primary_key=True, max_length=32, default=new_task_id, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tasks")
    client_task_id = models.CharField(max_length=128, null=True, blank=True)
    # release_key(artist, title) of the request, set on insert (save()): "same release" for the reuse check.
    release_key = models.CharField(max_length=32, blank=True, default="", editable=False)
    status = models.CharField(max_length=12, choices=TaskStatus.choices, default=TaskStatus.PENDING, db_index=True)
    genre = models.CharField(max_length=32)
    params = models.JSONField(default=dict)  # the validated request, minus the photo bytes
    count = models.PositiveSmallIntegerField(default=3)
    source_path = models.CharField(max_length=300, blank=True)  # the uploaded photo in storage
    callback_url = models.URLField(max_length=2000, blank=True)
    dialect = models.CharField(max_length=8, choices=Dialect.choices, default=Dialect.NATIVE)
    # Submitted with a sandbox key (aa_test_...): test data. No credits are held or charged (generation/credits.py),
    # its covers are watermarked SAMPLE, and its client taskIds are apart from the live ones.
    sandbox = models.BooleanField(default=False, editable=False)
    warnings = models.JSONField(default=list, blank=True)
    credits_held = models.PositiveSmallIntegerField(default=0)
    credits_charged = models.PositiveSmallIntegerField(default=0)
    error_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    # How many times each image's render was started (fan-out: one job per image); `attempts` is the largest.
    attempts = models.PositiveSmallIntegerField(default=0)
    image_starts = models.JSONField(default=list, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="variations")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # DELETE /api/v1/cover/{taskId} removed the photo and covers from storage (the row and its ledger stay).
    deleted_at = models.DateTimeField(null=True, blank=True)
    # `manage.py purge_sources` removed the photo after SOURCE_RETENTION_DAYS: variations can no longer use it.
    source_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # GET /api/v1/cover/tasks: one organisation's tasks, newest first, paged by (created_at, id).
        indexes = [models.Index(fields=["organization", "created_at", "id"], name="task_org_created"),
                   models.Index(fields=["organization", "release_key"], name="task_org_release")]
        constraints = [
            # A failed or cancelled task frees its client task id so that the platform can retry the release.
            # Sandbox tasks have their own: testing with a real taskId must not block its live submission.
            models.UniqueConstraint(
                fields=["organization", "sandbox", "client_task_id"],
                condition=models.Q(client_task_id__isnull=False) & ~models.Q(status__in=["FAILED", "CANCELLED"]),
                name="one_live_task_per_client_task_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.genre}, {self.status})"

    def save(self, *args, **kwargs):
        if self._state.adding and not self.release_key:
            self.release_key = release_key(self.params.get("text_artist"), self.params.get("text_album"))
        super().save(*args, **kwargs)

    def same_release(self, prefix: str = "") -> models.Q | None:
        """The organisation's tasks for the same release as this one (`prefix` names the relation to the task):
        the same client taskId, or the same artist and title (release_key). None when neither is known."""
        q = models.Q()
        if self.client_task_id:
            q |= models.Q(**{f"{prefix}client_task_id": self.client_task_id})
        if self.release_key:
            q |= models.Q(**{f"{prefix}release_key": self.release_key})
        return (q & models.Q(**{f"{prefix}organization_id": self.organization_id})) if q else None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    def _move(self, to: str, **fields) -> None:
        """A conditional update: the row moves only from the status this object read, so two processes that
        both try to end the task (the last two images, a render and a sweep) cannot both succeed."""
        was = self.status
        if to not in TRANSITIONS.get(was, set()):
            raise IllegalTransition(f"task {self.id}: {was} -> {to} is not allowed")
        fields["status"] = to
        if self.sandbox:  # whatever the caller counted, a sandbox task never holds or is charged a credit
            fields.update(credits_held=0, credits_charged=0)
        if not CoverTask.objects.filter(pk=self.pk, status=was).update(**fields):
            raise IllegalTransition(f"task {self.id}: no longer {was}, so not moved to {to}")
        for name, value in fields.items():
            setattr(self, name, value)

    def start(self) -> None:
        self._move(TaskStatus.GENERATING, started_at=timezone.now(), attempts=self.attempts + 1)

    def finish(self, passed: int) -> None:
        """End a rendered task by how many of its images passed QA."""
        status = TaskStatus.SUCCESS if passed == self.count else TaskStatus.PARTIAL if passed else TaskStatus.FAILED
        fields = {"completed_at": timezone.now(), "credits_held": 0, "credits_charged": passed}
        if status == TaskStatus.FAILED:
            fields.update(error_code=531, error_message="No cover passed quality checks; credits released.")
        self._move(status, **fields)

    def end_incomplete(self, passed: int, message: str) -> None:
        """End a task whose rendering stopped after `passed` covers had passed: those are charged, the rest
        released."""
        self._move(TaskStatus.PARTIAL, completed_at=timezone.now(), credits_held=0, credits_charged=passed,
                   error_code=531, error_message=message[:500])

    def await_review(self, held: int, charged: int) -> None:
        """Some images wait for staff: their credits stay held; the rest are already charged or released."""
        self._move(TaskStatus.REVIEW, credits_held=held, credits_charged=charged)

    def fail(self, message: str, code: int = 531) -> None:
        self._move(TaskStatus.FAILED, completed_at=timezone.now(), credits_held=0, error_code=code,
                   error_message=message[:500])

    def cancel(self, charged: int, message: str) -> None:
        """End a waiting task at the client's request: `charged` more covers (already delivered) are charged, every
        other held credit is released."""
        self._move(TaskStatus.CANCELLED, completed_at=timezone.now(), credits_held=0,
                   credits_charged=self.credits_charged + charged, error_message=message[:500])


class Verdict(models.TextChoices):
    PASS = "pass"
    REVIEW = "review"
    FAIL = "fail"


class Decision(models.TextChoices):
    PENDING = ""
    APPROVED = "approved"
    REJECTED = "rejected"


def reuse_key(n: int) -> models.Expression:
    """The reuse index's key n of a cover, in SQL that SQLite and PostgreSQL both compute: its organisation x 65536
    + band n of its hex pHash (digits 4n..4n+3 as an integer 0..65535: each digit's place in "0123456789abcdef"
    times its weight). NULL without an organisation. The Sentinel's reuse check looks covers up by these
    (engine/sentinel/phash.py: bands, band_keys; jobs.known_hashes)."""
    band = None
    for i in range(4):
        digit = StrIndex(models.Value("0123456789abcdef"), Lower(Substr("phash", 4 * n + i + 1, 1))) - 1
        term = digit * 16 ** (3 - i) if i < 3 else digit
        band = term if band is None else band + term
    return models.F("organization") * 65536 + band


class CoverImage(models.Model):
    task = models.ForeignKey(CoverTask, on_delete=models.CASCADE, related_name="images")
    index = models.PositiveSmallIntegerField()
    variant = models.CharField(max_length=16)
    seed = models.BigIntegerField()
    format = models.CharField(max_length=8)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveIntegerField()
    storage_path = models.CharField(max_length=300)
    filename = models.CharField(max_length=200)
    passed = models.BooleanField(default=False)
    qa = models.JSONField(default=dict)
    measurements = models.JSONField(default=dict)
    # The platform presets requested with the task (generation/renditions.py): per platform its stored file (path,
    # filename, size, format, bytes) or the reason it has none; several platforms may share one file.
    renditions = models.JSONField(default=dict, blank=True)
    # The Sentinel's verdict on the final attempt; `attempts` counts the renders it took (regenerations + 1).
    verdict = models.CharField(max_length=8, choices=Verdict.choices, default=Verdict.FAIL, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    phash = models.CharField(max_length=16, blank=True, db_index=True)
    # Staff review of a "review" verdict; an approved image counts as passed.
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=200, blank=True)
    # The artist's verdict through POST /api/v1/cover/{taskId}/feedback (None until given).
    accepted = models.BooleanField(null=True, blank=True)
    feedback_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The reuse index (jobs.known_hashes): the task's organisation, copied when the row is inserted (save() fills it;
    # a bulk_create must pass it; a row without it is still found, only more slowly), and four keys the database
    # computes from it and `phash` (so no write can leave them out of step), each indexed.
    organization = models.ForeignKey(Organization, null=True, blank=True, editable=False, on_delete=models.CASCADE,
                                     related_name="+")
    reuse_key0 = models.GeneratedField(expression=reuse_key(0), output_field=models.BigIntegerField(),
                                       db_persist=True, db_index=True)
    reuse_key1 = models.GeneratedField(expression=reuse_key(1), output_field=models.BigIntegerField(),
                                       db_persist=True, db_index=True)
    reuse_key2 = models.GeneratedField(expression=reuse_key(2), output_field=models.BigIntegerField(),
                                       db_persist=True, db_index=True)
    reuse_key3 = models.GeneratedField(expression=reuse_key(3), output_field=models.BigIntegerField(),
                                       db_persist=True, db_index=True)

    class Meta:
        ordering = ["task", "index"]
        constraints = [models.UniqueConstraint(fields=["task", "index"], name="one_image_per_index")]

    def __str__(self) -> str:
        return f"{self.task_id}#{self.index} {self.variant}"

    def save(self, *args, **kwargs):
        if self._state.adding and self.organization_id is None and self.task_id is not None:
            self.organization_id = self.task.organization_id  # the reuse index's scope
        super().save(*args, **kwargs)

    @property
    def awaiting_review(self) -> bool:
        return self.verdict == Verdict.REVIEW and self.decision == Decision.PENDING


class ReviewImage(CoverImage):
    """The staff review queue in the admin: the images whose verdict is "review"."""

    class Meta:
        proxy = True
        verbose_name = "image to review"
        verbose_name_plural = "QA review queue"


class WebhookEvent(models.TextChoices):
    """What a callback reports (`webhook_events_filter`, Replicate's idea): the task started rendering, one of its
    images was stored, or it ended. `completed` is always sent; the progress events only when asked for."""

    STARTED = "started"
    IMAGE = "image"
    COMPLETED = "completed"


class CallbackDelivery(models.Model):
    """One attempt to POST a task's callback to its callBackUrl: written before the attempt (the outbox), due at
    `next_attempt_at`; `started_at` claims it, `finished_at` records its answer. A failed attempt carries the next
    one's due time in `next_attempt_at` and the next row is written with it."""

    task = models.ForeignKey(CoverTask, on_delete=models.CASCADE, related_name="deliveries")
    # One webhook_id per event (the Standard Webhooks message id, the same on every retry); attempts count per event.
    # Only `completed` is retried: a progress event is attempted once, as Replicate does with intermediate states.
    webhook_id = models.CharField(max_length=64)
    event = models.CharField(max_length=10, choices=WebhookEvent.choices, default=WebhookEvent.COMPLETED)
    image_index = models.PositiveSmallIntegerField(null=True, blank=True)  # of an `image` event
    attempt = models.PositiveSmallIntegerField()
    url = models.URLField(max_length=2000)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)  # last handed to the callbacks queue
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["task", "id"]  # as written: a task's events and their attempts in the order they happened
        verbose_name_plural = "callback deliveries"
        constraints = [models.UniqueConstraint(fields=["task", "webhook_id", "attempt"],
                                               name="one_row_per_attempt_of_an_event")]

    def __str__(self) -> str:
        return f"{self.task_id} attempt {self.attempt}: {self.status_code or self.error}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def pending(self) -> bool:
        """Not attempted yet (due at next_attempt_at), or under way."""
        return self.finished_at is None


class DisabledEndpoint(models.Model):
    """A callback URL that answered 410 Gone: no more deliveries go there for this organisation until it is
    re-enabled (callbacks.enable_endpoint: the task page's button, POST /api/v1/webhooks/enable), deleting the row."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="disabled_endpoints")
    url = models.URLField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "url"], name="disable_endpoint_once")]

    def __str__(self) -> str:
        return self.url
