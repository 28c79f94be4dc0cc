from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from albumart.api import envelope
from generation.schema import RESPONSES


class WebhookSecretView(APIView):
    """The organisation's callback signing secret, as Replicate exposes its own."""

    @extend_schema(responses=RESPONSES["webhook_secret"], operation_id="webhook_secret")
    def get(self, request):
        return envelope(200, "success", {"key": request.org.webhook_secret})
