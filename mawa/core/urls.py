from django.urls import path

from mawa.core import views, views_exports

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("exports/<str:token>/", views_exports.export_download, name="export_download"),
]
