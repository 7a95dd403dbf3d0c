from django.urls import path

from mawa.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.sitrep, name="sitrep"),
    path("stored/", views.stored_list, name="stored_list"),
    path("stored/<uuid:report_id>/", views.stored_download, name="stored_download"),
    path("stats/", views.stats, name="stats"),
    path("stats/publish/", views.stats_publish, name="stats_publish"),
    path("stats/<str:day>.hxl.csv", views.stats_hxl, name="stats_hxl"),
]
