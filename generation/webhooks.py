"""Callback URLs that a 410 Gone disabled: listed and re-enabled through the API, and re-enabled from a task's page.

The behaviour is callbacks.enable_endpoint's; these are its two doors, each scoped to one organisation.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from accounts.decorators import org_required
from albumart.api import ApiError, envelope, validation_error
from generation.callbacks import enable_endpoint
from generation.schema import RESPONSES
from generation.serializers import unknown_field_errors


def _iso(dt) -> str:
    return dt.isoformat().replace("+00:00", "Z")


class EnableSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000, help_text="the callback URL that answered 410 Gone")

    def to_internal_value(self, data):
        if unknown := unknown_field_errors(data, self.fields):
            raise serializers.ValidationError(unknown)
        return super().to_internal_value(data)


class DisabledWebhooksView(APIView):
    """The organisation's callback URLs that answered 410 Gone: nothing is sent to them until re-enabled."""

    @extend_schema(responses=RESPONSES["webhooks_disabled"], operation_id="webhooks_disabled")
    def get(self, request):
        rows = request.org.disabled_endpoints.order_by("-created_at")
        return envelope(200, "success", {"endpoints": [{"url": r.url, "disabledAt": _iso(r.created_at)}
                                                       for r in rows]})


class EnableWebhookView(APIView):
    """Re-enable a callback URL that a 410 disabled; the final callbacks given up because of it are sent again."""

    @extend_schema(request=EnableSerializer, responses=RESPONSES["webhooks_enable"], operation_id="webhooks_enable")
    def post(self, request):
        serializer = EnableSerializer(data=request.data)
        if not serializer.is_valid():
            return validation_error(serializer.errors)
        url = serializer.validated_data["url"]
        requeued = enable_endpoint(request.org, url)
        if requeued is None:
            raise ApiError(404, f"{url[:200]} is not a disabled callback URL of your organisation "
                                f"(GET /api/v1/webhooks/disabled lists them).")
        return envelope(200, "success", {"url": url, "enabled": True, "requeued": requeued})


@org_required
@require_POST
def enable_task_callback(request, task_id: str):
    """The task page's button: re-enable the task's callBackUrl, as POST /api/v1/webhooks/enable does."""
    task = request.org.tasks.filter(pk=task_id).first()
    if task is None:  # another organisation's task is a 404, as on every dashboard page
        raise Http404("No such task in this organisation.")
    requeued = enable_endpoint(request.org, task.callback_url) if task.callback_url else None
    if requeued is None:
        messages.error(request, "This task's callback URL is not disabled.")
    else:
        sent = f"; {requeued} callback(s) given up because of the 410 queued again" if requeued else ""
        messages.success(request, f"Callback URL re-enabled{sent}. Refresh to see the responses.")
    return redirect("task", task.id)
