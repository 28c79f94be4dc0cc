"""Structured logs: JSON lines that carry the request id (as sent back in X-Request-Id) and the task id."""

import io
import json
import logging
import logging.config

import pytest
from django.conf import settings as django_settings

from albumart.logs import for_task
from tests.conftest import api_client, make_org


@pytest.fixture
def json_lines():
    """The configured JSON formatter and context filter on a buffer, as the console handler has them."""
    config = django_settings.LOGGING
    formatter = logging.config.DictConfigurator({}).configure_formatter(dict(config["formatters"]["json"]))
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(formatter)
    from albumart.logs import ContextFilter

    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.mark.django_db
def test_a_submit_logs_json_with_its_request_and_task_ids(json_lines, django_capture_on_commit_callbacks):
    client = api_client(make_org("Log Records", credits=10))
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/api/v1/cover/generate", {"genre": "hiphop", "text_artist": "NOVA",
                                                           "text_album": "STILL STANDING"}, format="json")
    assert response.status_code == 200
    task_id = response.json()["data"]["taskId"]
    accepted = [line for line in json_lines() if line["message"].startswith("task accepted")]
    assert len(accepted) == 1, json_lines()
    line = accepted[0]
    assert line["request_id"] == response["X-Request-Id"] and line["task_id"] == task_id
    assert line["level"] == "INFO" and line["logger"] == "generation.api" and "time" in line


def test_work_done_for_a_task_is_tagged_with_it(json_lines):
    with for_task("task-123"):
        logging.getLogger("generation.jobs").warning("render started")
    logging.getLogger("generation.jobs").warning("between tasks")
    first, second = json_lines()
    assert first["task_id"] == "task-123" and first["request_id"] is None
    assert second["task_id"] is None
