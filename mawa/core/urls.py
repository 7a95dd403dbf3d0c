from django.urls import path

from mawa.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("sites/", views.sites, name="sites"),
    path("sites/<uuid:site_id>/location/", views.site_location, name="site_location"),
    path("ledger/", views.ledger, name="ledger"),
]
