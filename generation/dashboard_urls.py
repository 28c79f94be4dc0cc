from django.urls import path

from generation import dashboard, webhooks

urlpatterns = [
    path("dashboard/", dashboard.overview, name="dashboard"),
    path("covers/", dashboard.covers, name="covers"),
    path("covers/<str:task_id>/", dashboard.task_detail, name="task"),
    path("covers/<str:task_id>/progress", dashboard.task_progress, name="task-progress"),
    path("covers/<str:task_id>/images/<int:index>/<str:size>.jpg", dashboard.cover_image, name="cover-image"),
    path("covers/<str:task_id>/images/<int:index>/feedback", dashboard.image_feedback, name="image-feedback"),
    path("covers/<str:task_id>/replay", dashboard.callback_replay, name="callback-replay"),
    path("covers/<str:task_id>/enable-callback", webhooks.enable_task_callback, name="callback-enable"),
    path("playground/", dashboard.playground, name="playground"),
    path("usage/", dashboard.usage, name="usage"),
    path("credits/", dashboard.credits, name="dashboard-credits"),
    path("docs/", dashboard.docs, name="api-guide"),
]
