"""The site a user is working at, for this request."""

from __future__ import annotations

from mawa.accounts import access
from mawa.core import context


class SiteScopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.site = None
        request.user_sites = []
        user = request.user
        if user.is_authenticated:
            sites = list(access.sites_for(user))
            request.user_sites = sites
            wanted = request.session.get("site_id")
            request.site = next((s for s in sites if str(s.pk) == wanted),
                                sites[0] if sites else None)
            ctx = context.current()
            token = context.set_current(context.ActionContext(
                address=ctx.address, channel=ctx.channel, request_id=ctx.request_id,
                site_code=request.site.code if request.site else ""))
            try:
                return self.get_response(request)
            finally:
                context.reset(token)
        return self.get_response(request)
