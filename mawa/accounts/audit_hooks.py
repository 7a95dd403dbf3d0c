"""Logins, failed logins and logouts go to the audit trail.

These are Django's own authentication signals; the handlers only write the audit entry (no
business rule lives here). They run inside the login view's transaction, so a failed audit
write fails the login.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from mawa.core.audit import audit


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit(actor=user, action="login", obj=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit(actor=user, action="logout", obj=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "")
    known = get_user_model().objects.filter(username=username).values_list("pk", flat=True)
    user_id = next(iter(known), None)
    # The typed name is not stored: it may be a password typed in the wrong box.
    audit(actor=None, action="login_failed", outcome="denied", model="accounts.user",
          object_id=user_id or "", detail={"known_account": user_id is not None})
