from django.urls import path

from mawa.sync import views

app_name = "sync"
urlpatterns = [
    path("", views.status, name="status"),
    path("conflicts/<uuid:conflict_id>/", views.conflict, name="conflict"),
]
