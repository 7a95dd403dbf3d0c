"""The site a user is working at, for this request."""

from __future__ import annotations

from mawa.accounts import access
from mawa.core import context, display
from mawa.core.client_address import client_address


class SiteScopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.site = None
        request.user_sites = []
        user = request.user
        if user.is_authenticated:
            sites = access.active_sites(user)
            request.user_sites = sites
            wanted = request.session.get("site_id")
            request.site = next((s for s in sites if str(s.pk) == wanted),
                                sites[0] if sites else None)
            ctx = context.current()
            token = context.set_current(context.ActionContext(
                address=ctx.address, channel=ctx.channel, request_id=ctx.request_id,
                site_code=request.site.code if request.site else ""))
            digits = display.digits_activate(getattr(user, "digits", display.LATIN))
            try:
                return self.get_response(request)
            finally:
                display.digits_reset(digits)
                context.reset(token)
        return self.get_response(request)


class SessionSecurityMiddleware:
    """Absolute session lifetime (idle timeout is the cookie age) and the list of live sessions.

    Runs after Django's AuthenticationMiddleware, which already ends a session whose user was
    disabled or whose password, role, sites or session generation changed.
    """

    SEEN_EVERY = 60  # seconds between updates of a session's "last seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import time

        from django.conf import settings
        from django.contrib.auth import logout

        from mawa.accounts import services

        user = request.user
        if user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            login_at = request.session.get("login_at")
            if login_at and now - login_at > settings.MAWA_ABSOLUTE_SESSION_SECONDS:
                logout(request)
            elif request.session.session_key and (
                    now - request.session.get("seen_at", 0) > self.SEEN_EVERY):
                request.session["seen_at"] = now
                services.session_record(
                    user=user, session_key=request.session.session_key,
                    address=client_address(request.META),
                    user_agent=request.headers.get("User-Agent", ""))
        return self.get_response(request)
