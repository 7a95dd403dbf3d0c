from django.urls import path

from mawa.protection import views

app_name = "protection"
urlpatterns = [
    path("subject-access/<uuid:person_id>/", views.subject_access_page, name="subject_access"),
    path("subject-access/<uuid:person_id>/pdf/", views.subject_access_pdf,
         name="subject_access_pdf"),
]
