from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from mawa.accounts import access
from mawa.accounts.forms import LoginForm, SiteChoiceForm
from mawa.core.errors import NotFound


@method_decorator(transaction.atomic, name="post")
class LoginView(auth_views.LoginView):
    """Django's login (which rotates the session id), audited in the same transaction."""

    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        # Work in the language the user chose last time, unless they just chose one here.
        if user.language and "django_language" not in self.request.COOKIES:
            response.set_cookie("django_language", user.language, samesite="Lax",
                                httponly=True)
        return response


class LogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]

    @method_decorator(transaction.atomic)
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


@require_POST
def site_switch(request):
    """Change the site the user is working at (only to one of their own)."""
    if not request.user.is_authenticated:
        return HttpResponseRedirect(resolve_url("accounts:login"))
    form = SiteChoiceForm(request.POST)
    if not form.is_valid() or not access.in_scope(request.user, form.cleaned_data["site_id"]):
        raise NotFound()
    request.session["site_id"] = str(form.cleaned_data["site_id"])
    return HttpResponseRedirect(request.POST.get("next") or resolve_url("core:home"))


@require_POST
def language_set(request):
    """Django's language switch, remembered on the account for the next sign-in."""
    from django.views.i18n import set_language

    response = set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language in ("ar", "en"):
        get_user_model().objects.filter(pk=request.user.pk).update(language=language)
    return response
