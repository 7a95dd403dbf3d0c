"""Small SVG charts drawn on the server (no JavaScript, no CDN; DESIGN.md: works offline).

Each function returns a complete ``<svg>`` element as a safe string that both the web page and
WeasyPrint (the PDF) embed inline. Labels are escaped; numbers are written with ASCII digits
and the text direction is left to the page, so Arabic labels are shaped by the browser or by
HarfBuzz in the PDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#1b5e7a", "#d08c2c", "#4f8a3c", "#9c3d54", "#6b5b95", "#3d8c8c", "#8c6d3d",
           "#5a5a5a")


def _nice_max(value: float) -> float:
    """A round upper bound for an axis (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _svg(width: int, height: int, body: list[str], title: str) -> SafeString:
    return mark_safe(  # noqa: S308 — every label below goes through escape()
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mawa-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'style="max-width:{width}px;direction:ltr" direction="ltr" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f"{''.join(body)}</svg>")


def bar_chart(points: Sequence[tuple[str, int]], *, title: str, width: int = 640,
              height: int = 220, colour: str = PALETTE[0]) -> SafeString:
    """Vertical bars, one per (label, value) — for series over time (arrivals per day)."""
    left, bottom, top, right = 40, 36, 12, 10
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max((v for _, v in points), default=0))
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
            f'stroke="#888" stroke-width="1"/>',
            f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">'
            f"{int(peak)}</text>",
            f'<text x="{left - 4}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>']
    n = max(len(points), 1)
    slot = plot_w / n
    bar = max(slot * 0.7, 1)
    every = max(1, n // 10)  # at most about ten labels on the axis
    for i, (label, value) in enumerate(points):
        h = plot_h * value / peak if peak else 0
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h - h
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{escape(str(label))}: {value}</title></rect>')
        if i % every == 0:
            body.append(f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 14}" font-size="9" '
                        f'text-anchor="middle">{escape(str(label))}</text>')
    if not points:
        body.append(f'<text x="{width / 2}" y="{height / 2}" font-size="12" '
                    f'text-anchor="middle">–</text>')
    return _svg(width, height, body, title)


def hbar_chart(points: Sequence[tuple[str, int]], *, title: str, width: int = 560,
               capacity: Sequence[int] | None = None, bar_height: int = 16,
               rtl: bool = False) -> SafeString:
    """Horizontal bars with the label above each bar — for categories (status, materiel,
    blocks). With ``capacity`` each bar is drawn against its capacity (occupancy).

    Labels are HTML, not SVG text: WeasyPrint draws SVG text glyph by glyph, which would break
    the joining of Arabic letters; in HTML they are shaped by HarfBuzz like the rest of the
    page. Only the bars and the figures (ASCII digits) are SVG. In a right-to-left page the
    bars grow from the right."""
    limits = list(capacity) if capacity is not None else None
    peak = _nice_max(max([v for _, v in points] + (limits or []) + [0]))
    plot_w = width - 70
    parts = [f'<figure class="mawa-hbar" role="img" aria-label="{escape(title)}" '
             f'style="margin:0;max-width:{width}px">']
    for i, (label, value) in enumerate(points):
        w = plot_w * value / peak if peak else 0
        cap_w = plot_w * limits[i] / peak if limits is not None and peak else 0
        colour = PALETTE[i % len(PALETTE)] if limits is None else (
            "#9c3d54" if limits[i] and value > limits[i] else PALETTE[0])
        text = f"{value}" if limits is None else f"{value} / {limits[i]}"

        def x(offset: float, length: float) -> float:
            return width - offset - length if rtl else offset

        bars = []
        if limits is not None:
            bars.append(f'<rect x="{x(0, cap_w):.1f}" y="0" width="{cap_w:.1f}" '
                        f'height="{bar_height}" fill="#e4e4e4"/>')
        bars.append(f'<rect x="{x(0, w):.1f}" y="0" width="{w:.1f}" height="{bar_height}" '
                    f'fill="{colour}"/>')
        tx = width - max(w, cap_w) - 4 if rtl else max(w, cap_w) + 4
        bars.append(f'<text x="{tx:.1f}" y="{bar_height - 4}" font-size="11" '
                    f'text-anchor="{"end" if rtl else "start"}">{text}</text>')
        parts.append(f'<div class="mawa-hbar-label" style="font-size:0.85em">{escape(str(label))}'
                     f'</div><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} '
                     f'{bar_height}" width="100%" style="direction:ltr;display:block;'
                     f'max-width:{width}px" direction="ltr" aria-hidden="true">{"".join(bars)}'
                     f'</svg>')
    if not points:
        parts.append("<div>–</div>")
    parts.append("</figure>")
    return mark_safe("".join(parts))  # noqa: S308 — labels escaped above
