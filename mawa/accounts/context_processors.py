from django.urls import NoReverseMatch, reverse

from mawa.accounts import access
from mawa.core.nav import NAV


def navigation(request):
    """The menu of the signed-in user: the entries their role may open (``core.nav``), those
    registered under another entry as its drop-down. ``user_perms`` lets a page's own tabs
    show only what the role may open, too."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    perms = access.permissions_of(user)
    visible, by_name = [], {}
    for entry in NAV:
        if entry.permission not in perms:
            continue
        try:
            url = reverse(entry.url_name, kwargs=dict(entry.kwargs) or None)
        except NoReverseMatch:
            continue
        item = {"url": url, "label": entry.label, "children": [],
                "active": request.path.startswith(url) and url != "/"}
        visible.append((entry, item))
        if not entry.kwargs:
            by_name.setdefault(entry.url_name, item)
    items = []
    for entry, item in visible:
        parent = by_name.get(entry.menu) if entry.menu else None
        if parent is not None and parent is not item:
            parent["children"].append(item)
            parent["active"] = parent["active"] or item["active"]
        else:
            items.append(item)
    return {"nav": items, "current_site": getattr(request, "site", None),
            "user_sites": getattr(request, "user_sites", []), "user_perms": perms}
