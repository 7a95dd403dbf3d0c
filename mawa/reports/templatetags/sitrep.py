from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def fig(context, value, url=""):
    """A figure of the report, linked to the records behind it when the page allows links
    (the selectors give a URL only to roles allowed to see those records)."""
    if value is None:
        value = "—"
    if url and context.get("links"):
        return format_html('<a href="{}" class="num">{}</a>', url, value)
    return format_html('<span class="num">{}</span>', value)
