"""The camp plan as inline SVG: blocks coloured by fill, each a link to its block page; a
block's plan shows its shelters, each a link to the shelter. Built on the server from the
layout (no script), every text escaped."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from mawa.camp.selectors import BlockView, Layout, fill_class

COLOURS = {"fill-none": "#e9ecef", "fill-low": "#b7e4c7", "fill-mid": "#ffe08a",
           "fill-high": "#f4a261", "fill-over": "#e5383b"}


def _label(occupied: int, capacity: int) -> str:
    return f"{occupied}/{capacity}"


def camp_svg(layout: Layout):
    """The whole camp: one rectangle per block at its plan position."""
    if not layout.blocks:
        return ""
    w = max(b.block.x + b.block.width for b in layout.blocks) + 10
    h = max(b.block.y + b.block.height for b in layout.blocks) + 10
    parts = [f'<svg viewBox="0 0 {w} {h}" role="img" class="camp-plan" '
             f'aria-label="{escape(_("Camp plan"))}" xmlns="http://www.w3.org/2000/svg">']
    for b in layout.blocks:
        x, y, bw, bh = b.block.x, b.block.y, b.block.width, b.block.height
        cls = b.fill_class
        title = escape(_("Block %(name)s: %(occupied)s of %(capacity)s places taken")
                       % {"name": b.block.name, "occupied": b.occupied, "capacity": b.capacity})
        parts.append(
            f'<a href="{reverse("camp:block", args=[b.block.id])}" '
            f'data-block="{escape(b.block.name)}">'
            f'<title>{title}</title>'
            f'<rect x="{x}" y="{y}" width="{bw}" height="{bh}" rx="6" fill="{COLOURS[cls]}" '
            f'stroke="#1f5f4a" stroke-width="2" class="{cls}"/>'
            f'<text x="{x + bw / 2}" y="{y + bh / 2 - 4}" text-anchor="middle" '
            f'font-size="18" font-weight="bold">{escape(b.block.name)}</text>'
            f'<text x="{x + bw / 2}" y="{y + bh / 2 + 18}" text-anchor="middle" font-size="14" '
            f'direction="ltr">{_label(b.occupied, b.capacity)}</text></a>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text above is escaped)


def block_svg(view: BlockView):
    """One block: its shelters in a grid, coloured by fill, each linking to the shelter."""
    shelters = view.shelters
    if not shelters:
        return ""
    cols = min(len(shelters), 6)
    rows = (len(shelters) + cols - 1) // cols
    cw, ch, gap = 110, 70, 8
    w, h = cols * (cw + gap) + gap, rows * (ch + gap) + gap
    parts = [f'<svg viewBox="0 0 {w} {h}" role="img" class="camp-plan" '
             f'aria-label="{escape(_("Block plan"))}" xmlns="http://www.w3.org/2000/svg">']
    for i, s in enumerate(shelters):
        x = gap + (i % cols) * (cw + gap)
        y = gap + (i // cols) * (ch + gap)
        cls = fill_class(s.fill, s.shelter.capacity)
        title = escape(_("Shelter %(name)s: %(occupied)s of %(capacity)s places taken")
                       % {"name": s.shelter.name, "occupied": s.occupied,
                          "capacity": s.shelter.capacity})
        parts.append(
            f'<a href="{reverse("camp:shelter", args=[s.shelter.id])}">'
            f'<title>{title}</title>'
            f'<rect x="{x}" y="{y}" width="{cw}" height="{ch}" rx="4" fill="{COLOURS[cls]}" '
            f'stroke="#1f5f4a" class="{cls}"/>'
            f'<text x="{x + cw / 2}" y="{y + 30}" text-anchor="middle" font-size="16" '
            f'font-weight="bold">{escape(s.shelter.name)}</text>'
            f'<text x="{x + cw / 2}" y="{y + 52}" text-anchor="middle" font-size="13" '
            f'direction="ltr">{_label(s.occupied, s.shelter.capacity)}</text></a>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text above is escaped)
