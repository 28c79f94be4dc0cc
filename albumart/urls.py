from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.api import WebhookSecretView
from albumart import health, metrics
from billing.api import CreditsView
from generation import files, webhooks

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html"), name="redoc"),
    path("api/v1/credits", CreditsView.as_view(), name="credits"),
    path("api/v1/webhooks/secret", WebhookSecretView.as_view(), name="webhook-secret"),
    path("api/v1/webhooks/disabled", webhooks.DisabledWebhooksView.as_view(), name="webhooks-disabled"),
    path("api/v1/webhooks/enable", webhooks.EnableWebhookView.as_view(), name="webhooks-enable"),
    path("files/<str:token>", files.serve, name="file"),
    path("billing/", include("billing.urls")),
    path("", include("generation.urls")),
    path("", include("accounts.urls")),
    path("", include("generation.dashboard_urls")),
]

if settings.DEBUG:  # the local demo's callback receiver (make run); never mounted in production
    from generation.devreceiver import callbacks

    urlpatterns.insert(0, path("dev/callbacks", callbacks, name="dev-callbacks"))

handler404 = "albumart.views.not_found"
handler500 = "albumart.views.error"
