"""One way for every benchmark under ``bench/`` to report a figure: a line of JSON on standard
output, after the human-readable lines the script prints anyway.

    MAWA-FIGURE {"name": "import", "value": 41.2, "unit": "s", "cpu_s": 40.8, "wall_s": 41.2, …}

``bench/run_all.py`` runs each script, picks these lines out of its output and rewrites the
table of ``docs/benchmarks.md`` from them; run alone, a script prints them too (one line per
figure, easy to grep). Fields: ``name`` (the figure's key, e.g. ``registry.save_p95``),
``value`` and ``unit`` (``ms``, ``s``, ``MB`` …), and when the script knows them ``cpu_s`` and
``wall_s`` (what the figure cost in CPU and wall-clock seconds: the figures to trust on a
shared machine are CPU), ``size`` (rows, persons …) and any other detail.
"""

from __future__ import annotations

import json
import sys

PREFIX = "MAWA-FIGURE "


def figure(name: str, value: float, unit: str, *, cpu_s: float | None = None,
           wall_s: float | None = None, **detail) -> dict:
    """Print one figure as a ``MAWA-FIGURE`` line (flushed) and return it."""
    row = {"name": name, "value": value, "unit": unit}
    if cpu_s is not None:
        row["cpu_s"] = round(cpu_s, 3)
    if wall_s is not None:
        row["wall_s"] = round(wall_s, 3)
    row.update(detail)
    sys.stdout.write(PREFIX + json.dumps(row, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()
    return row


def figures_parse(text: str) -> list[dict]:
    """The figures printed in ``text`` (a script's output), in order."""
    out = []
    for line in text.splitlines():
        if line.startswith(PREFIX):
            out.append(json.loads(line[len(PREFIX):]))
    return out
