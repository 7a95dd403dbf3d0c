from django.contrib import admin
from django.urls import include, path

from mawa.accounts import views as account_views
from mawa.core import views as core_views
from mawa.custody import views as custody_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/setlang/", account_views.language_set, name="set_language"),
    path("accounts/", include("mawa.accounts.urls")),
    path("admin/", admin.site.urls),
    # The public receipt check (no sign-in): a soldier's receipt QR, verified offline years on.
    path("verify/", custody_views.verify_public, name="verify"),
    path("", include("mawa.core.urls")),
]

# Each domain app contributes its pages under its own prefix when it has a urls module.
for _prefix, _module in [
    ("reception/", "mawa.reception.urls"),
    ("custody/", "mawa.custody.urls"),
    ("camp/", "mawa.camp.urls"),
    ("matching/", "mawa.matching.urls"),
    ("accountability/", "mawa.accountability.urls"),
    ("reports/", "mawa.reports.urls"),
]:
    try:
        __import__(_module)
    except ModuleNotFoundError as exc:
        if exc.name != _module:
            raise
        continue
    urlpatterns.append(path(_prefix, include(_module)))

from mawa.api import api  # noqa: E402

urlpatterns.append(path("api/", api.urls))
