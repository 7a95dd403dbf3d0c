from django.urls import path

from mawa.core import views, views_exports, views_subject_access

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("sites/", views.sites, name="sites"),
    path("sites/<uuid:site_id>/location/", views.site_location, name="site_location"),
    path("ledger/", views.ledger, name="ledger"),
    path("exports/<str:token>/", views_exports.export_download, name="export_download"),
    path("subject-access/<uuid:person_id>/", views_subject_access.subject_access_page,
         name="subject_access"),
    path("subject-access/<uuid:person_id>/pdf/", views_subject_access.subject_access_pdf,
         name="subject_access_pdf"),
]
