"""Time ID-card rendering per card at growing batch sizes (issue 16: time per card must not
grow with the batch).

    .venv/bin/python bench/reception/bench_cards.py                # 50, 200, 1200 cards
    .venv/bin/python bench/reception/bench_cards.py --sizes 8 32 80 --single

Generates its own cards in memory (unsaved persons with Arabic and Latin names, a QR code each,
a photo for every third), no database. By default renders through ``idcards_render`` — the
chunked renderer the job and ``mawa cards`` use; ``--single`` renders each batch as one
WeasyPrint document instead (the old way, for comparison: do not run it at 1,200). Prints
wall-clock and CPU seconds, seconds per card, and pages.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 1200])
    ap.add_argument("--kind", choices=["card", "wristband"], default="card")
    ap.add_argument("--single", action="store_true",
                    help="one WeasyPrint document per batch (the old, super-linear way)")
    args = ap.parse_args()
    import django

    django.setup()
    from pypdf import PdfReader

    from mawa.core.pdf import render_pdf
    from mawa.reception.idcards import idcards_render, template_for

    print(f"{'cards':>6} {'wall s':>8} {'cpu s':>8} {'ms/card':>8} {'pages':>6}")
    for n in args.sizes:
        cards = make_cards(n)
        wall, cpu = time.perf_counter(), time.process_time()
        if args.single:
            from django.utils import timezone

            pdf = render_pdf(template_for(args.kind), {"cards": cards,
                                                       "printed_at": timezone.now()})
        else:
            pdf = idcards_render(cards, fmt=args.kind)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        print(f"{n:>6} {wall:>8.2f} {cpu:>8.2f} {1000 * wall / n:>8.1f} {pages:>6}",
              flush=True)


if __name__ == "__main__":
    main()
