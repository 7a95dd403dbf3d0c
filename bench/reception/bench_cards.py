"""Time ID-card rendering per card at growing batch sizes (issue 16: time per card must not
grow with the batch).

    .venv/bin/python bench/reception/bench_cards.py                # 50, 200, 1200 cards
    .venv/bin/python bench/reception/bench_cards.py --sizes 8 32 80 --single

Generates its own cards in memory (unsaved persons with Arabic and Latin names, a QR code each,
a photo for every third), no database. By default renders through ``idcards_render`` — the
chunked renderer the job and ``mawa cards`` use, with ``MAWA_PDF_PROCESSES`` worker processes
(``--processes N`` overrides it; 1 renders in this process); ``--single`` renders each batch as
one WeasyPrint document instead (the old way, for comparison: do not run it at 1,200).

Prints, per batch: wall-clock seconds and cards per second; CPU seconds of this process and of
the worker processes together, and CPU milliseconds per card (compare CPU on a shared machine:
wall time depends on what else runs); pages. At the end, the ratio of the time per card at the
largest batch to that at the smallest, in wall and CPU time (issue 16: at most 1.5 from 50 to
1,200 cards, and 1,200 cards in at most 60 s of wall time).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.figures import figure  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mawa.settings_test")

GIVEN = [("محمد", "Mohammed"), ("أحمد", "Ahmed"), ("علي", "Ali"), ("خالد", "Khaled"),
         ("فاطمة", "Fatima"), ("زينب", "Zainab"), ("حسن", "Hassan"), ("مريم", "Maryam")]
FAMILY = [("الحسيني", "Al-Husseini"), ("العمر", "Al-Omar"), ("الخطيب", "Al-Khatib"),
          ("النجار", "Al-Najjar"), ("الشامي", "Al-Shami")]


def _photo() -> bytes:
    # a small JPEG made with Pillow (WeasyPrint's own dependency), like a webcam snapshot
    from PIL import Image

    img = Image.new("RGB", (240, 320), (180, 160, 140))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def make_cards(n: int, *, seed: int = 16) -> list[dict]:
    import base64

    from mawa.core.models import Site
    from mawa.reception.idcards import qr_data_uri
    from mawa.reception.models import ArrivalGroup, Person

    rnd = random.Random(seed)
    site = Site(code="C1", name_ar="مخيم الشمال", name_en="North camp")
    group = ArrivalGroup(short_code="GRP-00016-X")
    photo = "data:image/jpeg;base64," + base64.b64encode(_photo()).decode()
    cards = []
    for i in range(n):
        (g_ar, g_lat), (f_ar, f_lat) = rnd.choice(GIVEN), rnd.choice(FAMILY)
        person = Person(given_ar=g_ar, given_lat=g_lat, family_ar=f_ar, family_lat=f_lat,
                        sex=rnd.choice(["male", "female"]), birth_year=rnd.randint(1950, 2008),
                        current_site=site, group=group)
        person.short_code = f"RHM-{i + 1:05d}-K"
        cards.append({"person": person, "qr": qr_data_uri(person.short_code),
                      "photo": photo if i % 3 == 0 else ""})
    return cards


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the PDF workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 1200])
    ap.add_argument("--kind", choices=["card", "wristband"], default="card")
    ap.add_argument("--processes", type=int, default=None,
                    help="PDF worker processes (default: the MAWA_PDF_PROCESSES setting)")
    ap.add_argument("--single", action="store_true",
                    help="one WeasyPrint document per batch (the old, super-linear way)")
    args = ap.parse_args()
    import django

    django.setup()
    from django.conf import settings
    from pypdf import PdfReader

    from mawa.core.pdf import pdf_processes, render_pdf
    from mawa.reception.idcards import idcards_render, template_for

    if args.processes is not None:
        settings.MAWA_PDF_PROCESSES = args.processes
    print(f"{args.kind}s, {'one document' if args.single else 'chunked'}, "
          f"{pdf_processes()} PDF process(es), {os.cpu_count()} CPU(s)")
    print(f"{'cards':>6} {'wall s':>8} {'cards/s':>8} {'cpu s':>8} {'cpu ms/card':>12} "
          f"{'pages':>6}")
    per_card = []
    for n in args.sizes:
        cards = make_cards(n)
        wall, cpu = time.perf_counter(), _cpu()
        if args.single:
            from django.utils import timezone

            pdf = render_pdf(template_for(args.kind), {"cards": cards,
                                                       "printed_at": timezone.now()})
        else:
            pdf = idcards_render(cards, fmt=args.kind)
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        per_card.append((wall / n, cpu / n))
        print(f"{n:>6} {wall:>8.2f} {n / wall:>8.1f} {cpu:>8.2f} {1000 * cpu / n:>12.1f} "
              f"{pages:>6}", flush=True)
    figure("cards.batch_s", round(wall, 2), "s", cards=n, cpu_s=cpu, wall_s=wall)
    if len(per_card) > 1:
        (w0, c0), (w1, c1) = per_card[0], per_card[-1]
        print(f"time per card, {args.sizes[-1]} / {args.sizes[0]} cards: "
              f"wall {w1 / w0:.2f}, cpu {c1 / c0:.2f}")
        figure("cards.per_card_ratio", round(w1 / w0, 2), "×", cpu_ratio=round(c1 / c0, 2))


if __name__ == "__main__":
    main()
