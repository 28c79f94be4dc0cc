"""The task data of record-info, status and the callback (API.md), built from the database."""

from generation import files, renditions
from generation.models import CoverTask, Decision, Dialect, TaskStatus, Verdict, WebhookEvent
from generation.qareport import api_qa, failing_checks


def _iso(dt):
    return dt.isoformat().replace("+00:00", "Z") if dt else None


def image_data(image) -> dict:
    data = {
        "index": image.index,
        "url": files.signed_url(image.storage_path, image.filename),
        "filename": image.filename,
        "variant": image.variant,
        "width": image.width,
        "height": image.height,
        "format": image.format,
        "bytes": image.bytes,
        "seed": image.seed,
        "qa": api_qa(image.qa),
        "verdict": image.verdict,
        "attempts": image.attempts,
        "review": {"decision": image.decision, "reviewedAt": _iso(image.reviewed_at)} if image.verdict == "review"
        else None,
        "accepted": image.accepted,
    }
    if image.renditions:  # only when the task asked for platform presets
        data["renditions"] = renditions.api_data(image.renditions)
    return data


def failed_image_data(image) -> dict:
    """Why a cover was not delivered: the checks that stopped it, with their values and reasons. No URL or file
    name: the cover is not deliverable (and not charged)."""
    checks = failing_checks(image.qa)
    reasons = "; ".join(c["reason"] for c in checks) or "it did not pass the quality checks"
    if image.verdict == Verdict.REVIEW:
        outcome = "rejected"  # the Sentinel asked a person, who did not approve it (or the review timed out)
        why = f"Not approved in staff review: {reasons}."
    else:
        outcome = "failed"
        tries = f"all {image.attempts} attempts" if image.attempts > 1 else "its only attempt"
        why = f"Failed the quality checks on {tries}: {reasons}."
    return {
        "index": image.index,
        "variant": image.variant,
        "seed": image.seed,
        "attempts": image.attempts,
        "outcome": outcome,
        "verdict": image.verdict,
        "reason": why,
        "failedChecks": checks,
        "qa": api_qa(image.qa),
        "review": {"decision": image.decision or None, "reviewedAt": _iso(image.reviewed_at)}
        if image.verdict == Verdict.REVIEW else None,
    }


def _not_delivered(image) -> bool:
    return not image.passed and not (image.verdict == Verdict.REVIEW and image.decision == Decision.PENDING)


def task_data(task: CoverTask) -> dict:
    # Only images that passed are deliverable, each as soon as it has passed (a task's covers are stored one by one
    # while it renders; a passed cover is always charged, however the task ends); failed ones are neither charged
    # nor listed, and one under staff review appears once approved. A deleted task's files are gone: its record
    # (status, credits) stays, with nothing to fetch.
    images = [] if task.deleted_at else [image_data(i) for i in task.images.all() if i.passed]
    # Once the task has ended (FAILED, PARTIAL, CANCELLED), every stored cover that was not delivered says why.
    failed = [failed_image_data(i) for i in task.images.all() if _not_delivered(i)] if task.is_terminal else []
    return {
        "taskId": task.id,
        "musicTaskId": task.client_task_id,
        "parentTaskId": task.parent_id,
        "status": task.status,
        "genre": task.genre,
        "count": task.count,
        "createTime": _iso(task.created_at),
        "completeTime": _iso(task.completed_at),
        "deleteTime": _iso(task.deleted_at),
        "images": images,
        "failedImages": failed,
        # A sandbox key's task: test data, watermarked SAMPLE, never charged (its credits stay 0).
        "sandbox": task.sandbox,
        "credits": {"held": task.credits_held, "charged": task.credits_charged},
        "warnings": task.warnings,
        "errorCode": task.error_code,
        "errorMessage": task.error_message or None,
    }


def callback_envelope(task: CoverTask) -> dict:
    if task.dialect != Dialect.NATIVE:  # submitted through a peer's API: called back in that API's format
        from generation.dialects import peer_callback  # (the dialects build on this module)

        return peer_callback(task)
    # `event` tells the final callback from the progress ones a task may have asked for (progress_envelope).
    data = {**task_data(task), "event": WebhookEvent.COMPLETED.value}
    # A cancel is the client's own request, not a failure: code 200, told apart by msg and data.status.
    if task.status == TaskStatus.CANCELLED:
        return {"code": 200, "msg": "cancelled", "data": data}
    if task.status == TaskStatus.FAILED:
        code = task.error_code or 531
        return {"code": code, "msg": task.error_message or "generation failed", "data": data}
    return {"code": 200, "msg": "success", "data": data}


def image_event_data(image) -> dict:
    """One stored cover as an `image` progress event reports it, with `passed`: a passed cover as record-info lists
    it (its URL included), a failed one with why, one under staff review as waiting (delivered only if approved)."""
    if image.passed:
        return {**image_data(image), "passed": True}
    if image.awaiting_review:
        return {"index": image.index, "variant": image.variant, "seed": image.seed, "attempts": image.attempts,
                "passed": False, "outcome": "review", "verdict": image.verdict,
                "reason": "Waits for staff review: delivered, and charged, only if approved.", "qa": api_qa(image.qa)}
    return {**failed_image_data(image), "passed": False}


def progress_envelope(task: CoverTask, event: str, image_index: int | None = None) -> dict:
    """A progress callback (`webhook_events_filter`): the task data as it is now, the event, and for `image` the
    cover that was stored. Native format whatever the task's dialect: the peers have no such events."""
    data = {**task_data(task), "event": event}
    if event == WebhookEvent.IMAGE:
        image = None if task.deleted_at else task.images.filter(index=image_index).first()
        data["image"] = image_event_data(image) if image else None
    return {"code": 200, "msg": event, "data": data}
