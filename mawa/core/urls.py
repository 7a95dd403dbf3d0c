from django.urls import path

from mawa.core import views, views_exports

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("sites/", views.sites, name="sites"),
    path("sites/<uuid:site_id>/location/", views.site_location, name="site_location"),
    path("ledger/", views.ledger, name="ledger"),
    path("exports/<str:token>/", views_exports.export_download, name="export_download"),
]
