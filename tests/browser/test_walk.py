"""Issue 21, point 9: every role walks the menus in Arabic and in English, in a real browser.

On every page reached from a menu (and one page of each kind linked from those), it asserts:
- no visible ``snake_case`` token and no raw id (uuid, ``person/…``, ``custody/RHM``, ``x#123``);
- on Arabic pages, no catalogue entry (store, materiel model) shown by its Latin name only;
- on the yard and gate pages (point 2), no sideways scroll on a 390 px phone;
- no link shown to the role answers 403 or 404.

Kept fast: one browser, the session's live server, the demo scenario with two small arrival
groups (the shape of the real operation, a hundredth of its size), loaded once; everything is
walked in one test that lists every problem found before failing.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = 390
#: the yard and gate pages of point 2 (path patterns, "*" for an id or code segment)
PHONE_PAGES = {"/reception/persons/", "/custody/", "/custody/items/", "/camp/rollcalls/",
               "/camp/rollcalls/*/", "/camp/distributions/", "/reports/"}
#: links not walked: files (PDF, CSV, images), Django's own admin, signing out
SKIP = re.compile(r"(pdf|csv|\.png|/photo|/file|/download|/label|idcard|/admin/|logout|"
                  r"format=|/api/|/export|\.hxl|/stored/[0-9a-f-]{36})", re.I)
PAGES_PER_WALK = 60

SNAKE = re.compile(r"(?<![\w./@:-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/@-])")
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
STREAM = re.compile(r"\b(?:person|group|custody|camp|event|source|match|watchlist|audit|"
                    r"break-glass|retention)/[\w-]+")
HASH_ID = re.compile(r"\b[A-Za-z]+#\d+\b")


def pattern(path: str) -> str:
    """``/reception/persons/0190…/`` → ``/reception/persons/*/``: one page of each kind."""
    return "/".join("*" if re.search(r"\d", part) else part for part in path.split("/"))


def catalogue_latin_only() -> list[str]:
    """Latin names of catalogue entries that have an Arabic name (so their Latin name must
    not be what an Arabic page shows). Until the catalogue carries Arabic names (``name_ar``
    on custody's Store and MaterielModel, helper demo15), there is nothing to check."""
    from mawa.custody.models import MaterielModel, Store

    names = []
    for model in (Store, MaterielModel):
        fields = {f.name for f in model._meta.get_fields()}
        if "name_ar" not in fields:
            continue
        names += [n for n, ar in model.objects.values_list("name", "name_ar")
                  if ar and n and n != ar and len(n) > 3]
    return names


def catalogue_arabic_names() -> list[str]:
    """The Arabic names of the catalogue and the stores."""
    from mawa.custody.models import MaterielModel, Store

    return [ar for model in (Store, MaterielModel)
            for ar in model.objects.exclude(name_ar="").values_list("name_ar", flat=True)]


def stored_choice_values() -> set[str]:
    """Every stored value of an enumeration (``wounded``, ``serviceable``…): on an Arabic page
    one of them, alone in Latin letters, is a value shown raw instead of by its label."""
    from django.apps import apps

    values = set()
    for model in apps.get_models():
        if not model.__module__.startswith("mawa."):
            continue
        for field in model._meta.get_fields():
            for key, _label in getattr(field, "flatchoices", None) or ():
                if isinstance(key, str) and re.fullmatch(r"[a-z]{4,}", key):
                    values.add(key)
    return values


#: the visible texts of leaf elements (no element inside), outside English-marked parts
LEAF_TEXTS = """() => Array.from(document.body.querySelectorAll('*')).filter(e =>
  !e.children.length && e.offsetParent !== null && !e.closest('[lang=en], script, style'))
  .map(e => e.textContent.trim()).filter(t => t)"""


def page_problems(text: str, *, arabic: bool, latin_names: list[str],
                  arabic_names: list[str] = (),
                  choice_values: frozenset[str] = frozenset(), leaves=()) -> list[str]:
    found = []
    found += [f"snake_case {m!r}" for m in SNAKE.findall(text)]
    found += [f"uuid {m!r} in {text[max(0, text.find(m) - 40):text.find(m)]!r}"
              for m in UUID.findall(text)]
    found += [f"stream id {m!r}" for m in STREAM.findall(text)]
    found += [f"raw id {m!r}" for m in HASH_ID.findall(text)]
    if arabic:
        # an Arabic name may carry the international designation ("بندقية كلاشنكوف AK-47"):
        # the Latin name counts only where no Arabic name covers it
        bare = text
        for arabic_name in sorted(arabic_names, key=len, reverse=True):
            bare = bare.replace(arabic_name, "")
        found += [f"Latin-only catalogue name {n!r}" for n in latin_names if n in bare]
        for leaf in leaves:  # a cell or value that is nothing but stored values
            parts = [p.strip() for p in re.split(r"[,·،]", leaf) if p.strip()]
            if parts and all(p in choice_values for p in parts):
                found.append(f"raw value {leaf!r}")
    return sorted(set(found))


def walk(context, base: str, *, language: str, latin_names, choice_values,
         phone_page, reached: set[str], arabic_names=()) -> list[str]:
    page = context.new_page()
    page.set_default_timeout(15000)
    problems: list[str] = []
    page.goto(base + "/")
    assert page.locator("html").get_attribute("lang") == language
    menu = [urljoin(base, h) for h in page.eval_on_selector_all(
        "#mainnav a.nav-link", "els => els.map(e => e.getAttribute('href'))")]
    queue = [(base + "/", "home", 0)] + [(u, "menu", 0) for u in menu]
    seen_patterns: set[str] = set()
    visited = 0
    while queue and visited < PAGES_PER_WALK:
        url, came_from, depth = queue.pop(0)
        parts = urlsplit(url)
        if parts.netloc != urlsplit(base).netloc or SKIP.search(url):
            continue
        key = pattern(parts.path)
        if key in seen_patterns:
            continue
        seen_patterns.add(key)
        reached.add(key)
        response = page.goto(url)
        visited += 1
        status = response.status if response else 0
        where = f"{language} {parts.path}"
        if status in (403, 404) or status >= 500:
            problems.append(f"{where}: answers {status} (linked from {came_from})")
            continue
        if page.locator("html").get_attribute("lang") != language:
            continue  # a file or a page outside the site's frame
        text = page.evaluate("document.body.innerText")
        leaves = page.evaluate(LEAF_TEXTS) if language == "ar" else []
        problems += [f"{where}: {p}" for p in page_problems(
            text, arabic=language == "ar", latin_names=latin_names,
            arabic_names=arabic_names, choice_values=choice_values, leaves=leaves)]
        if key in PHONE_PAGES:
            phone_page.goto(url)
            width = phone_page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE:
                problems.append(f"{where}: {width} px wide on a {PHONE} px phone")
        if depth < 2:  # two levels below the menus: lists, then one record of each kind
            hrefs = page.eval_on_selector_all(
                "main a[href]", "els => els.map(e => e.getAttribute('href'))")
            queue += [(urljoin(url, h), parts.path, depth + 1) for h in hrefs
                      if h and not h.startswith(("#", "mailto:", "javascript:"))]
    page.close()
    return problems


def test_every_role_walks_the_menus_in_both_languages(chromium, live_server, small_operation,
                                                      login_in_browser):
    base = live_server.url
    latin_names = catalogue_latin_only()
    arabic_names = catalogue_arabic_names()
    # user names are chosen by people (the demo's "auditor" is a name, not a raw role)
    choice_values = frozenset(stored_choice_values() - {a["username"] for a in small_operation})
    problems: list[str] = []
    reached: set[str] = set()
    for account in small_operation:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.set_default_timeout(15000)
            page.base = base
            login_in_browser(page, account["username"], account["password"])
            phone = chromium.new_context(viewport={"width": PHONE, "height": 844},
                                         storage_state=context.storage_state())
            try:
                phone_page = phone.new_page()
                for language in ("ar", "en"):
                    for ctx in (context, phone):
                        ctx.add_cookies([{"name": "django_language", "value": language,
                                          "url": base}])
                    problems += [f"{account['username']} {p}" for p in walk(
                        context, base, language=language, latin_names=latin_names,
                        arabic_names=arabic_names,
                        choice_values=choice_values, phone_page=phone_page,
                        reached=reached)]
            finally:
                phone.close()
        finally:
            context.close()
    assert not problems, "\n".join(problems)
    # the walk did reach the records, not only the menus
    assert reached >= PHONE_PAGES, PHONE_PAGES - reached
    assert {"/reception/persons/*/", "/reception/groups/*/", "/custody/items/*/",
            "/custody/stores/*/", "/camp/blocks/*/", "/accountability/events/*/"} <= reached, \
        sorted(reached)
