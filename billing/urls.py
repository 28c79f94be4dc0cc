from django.urls import path

from billing import views, webhooks

urlpatterns = [
    path("", views.overview, name="billing"),
    path("buy", views.buy, name="billing-buy"),
    path("settings", views.update_settings, name="billing-settings"),
    path("purchases", views.purchases, name="billing-purchases"),
    path("ledger", views.ledger_page, name="billing-ledger"),
    path("statement/<int:year>-<int:month>.csv", views.statement_download, name="billing-statement-csv"),
    path("stripe/webhook", webhooks.stripe_webhook, name="stripe-webhook"),
]
