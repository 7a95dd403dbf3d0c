from django.urls import path

from mawa.reception import (  # parts 7–9 (documents, import), corrections
    views,
    views_documents,
    views_import,
    views_person,
)

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
    path("persons/<uuid:person_id>/correct/", views_person.person_correct,
         name="person_correct"),
    path("persons/<uuid:person_id>/sensitive/", views_person.person_sensitive,
         name="person_sensitive"),
    path("persons/<uuid:person_id>/photo/", views_person.person_photo, name="person_photo"),
    # parts 7–9: ID cards, ICRC notification, export, import (views_documents, views_import)
    path("persons/<uuid:person_id>/idcard.pdf", views_documents.person_idcard,
         name="person_idcard"),
    path("groups/<uuid:group_id>/idcards/", views_documents.group_idcards,
         name="group_idcards"),
    path("icrc/notification.<str:fmt>", views_documents.icrc_notification,
         name="icrc_notification"),
    path("persons/<uuid:person_id>/icrc-withhold/", views_documents.person_icrc_withhold,
         name="person_icrc_withhold"),
    path("persons/export/", views_documents.persons_export, name="persons_export"),
    path("import/", views_import.import_upload, name="import_upload"),
    path("import/<str:token>/", views_import.import_preview, name="import_preview"),
    path("import/<str:token>/progress/", views_import.import_progress, name="import_progress"),
    path("import/<str:token>/report.csv", views_import.import_report, name="import_report"),
]
