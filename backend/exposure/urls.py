from django.urls import path

from backend.exposure import api

urlpatterns = [
    path("exposure/sessions/", api.SessionListApi.as_view(), name="api-sessions"),
    path("exposure/sessions/<uuid:record_id>/", api.SessionDetailApi.as_view(), name="api-session-detail"),
    path("exposure/day-entries/", api.DayEntryListApi.as_view(), name="api-day-entries"),
    path("exposure/day-entries/<uuid:record_id>/", api.DayEntryDetailApi.as_view(), name="api-day-entry-detail"),
    path("exposure/batch/", api.BatchApi.as_view(), name="api-exposure-batch"),
    path("exposure/timer/", api.TimerApi.as_view(), name="api-timer"),
    path("exposure/timer/start/", api.TimerStartApi.as_view(), name="api-timer-start"),
    path("exposure/timer/pause/", api.TimerPauseApi.as_view(), name="api-timer-pause"),
    path("exposure/timer/resume/", api.TimerResumeApi.as_view(), name="api-timer-resume"),
    path("exposure/timer/stop/", api.TimerStopApi.as_view(), name="api-timer-stop"),
    path("exposure/summary/", api.SummaryApi.as_view(), name="api-exposure-summary"),
    path("exposure/taxonomy/", api.SeverityListApi.as_view(), name="api-exposure-taxonomy"),
    path("exposure/preferences/", api.PreferenceApi.as_view(), name="api-exposure-preferences"),
]
