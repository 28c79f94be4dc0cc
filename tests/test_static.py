"""Static files come from the web process itself (whitenoise): no separate file server in production."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_admin_stylesheet_is_served_by_the_web_process():
    response = Client().get("/static/admin/css/base.css")
    assert response.status_code == 200
    assert b"".join(response.streaming_content if response.streaming else [response.content]).strip()
    assert "text/css" in response["Content-Type"]
