from django.urls import path

from mawa.custody import views

app_name = "custody"

urlpatterns = [
    path("", views.index, name="index"),
    path("verify/", views.verify_public, name="verify"),
    path("items/", views.item_list, name="item_list"),
    path("items/<str:code>/", views.item_detail, name="item_detail"),
    path("items/<str:code>/event/", views.item_event, name="item_event"),
    path("items/<str:code>/split/", views.item_split, name="item_split"),
    path("items/<str:code>/photo/", views.item_photo, name="item_photo"),
    path("items/<str:code>/photo/<uuid:photo_id>/", views.photo_file, name="photo_file"),
    path("items/<str:code>/hold/", views.item_hold, name="item_hold"),
    path("items/<str:code>/hold/<uuid:hold_id>/lift/", views.hold_lift, name="hold_lift"),
    path("items/<str:code>/label.pdf", views.item_label, name="item_label"),
    path("items/<str:code>/destruction.pdf", views.destruction_pdf, name="destruction_pdf"),
    path("surrender/", views.surrender_start, name="surrender_start"),
    path("surrender/person/", views.surrender_person_lookup, name="surrender_person_lookup"),
    path("receipts/<str:code>/", views.receipt_detail, name="receipt_detail"),
    path("receipts/<str:code>/issue/", views.receipt_issue, name="receipt_issue"),
    path("receipts/<str:code>/receipt.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("receipts/<str:code>/labels.pdf", views.receipt_labels, name="receipt_labels"),
    path("handovers/", views.handover_list, name="handover_list"),
    path("handovers/new/", views.handover_new, name="handover_new"),
    path("handovers/<str:code>/", views.handover_detail, name="handover_detail"),
    path("handovers/<str:code>/handover.pdf", views.handover_pdf, name="handover_pdf"),
    path("stores/new/", views.store_create, name="store_create"),
    path("stores/<str:code>/", views.store_detail, name="store_detail"),
    path("stores/<str:code>/check/", views.check_start, name="check_start"),
    path("checks/<str:code>/", views.check_detail, name="check_detail"),
    path("checks/<str:code>/scan/", views.check_scan, name="check_scan"),
    path("checks/<str:code>/close/", views.check_close, name="check_close"),
    path("checks/<str:code>/discrepancies/<str:disc_code>/", views.discrepancy_resolve,
         name="discrepancy_resolve"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
]
