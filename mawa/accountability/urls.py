from django.urls import path

from mawa.accountability import views

app_name = "accountability"

urlpatterns = [
    path("", views.home, name="home"),
    path("break-glass/", views.break_glass, name="break_glass"),
    path("events/new/", views.event_create, name="event_create"),
    path("events/<uuid:event_id>/", views.event_detail, name="event_detail"),
    path("events/<uuid:event_id>/acts/", views.act_add, name="act_add"),
    path("events/<uuid:event_id>/involvements/", views.involvement_add,
         name="involvement_add"),
    path("events/<uuid:event_id>/sources/", views.source_add, name="source_add"),
    path("events/<uuid:event_id>/evidence/", views.evidence_upload, name="evidence_upload"),
    path("events/<uuid:event_id>/holds/", views.hold_set, name="hold_set"),
    path("events/<uuid:event_id>/referrals/", views.referral_create, name="referral_create"),
    path("referrals/<uuid:referral_id>/approve/", views.referral_approve,
         name="referral_approve"),
    path("referrals/<uuid:referral_id>/export/", views.referral_export, name="referral_export"),
    path("evidence/<uuid:evidence_id>/", views.evidence_detail, name="evidence_detail"),
    path("evidence/<uuid:evidence_id>/download/", views.evidence_download,
         name="evidence_download"),
    path("evidence/<uuid:evidence_id>/handover/", views.evidence_handover,
         name="evidence_handover"),
]
