"""Every page of Mawa, mounted here by plain imports: each app's ``urls`` module under its
prefix (what imports what is visible to a reader and to import-linter)."""

from django.contrib import admin
from django.urls import include, path

from mawa import api
from mawa.accountability import urls as accountability_urls
from mawa.accounts import urls as accounts_urls
from mawa.accounts import views as account_views
from mawa.accounts import views_kernel
from mawa.camp import urls as camp_urls
from mawa.core import urls as core_urls
from mawa.core import views as core_views
from mawa.custody import urls as custody_urls
from mawa.custody import views as custody_views
from mawa.matching import urls as matching_urls
from mawa.protection import urls as protection_urls
from mawa.reception import urls as reception_urls
from mawa.reports import urls as reports_urls
from mawa.sync import urls as sync_urls

handler500 = core_views.server_error  # a DatabaseError: the translated database page, 503

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/setlang/", account_views.language_set, name="set_language"),
    path("accounts/", include(accounts_urls)),
    path("admin/", admin.site.urls),
    # The public receipt check (no sign-in): a soldier's receipt QR, verified offline years on.
    path("verify/", custody_views.verify_public, name="verify"),
    # the kernel's records, behind the access policy (accounts.views_kernel)
    path("sites/", views_kernel.sites, name="sites"),
    path("sites/<uuid:site_id>/location/", views_kernel.site_location, name="site_location"),
    path("sites/new/", views_kernel.site_new, name="site_new"),
    path("sites/<uuid:site_id>/edit/", views_kernel.site_edit, name="site_edit"),
    path("ledger/", views_kernel.ledger, name="ledger"),
    path("audit/", views_kernel.audit_trail, name="audit_trail"),
    path("", include(protection_urls)),  # subject-access/…
    path("", include(core_urls)),
    path("reception/", include(reception_urls)),
    path("custody/", include(custody_urls)),
    path("camp/", include(camp_urls)),
    path("matching/", include(matching_urls)),
    path("accountability/", include(accountability_urls)),
    path("reports/", include(reports_urls)),
    path("sync/", include(sync_urls)),
    path("api/", api.api.urls),
]
