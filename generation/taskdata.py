"""The task data of record-info, status and the callback (API.md), built from the database."""

from generation import files
from generation.models import CoverTask, TaskStatus


def _iso(dt):
    return dt.isoformat().replace("+00:00", "Z") if dt else None


def image_data(image) -> dict:
    return {
        "index": image.index,
        "url": files.signed_url(image.storage_path, image.filename),
        "filename": image.filename,
        "variant": image.variant,
        "width": image.width,
        "height": image.height,
        "format": image.format,
        "bytes": image.bytes,
        "seed": image.seed,
        "qa": image.qa,
        "verdict": image.verdict,
        "attempts": image.attempts,
        "review": {"decision": image.decision, "reviewedAt": _iso(image.reviewed_at)} if image.verdict == "review"
        else None,
        "accepted": image.accepted,
    }


def task_data(task: CoverTask) -> dict:
    # Only images that passed are deliverable, each as soon as it has passed (a task's covers are stored one by one
    # while it renders; a passed cover is always charged, however the task ends); failed ones are neither charged
    # nor listed, and one under staff review appears once approved. A deleted task's files are gone: its record
    # (status, credits) stays, with nothing to fetch.
    images = [] if task.deleted_at else [image_data(i) for i in task.images.all() if i.passed]
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
        "credits": {"held": task.credits_held, "charged": task.credits_charged},
        "warnings": task.warnings,
        "errorCode": task.error_code,
        "errorMessage": task.error_message or None,
    }


def callback_envelope(task: CoverTask) -> dict:
    # A cancel is the client's own request, not a failure: code 200, told apart by msg and data.status.
    if task.status == TaskStatus.CANCELLED:
        return {"code": 200, "msg": "cancelled", "data": task_data(task)}
    if task.status == TaskStatus.FAILED:
        code = task.error_code or 531
        return {"code": code, "msg": task.error_message or "generation failed", "data": task_data(task)}
    return {"code": 200, "msg": "success", "data": task_data(task)}
