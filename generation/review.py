"""Staff review of "review" verdicts: approve charges and delivers, reject releases; exactly once per image.

The task's callback goes out when its last pending image is decided. Reviews left waiting longer than
REVIEW_TIMEOUT_SECONDS are decided by REVIEW_TIMEOUT_RULE (the cron sweep below).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from generation import credits
from generation.callbacks import enqueue_delivery
from generation.models import CoverImage, CoverTask, Decision, TaskStatus, Verdict


def decide(image_id: int, approve: bool, user=None, note: str = "") -> bool:
    """Record a staff decision on one image; False when it was already decided (or is not under review)."""
    with transaction.atomic():
        task_id = CoverImage.objects.values_list("task_id", flat=True).get(pk=image_id)
        # Lock the task first, always in this order, so that two staff deciding one task's images serialise.
        task = CoverTask.objects.select_for_update().select_related("organization").get(pk=task_id)
        image = CoverImage.objects.select_for_update().get(pk=image_id)
        if task.status != TaskStatus.REVIEW or not image.awaiting_review:
            return False
        credits.settle(task, charge=int(approve), release=int(not approve))  # nothing for a sandbox task
        image.decision = Decision.APPROVED if approve else Decision.REJECTED
        image.passed = approve
        image.reviewed_by = user
        image.reviewed_at = timezone.now()
        image.review_note = note[:200]
        image.save(update_fields=["decision", "passed", "reviewed_by", "reviewed_at", "review_note"])
        if not task.sandbox:
            task.credits_held -= 1
            task.credits_charged += int(approve)
            task.save(update_fields=["credits_held", "credits_charged"])
        if not task.images.filter(verdict=Verdict.REVIEW, decision=Decision.PENDING).exists():
            task.finish(task.images.filter(passed=True).count())
            enqueue_delivery(task)
    return True


def decide_many(image_ids, approve: bool, user=None, note: str = "") -> int:
    """Decide several images, each in its own transaction; returns how many were decided now."""
    return sum(decide(pk, approve, user, note) for pk in image_ids)


def pending_reviews():
    return CoverImage.objects.filter(verdict=Verdict.REVIEW, decision=Decision.PENDING,
                                     task__status=TaskStatus.REVIEW)


def sweep_review_timeouts(now=None) -> int:
    """Decide the reviews older than REVIEW_TIMEOUT_SECONDS by REVIEW_TIMEOUT_RULE (default: reject, release)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.REVIEW_TIMEOUT_SECONDS)
    approve = settings.REVIEW_TIMEOUT_RULE == "approve"
    note = f"review timed out after {settings.REVIEW_TIMEOUT_SECONDS} s: {settings.REVIEW_TIMEOUT_RULE}"
    expired = pending_reviews().filter(created_at__lt=cutoff).values_list("pk", flat=True)
    return decide_many(list(expired), approve, None, note)
