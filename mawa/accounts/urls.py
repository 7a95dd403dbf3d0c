from django.urls import path

from mawa.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.two_factor, name="two_factor"),
    path("login/enrol/", views.enrol, name="enrol"),
    path("recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("confirm/", views.reauth, name="reauth"),
    path("sessions/", views.sessions, name="sessions"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("site/", views.site_switch, name="site_switch"),
]
