"""Security headers on every answer (protection.md R16, attack test 17; OWASP ASVS V14.4).

- ``Content-Security-Policy``: scripts only from this origin, never inline and never
  ``eval`` (page behaviour lives in ``core/static/mawa/mawa.js``, htmx runs with
  ``allowEval: false``); no plugins, no framing, forms post only here. Inline *style
  attributes* remain allowed: they cannot run code, and many templates use them.
- ``Cache-Control: no-store`` on every answer except static files: a shared computer at a border
  post must not keep a person's page, an export or the enrolment QR code (which holds the
  two-factor secret, shown before sign-in completes) in its cache or history.
- ``Permissions-Policy``: the camera for QR scanning on this origin only; nothing else.
- ``Referrer-Policy`` (``same-origin``), ``X-Content-Type-Options``, HSTS (when ``MAWA_HTTPS=1``
  and the request came over TLS) and ``Cross-Origin-Opener-Policy`` come from Django's
  ``SecurityMiddleware`` with the settings in ``mawa/settings.py``; this middleware adds
  ``Cross-Origin-Resource-Policy`` as well.
"""

from __future__ import annotations

from django.conf import settings

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

PERMISSIONS_POLICY = ", ".join([
    "camera=(self)", "microphone=()", "geolocation=()", "payment=()", "usb=()", "serial=()",
    "bluetooth=()", "display-capture=()", "clipboard-read=()",
])


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if not request.path.startswith(settings.STATIC_URL):
            # no-store alone is enough for browsers; the others for old proxies.
            response.headers["Cache-Control"] = "no-store, max-age=0"
            response.headers["Pragma"] = "no-cache"
        return response
