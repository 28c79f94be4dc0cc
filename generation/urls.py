from django.urls import path

from generation import api, dialects

urlpatterns = [
    path("api/v1/cover/generate", api.GenerateView.as_view(), name="cover-generate"),
    path("v1/album-art/generate", dialects.RunflowGenerateView.as_view(), name="album-art-generate"),
    path("api/v1/cover/record-info", api.RecordInfoView.as_view(), name="cover-record-info"),
    path("api/v1/cover/status", api.StatusView.as_view(), name="cover-status"),
    path("api/v1/cover/tasks", api.TaskListView.as_view(), name="cover-tasks"),
    path("api/v1/cover/<str:task_id>/variations", api.VariationsView.as_view(), name="cover-variations"),
    path("api/v1/cover/<str:task_id>/feedback", api.FeedbackView.as_view(), name="cover-feedback"),
    path("api/v1/cover/<str:task_id>/cancel", api.CancelView.as_view(), name="cover-cancel"),
    # Last among the cover paths: the fixed names above (generate, record-info, status, tasks) come first.
    path("api/v1/cover/<str:task_id>", api.TaskView.as_view(), name="cover-task"),
    path("api/v1/genres", api.GenresView.as_view(), name="genres"),
    # The peers' cover APIs (generation/dialects.py): the same submit and task data, in their formats.
    path("api/v1/suno/cover/generate", dialects.SunoCoverGenerateView.as_view(), name="suno-cover-generate"),
    path("api/v1/suno/cover/record-info", dialects.SunoRecordInfoView.as_view(), name="suno-cover-record-info"),
    path("api/v1/audio/music/cover/generate", dialects.ApiinCoverGenerateView.as_view(), name="apiin-cover-generate"),
    path("api/v1/audio/music/cover/status", dialects.ApiinCoverStatusView.as_view(), name="apiin-cover-status"),
]
