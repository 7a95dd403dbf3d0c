from django.urls import path

from mawa.accounts import views, views_tokens, views_users

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.two_factor, name="two_factor"),
    path("login/enrol/", views.enrol, name="enrol"),
    path("recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("confirm/", views.reauth, name="reauth"),
    path("sessions/", views.sessions, name="sessions"),
    path("settings/", views.settings_page, name="settings"),
    path("tokens/", views_tokens.tokens, name="tokens"),
    path("tokens/<uuid:token_id>/revoke/", views_tokens.token_revoke, name="token_revoke"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("site/", views.site_switch, name="site_switch"),
    path("users/", views_users.users, name="users"),
    path("users/new/", views_users.user_new, name="user_new"),
    path("users/<uuid:user_id>/", views_users.user_detail, name="user"),
    path("users/<uuid:user_id>/two-factor-reset/", views_users.user_two_factor_reset,
         name="user_two_factor_reset"),
    path("grants/<uuid:grant_id>/", views_users.grant, name="grant"),
]
