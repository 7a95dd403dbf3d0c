from django.urls import path

from mawa.core import jobs_views, views, views_exports

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("exports/<str:token>/", views_exports.export_download, name="export_download"),
    path("jobs/", jobs_views.job_list, name="job_list"),
    path("jobs/<uuid:job_id>/", jobs_views.job_detail, name="job_detail"),
    path("jobs/<uuid:job_id>/progress/", jobs_views.job_progress, name="job_progress"),
    path("jobs/<uuid:job_id>/cancel/", jobs_views.job_cancel, name="job_cancel"),
]
