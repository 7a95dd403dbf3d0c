from django.urls import path

from mawa.reception import views

app_name = "reception"

urlpatterns = [
    path("groups/", views.group_list, name="group_list"),
    path("groups/new/", views.group_create, name="group_create"),
    path("groups/<uuid:group_id>/", views.group_detail, name="group_detail"),
    path("persons/", views.person_list, name="person_list"),
    path("persons/new/", views.person_register, name="person_register"),
    path("persons/matches/", views.person_matches, name="person_matches"),
    path("persons/<uuid:person_id>/", views.person_detail, name="person_detail"),
    path("persons/<uuid:person_id>/transition/", views.person_transition,
         name="person_transition"),
]
