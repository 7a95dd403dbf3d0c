from django.urls import NoReverseMatch, reverse

from mawa.accounts import access
from mawa.core.nav import NAV


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    perms = access.permissions_of(user)
    items = []
    for entry in NAV:
        if entry.permission in perms:
            try:
                url = reverse(entry.url_name)
            except NoReverseMatch:
                continue
            items.append({"url": url, "label": entry.label,
                          "active": request.path.startswith(url) and url != "/"})
    return {"nav": items, "current_site": getattr(request, "site", None),
            "user_sites": getattr(request, "user_sites", [])}
