"""Announcements between layers: a lower app says what happened, the apps above it listen.

The layers let an app import only those below it (``docs/developing.md``), yet a lower app's
write often has consequences above it: a person registered at the crossing must be indexed
for duplicate suggestions and screened against the watch lists (matching, which hangs off
reception). Reception does not import matching; it *announces* ``person.registered`` and
matching, in its ``AppConfig.ready``, registers what it does then. The same pattern as
``nav_register`` and ``panel_register``, for writes.

Two kinds of hook:

- ``hook_emit(event, **kw)`` — a notification. Listeners run in registration order, in the
  caller's database transaction (the announcement is part of the write: if a listener fails,
  the whole write is rolled back and nothing is half-written).
- ``hook_ask(event, **kw)`` — a question to the layers above ("who else looks like these
  rows?"); returns each listener's answer, in registration order. No listener: an empty list.

Events are plain strings named ``<thing>.<what happened>`` (``person.registered``); each
emitting module documents the keyword arguments it passes. Listeners take ``**kw`` beyond what
they use, so an event can grow an argument without breaking them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Listener = Callable[..., Any]

_LISTENERS: dict[str, list[Listener]] = {}


def hook_register(event: str, listener: Listener) -> None:
    """Call ``listener(**kw)`` whenever ``event`` is emitted or asked. Registering the same
    function twice (``ready()`` run again by a test runner) keeps one."""
    listeners = _LISTENERS.setdefault(event, [])
    if listener not in listeners:
        listeners.append(listener)


def hook_emit(event: str, **kw: Any) -> None:
    """Announce ``event``: every listener runs now, in order, in the caller's transaction."""
    for listener in _LISTENERS.get(event, ()):
        listener(**kw)


def hook_ask(event: str, **kw: Any) -> list[Any]:
    """Ask ``event`` of every listener; their answers in registration order."""
    return [listener(**kw) for listener in _LISTENERS.get(event, ())]


def hook_listeners(event: str) -> tuple[Listener, ...]:
    """The listeners of ``event`` (for tests and for the developer docs)."""
    return tuple(_LISTENERS.get(event, ()))
