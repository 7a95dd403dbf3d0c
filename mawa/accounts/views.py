"""Sign-in in two steps (password, then the authenticator code), sessions, step-up."""

from __future__ import annotations

import base64
import time

import segno
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mawa.accounts import access, services
from mawa.accounts.forms import CodeForm, DisplayForm, LoginForm, ReauthForm, SiteChoiceForm
from mawa.accounts.models import UserSession
from mawa.core.client_address import client_address
from mawa.core.errors import NotFound
from mawa.core.forms import form_errors_add, service_errors

PENDING_SECONDS = 300
STEP_UP_SECONDS = services.STEP_UP_SECONDS


def _address(request) -> str:
    """The client's address: a proxy's header only from a trusted proxy (core.client_address)."""
    return client_address(request.META)


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return resolve_url(default)


def _pending_user(request):
    data = request.session.get("mfa_pending")
    if not data or time.time() - data["at"] > PENDING_SECONDS:
        return None
    return get_user_model().objects.filter(pk=data["user"], is_active=True).first()


def _complete_login(request, user):
    """Both factors checked: sign in (Django rotates the session id) and remember when."""
    backend = request.session.get("mfa_pending", {}).get("backend")
    next_url = request.session.get("mfa_pending", {}).get("next") or resolve_url("core:home")
    login(request, user, backend=backend)
    now = time.time()
    request.session["login_at"] = now
    request.session["auth_at"] = now
    request.session.pop("mfa_pending", None)
    request.session.pop("mfa_enrol_secret", None)
    response = HttpResponseRedirect(next_url)
    if user.language and "django_language" not in request.COOKIES:
        response.set_cookie("django_language", user.language, samesite="Lax", httponly=True)
    return response


class LoginView(auth_views.LoginView):
    """Step one: the password. Throttled per account name and per address (R13)."""

    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    @method_decorator(transaction.atomic)
    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        try:
            services.throttle_check(username=username, address=_address(request))
        except services.Throttled as exc:
            form = self.get_form()
            form.errors.clear()
            form_errors_add(form, exc)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        services.throttle_failure(username=self.request.POST.get("username", ""),
                                  address=_address(self.request))
        return super().form_invalid(form)

    def form_valid(self, form):
        user = form.get_user()
        services.throttle_success(username=user.get_username(), address=_address(self.request))
        self.request.session.cycle_key()
        self.request.session["mfa_pending"] = {
            "user": str(user.pk), "at": time.time(), "backend": user.backend,
            "next": _safe_next(self.request, "core:home")}
        if services.has_second_factor(user):
            return HttpResponseRedirect(resolve_url("accounts:two_factor"))
        return HttpResponseRedirect(resolve_url("accounts:enrol"))


@transaction.atomic
def two_factor(request):
    """Step two: a code from the authenticator app, or one recovery code."""
    user = _pending_user(request)
    if user is None:
        return HttpResponseRedirect(resolve_url("accounts:login"))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with service_errors(form) as run:
            services.throttle_check(username=user.get_username(), address=_address(request))
        if run.error is not None:  # throttled: 429
            return render(request, "accounts/two_factor.html", {"form": form}, status=run.status)
        code = form.cleaned_data["code"]
        ok = (services.totp_verify(user=user, code=code) if len(code.replace(" ", "")) <= 6
              else services.recovery_code_use(user=user, code=code))
        if ok:
            return _complete_login(request, user)
        services.throttle_failure(username=user.get_username(), address=_address(request))
        form.add_error("code", _("That code is not right, or it was already used."))
    return render(request, "accounts/two_factor.html", {"form": form})


@transaction.atomic
def enrol(request):
    """First sign-in: set up the authenticator app (QR code in the page, no outside service)."""
    user = _pending_user(request)
    if user is None:
        return HttpResponseRedirect(resolve_url("accounts:login"))
    if services.has_second_factor(user):
        return HttpResponseRedirect(resolve_url("accounts:two_factor"))
    secret_hex = request.session.get("mfa_enrol_secret")
    if not secret_hex:
        secret_hex = services.totp_secret_new().hex()
        request.session["mfa_enrol_secret"] = secret_hex
    secret = bytes.fromhex(secret_hex)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with service_errors(form, message_field="code"):
            codes = services.totp_enrol_confirm(user=user, secret=secret,
                                                code=form.cleaned_data["code"])
            response = _complete_login(request, user)
            request.session["recovery_codes_once"] = codes
            return HttpResponseRedirect(resolve_url("accounts:recovery_codes")
                                        + "?next=" + response["Location"])
    uri = services.totp_provisioning_uri(secret, user.get_username())
    return render(request, "accounts/enrol.html", {
        "form": form,
        "qr_svg": segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff"),
        "secret_b32": base64.b32encode(secret).decode().rstrip("="),
    })


@login_required
def recovery_codes(request):
    """Show the recovery codes once, right after enrolment."""
    codes = request.session.pop("recovery_codes_once", None)
    if not codes:
        return HttpResponseRedirect(resolve_url("core:home"))
    return render(request, "accounts/recovery_codes.html", {
        "codes": codes, "next": _safe_next(request, "core:home")})


@login_required
@transaction.atomic
def reauth(request):
    """Step-up: confirm the password and a fresh code before a sensitive action."""
    form = ReauthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user
        with service_errors(form) as run:
            services.throttle_check(username=user.get_username(), address=_address(request))
        if run.error is not None:
            return render(request, "accounts/reauth.html", {
                "form": form, "next": _safe_next(request, "core:home")}, status=run.status)
        if services.step_up_confirm(user=user, password=form.cleaned_data["password"],
                                    code=form.cleaned_data["code"]):
            request.session["auth_at"] = time.time()
            return HttpResponseRedirect(_safe_next(request, "core:home"))
        services.throttle_failure(username=user.get_username(), address=_address(request))
        form.add_error(None, _("The password or the code is not right."))
    return render(request, "accounts/reauth.html", {
        "form": form, "next": _safe_next(request, "core:home")})


def recent_auth(request) -> bool:
    return time.time() - request.session.get("auth_at", 0) <= STEP_UP_SECONDS


def step_up_required(view):
    """Decorator: a sensitive action (exports, break-glass, role changes, referrals) needs the
    password and a code confirmed in the last five minutes."""
    from functools import wraps

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated and not recent_auth(request):
            target = request.get_full_path() if request.method == "GET" else (
                request.headers.get("Referer") or request.get_full_path())
            return HttpResponseRedirect(resolve_url("accounts:reauth") + "?next=" + target)
        return view(request, *args, **kwargs)

    return wrapper


class LogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]

    @method_decorator(transaction.atomic)
    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.session.session_key:
            UserSession.objects.filter(session_key=request.session.session_key).delete()
        return super().post(request, *args, **kwargs)


@login_required
def sessions(request):
    """The user's live sessions, and "sign out everywhere"."""
    if request.method == "POST":
        with transaction.atomic():
            services.sessions_end_all(user=request.user)
        return HttpResponseRedirect(resolve_url("accounts:login"))
    rows = UserSession.objects.filter(user=request.user).order_by("-last_seen")
    return render(request, "accounts/sessions.html", {
        "rows": rows, "current": request.session.session_key})


@login_required
def settings_page(request):
    """The user's own settings: how digits are shown, and the ways to their sessions and
    API tokens."""
    form = DisplayForm(request.POST or None, initial={"digits": request.user.digits})
    if request.method == "POST" and form.is_valid():
        with service_errors(form):
            services.display_digits_set(user=request.user, digits=form.cleaned_data["digits"])
        if not form.errors:
            return HttpResponseRedirect(resolve_url("accounts:settings"))
    return render(request, "accounts/settings.html", {"form": form})


@require_POST
def site_switch(request):
    """Change the site the user is working at (only to one of their own)."""
    if not request.user.is_authenticated:
        return HttpResponseRedirect(resolve_url("accounts:login"))
    form = SiteChoiceForm(request.POST)
    if not form.is_valid() or not access.in_scope(request.user, form.cleaned_data["site_id"]):
        raise NotFound()
    request.session["site_id"] = str(form.cleaned_data["site_id"])
    return HttpResponseRedirect(_safe_next(request, "core:home"))


@require_POST
def language_set(request):
    """Django's language switch, remembered on the account for the next sign-in."""
    from django.views.i18n import set_language

    response = set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language in ("ar", "en"):
        get_user_model().objects.filter(pk=request.user.pk).update(language=language)
    return response
