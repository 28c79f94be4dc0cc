import pytest

from generation.models import CoverTask, IllegalTransition, TaskStatus


@pytest.fixture
def task(org):
    return CoverTask.objects.create(organization=org, genre="rnb", params={}, count=3, credits_held=3)


def test_happy_path(task):
    task.start()
    assert task.status == TaskStatus.GENERATING and task.attempts == 1
    task.finish(passed=2)
    task.refresh_from_db()
    assert task.status == TaskStatus.PARTIAL and task.credits_charged == 2 and task.completed_at


@pytest.mark.parametrize("passed, status", [(3, "SUCCESS"), (1, "PARTIAL"), (0, "FAILED")])
def test_finish_status_by_passed(task, passed, status):
    task.start()
    task.finish(passed)
    assert task.status == status


def test_illegal_moves_are_refused(task):
    with pytest.raises(IllegalTransition):
        task.finish(3)  # never started
    task.start()
    task.finish(3)
    with pytest.raises(IllegalTransition):
        task.start()
    with pytest.raises(IllegalTransition):
        task.fail("late")
    task.refresh_from_db()
    assert task.status == TaskStatus.SUCCESS


def test_a_stale_copy_cannot_move_a_task_another_process_already_moved(task):
    task.start()
    other = CoverTask.objects.get(pk=task.pk)  # a second process's view of the same row
    task.finish(3)
    with pytest.raises(IllegalTransition, match="no longer GENERATING"):
        other.fail("the sweep, a moment late")  # its GENERATING is stale: the update matches no row
    assert other.status == TaskStatus.GENERATING  # the copy is left as it was read
    task.refresh_from_db()
    assert task.status == TaskStatus.SUCCESS and task.credits_charged == 3 and not task.error_message


def test_sweep_fails_stuck_tasks_and_releases_their_credits(org, settings):
    from datetime import timedelta

    from django.utils import timezone

    from billing import ledger
    from generation.jobs import sweep_stuck_tasks
    from tests.conftest import assert_ledger_consistent

    settings.TASK_DEADLINE_SECONDS = 600
    old = CoverTask.objects.create(organization=org, genre="rnb", params={}, count=3, credits_held=3)
    ledger.hold(org, 3, old)
    fresh = CoverTask.objects.create(organization=org, genre="rnb", params={}, count=2, credits_held=2)
    ledger.hold(org, 2, fresh)
    CoverTask.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert sweep_stuck_tasks() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == TaskStatus.FAILED and old.credits_held == 0 and old.error_code == 531
    assert fresh.status == TaskStatus.PENDING
    assert ledger.account(org).held == 2
    assert_ledger_consistent(org)
    assert sweep_stuck_tasks() == 0
