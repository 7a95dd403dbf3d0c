from django.urls import path

from mawa.matching import views

app_name = "matching"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("hits/", views.hits, name="hits"),
    path("pairs/<uuid:pair_id>/", views.pair_detail, name="pair_detail"),
    path("runs/", views.runs, name="runs"),
    path("runs/start/", views.run_start, name="run_start"),
    path("watchlists/", views.watchlists, name="watchlists"),
]
