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
