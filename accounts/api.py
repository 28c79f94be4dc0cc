from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from albumart.api import envelope
from generation.schema import RESPONSES


class WebhookSecretView(APIView):
    """The organisation's callback signing secret, as Replicate exposes its own, and during a rotation the
    previous one, which still signs until it expires."""

    @extend_schema(responses=RESPONSES["webhook_secret"], operation_id="webhook_secret")
    def get(self, request):
        org = request.org
        previous = org.previous_webhook_secret_active  # during a rotation both sign: a receiver accepts either
        return envelope(200, "success", {
            "key": org.webhook_secret, "previousKey": org.previous_webhook_secret if previous else None,
            "previousExpiresAt": org.previous_webhook_secret_expires_at.isoformat() if previous else None})
