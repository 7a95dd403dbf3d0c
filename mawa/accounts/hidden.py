"""Compartment routes answer anyone outside the compartment exactly like unknown URLs.

A route is marked with ``access.hidden(perm)`` (pages and API endpoints alike). Two middleware
classes keep every answer the same as for a URL that resolves to nothing:

* ``HiddenRoutesMiddleware`` answers Django's 404, before any other part of the route runs:
  listed before Django's ``CsrfViewMiddleware``, so that a POST without a token is not told
  "CSRF failed" (403); before the view's method decorators (405 for a GET of a POST-only
  page); before ninja's authentication (401), parsing (400, 422) and method check (405);
* ``CommonMiddleware``: Django's, except that a URL without its final slash is not redirected
  to a hidden route (an unknown URL's is not redirected either: 404).
"""

from __future__ import annotations

from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.urls import is_valid_path

from mawa.accounts import access, services


def hidden_permissions(view, method: str = "") -> tuple[str, ...]:
    """The permissions without all of which ``view`` does not exist for a request of
    ``method`` (any one of them lets the request through to the view's own checks); empty for
    an ordinary view. The mark is a permission (``access.hidden``) or, for an API path, the
    permission of each method (``mawa.api``); a method the path lacks needs any of them."""
    mark = getattr(view, "mawa_hidden", None)
    if mark is None:
        return ()
    if isinstance(mark, str):
        return (mark,)
    return (mark[method],) if method in mark else tuple(sorted(set(mark.values())))


class HiddenRoutesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Http404 raised here takes the very path of an unresolved URL's Resolver404
        # (django.core.handlers.exception.response_for_exception): the same page, headers
        # and log line.
        perms = hidden_permissions(view_func, request.method)
        if perms:
            use = services.api_token_for_request(request)  # an integration's bearer token
            if use is not None and use.user is not None:
                request.auth = use.user
            access.hidden_refuse(request, *perms)
        return None


class CommonMiddleware(DjangoCommonMiddleware):
    def should_redirect_with_slash(self, request):
        if not super().should_redirect_with_slash(request):
            return False
        match = is_valid_path(f"{request.path_info}/", getattr(request, "urlconf", None))
        perms = hidden_permissions(match.func, request.method) if match else ()
        user = getattr(request, "user", None)
        return not perms or any(access.can(user, perm) for perm in perms)
