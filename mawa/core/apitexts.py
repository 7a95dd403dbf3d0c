"""django-ninja's own refusals in the user's language.

ninja answers some requests with fixed English texts of its own (``{"detail": "Unauthorized"}``,
``"Cannot parse request body"`` …). ``mawa.api`` answers them with these instead, translated
like every other message of Mawa (the Arabic is in this app's catalogue).
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# ninja's text (its start, for those it completes with details in DEBUG) → Mawa's message
NINJA_TEXTS: dict[str, Promise] = {
    "Unauthorized": _("You are not signed in."),
    "Forbidden": _("Your role does not allow this."),
    "Cannot parse request body": _("The request body cannot be read: send a JSON object."),
    "CSRF check Failed": _("The CSRF check failed: send the X-CSRFToken header with the token "
                           "of your session."),
    "CSRF check failed": _("The CSRF check failed: send the X-CSRFToken header with the token "
                           "of your session."),
    "Too many requests.": _("Too many requests: try again later."),
    "Not Found": _("Not found."),
    "Method not allowed": _("This method is not allowed here."),
}


def ninja_text(text: str) -> str:
    """``text`` in the active language when it is one of ninja's own, else as it is."""
    for english, message in NINJA_TEXTS.items():
        if text == english or text.startswith(f"{english} ("):
            return str(message)
    return text
