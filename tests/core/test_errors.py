"""Every ``MawaError`` subclass, wherever it is defined, has its place in the exception tree of
``core/errors.py`` and maps to a page, a JSON body and a command-line message.

The classes are found by importing every module of Mawa and walking
``MawaError.__subclasses__()``: a new error class without a line in the tree fails here.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re

import pytest
from django.core.management.base import CommandError
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import path
from django.utils import translation
from django.utils.html import escape

import mawa
from mawa import urls as mawa_urls
from mawa.accounts.roles import Role
from mawa.api import api
from mawa.core import errors
from mawa.core.errors import MawaError
from mawa.core.management.base import MawaCommand, cli_language
from mawa.core.middleware import DomainErrorMiddleware

# not imported: settings (each configures Django), the WSGI entry point, migrations
_SKIP = re.compile(r"^mawa\.(settings\w*|wsgi)$|\.migrations(\.|$)")


def _import_all() -> None:
    for info in pkgutil.walk_packages(mawa.__path__, "mawa."):
        if not _SKIP.search(info.name):
            importlib.import_module(info.name)


def _subclasses(cls) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("mawa."):
            found.append(sub)
        found += _subclasses(sub)
    return found


_import_all()
CLASSES = sorted(set(_subclasses(MawaError)), key=lambda c: (c.__module__, c.__name__))
_BY_NAME = {c.__name__: c for c in [MawaError, *CLASSES]}


def _tree() -> dict[str, tuple[int, str | None]]:
    """The documented tree: class name → (status, parent name)."""
    doc = errors.__doc__ or ""
    block = doc[doc.index("Exception tree"):]
    out: dict[str, tuple[int, str | None]] = {}
    parents: list[str] = []
    for line in block.splitlines():
        m = re.match(r"^ {4}([│├└─ ]*)([A-Z]\w+)\s+(\d{3})\s", line)
        if not m:
            continue
        depth = len(m.group(1)) // 4
        parents[depth:] = [m.group(2)]
        out[m.group(2)] = (int(m.group(3)), parents[depth - 1] if depth else None)
    return out


def _instance(cls) -> MawaError:
    """An instance as the code raises it: the class's own message, or a required argument."""
    required = [p for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
                if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY,
                                                       p.POSITIONAL_OR_KEYWORD)]
    return cls(*[3] * len(required))


def test_every_error_class_is_found():
    names = {c.__name__ for c in CLASSES}
    # the ones defined outside core/errors.py, so that a broken walk cannot pass unnoticed
    assert {"ImportRefused", "Refused", "Throttled", "KeyMissing", "CompartmentKeyError",
            "BackupInvalid", "DatabaseEncryptionRefused"} <= names
    assert len(names) == len(CLASSES), "two error classes share a name: the tree needs one each"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_the_tree_names_every_class_with_its_status_and_parent(cls):
    tree = _tree()
    assert cls.__name__ in tree, (
        f"{cls.__module__}.{cls.__name__} is missing from the exception tree in core/errors.py")
    status, parent = tree[cls.__name__]
    assert status == cls.status
    assert _BY_NAME[parent] in cls.__bases__


def test_the_tree_names_no_class_that_does_not_exist():
    assert set(_tree()) == set(_BY_NAME)


# --- the three mappings --------------------------------------------------------------------

def _raise(request, name):
    raise _instance(_BY_NAME[name])


urlpatterns = [*mawa_urls.urlpatterns, path("__raise__/<str:name>", _raise)]


@pytest.mark.django_db
@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_a_page_answers_its_status_with_the_message(cls, settings, users, client_for):
    settings.ROOT_URLCONF = __name__
    client = client_for(users[Role.RECEPTION_OFFICER])
    response = client.get(f"/__raise__/{cls.__name__}")
    assert response.status_code == cls.status
    with translation.override("ar"):  # Arabic first: the page speaks the user's language
        message = escape(str(_instance(cls).message))
    assert message in response.content.decode()
    assert f'data-error-code="{_instance(cls).code}"' in response.content.decode()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_the_api_answers_a_json_body(cls):
    exc = _instance(cls)
    if not exc.fields:
        exc.fields = {"name": ["This field is required."]}
    request = RequestFactory().post("/api/anything", content_type="application/json")
    for response in (api.on_exception(request, exc),
                     DomainErrorMiddleware(lambda r: HttpResponse()).process_exception(
                         RequestFactory().get("/api/anything",
                                              HTTP_ACCEPT="application/json"), exc)):
        assert response.status_code == cls.status
        body = json.loads(response.content)
        assert body == {"code": exc.code, "message": str(exc.message),
                        "fields": {"name": ["This field is required."]}}


class _Raiser(MawaCommand):
    help = "raises the error it is given"

    def __init__(self, error: MawaError):
        super().__init__()
        self.error = error

    def handle(self, *args, **options):
        raise self.error


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_a_command_prints_the_message_and_exits_non_zero(cls, capsys):
    with translation.override(cli_language()):
        exc = _instance(cls)
        expected = str(exc.message)
    with pytest.raises(SystemExit) as exit_:
        _Raiser(exc).run_from_argv(["mawa", "raiser"])
    assert exit_.value.code != 0
    assert expected in capsys.readouterr().err
    with pytest.raises(CommandError) as err:
        _Raiser(exc).execute(no_color=True, force_color=False, skip_checks=True)
    assert exit_.value.code == err.value.returncode == (2 if cls.status < 500 else 1)
