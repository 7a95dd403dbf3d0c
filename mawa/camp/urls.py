from django.urls import path

from mawa.camp import views

app_name = "camp"

urlpatterns = [
    path("", views.home, name="home"),
    path("layout/", views.layout_edit, name="layout"),
    path("blocks/<uuid:block_id>/", views.block_detail, name="block"),
    path("shelters/<uuid:shelter_id>/", views.shelter_detail, name="shelter"),
    path("receive/", views.receive, name="receive"),
    path("movements/", views.movements, name="movements"),
    path("movements/<uuid:movement_id>/return/", views.movement_return, name="movement_return"),
    path("rollcalls/", views.roll_calls, name="rollcalls"),
    path("rollcalls/<uuid:roll_call_id>/", views.roll_call, name="rollcall"),
    path("distributions/", views.distributions, name="distributions"),
    path("incidents/", views.incidents, name="incidents"),
    path("incidents/<uuid:incident_id>/", views.incident_detail, name="incident"),
]
