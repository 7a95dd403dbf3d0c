"""Who is acting, from where: set per request (or per CLI command) and read by the audit trail."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class ActionContext:
    address: str = ""
    site_code: str = ""
    channel: str = "web"  # web | api | cli | system
    request_id: str = ""


_current: contextvars.ContextVar[ActionContext] = contextvars.ContextVar(
    "mawa_action_context", default=ActionContext(channel="system")
)


def current() -> ActionContext:
    return _current.get()


def set_current(ctx: ActionContext) -> contextvars.Token:
    return _current.set(ctx)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)
