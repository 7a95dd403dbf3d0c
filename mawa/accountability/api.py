"""The compartment's API, mounted at /api/accountability/.

To anyone without the compartment's permission — signed out included — every endpoint answers
exactly what an unknown URL answers (Django's 404 page, not ninja's 401 or JSON 404), and the
endpoints are left out of the OpenAPI schema so that /api/docs does not reveal them. Session
authentication and its CSRF check are applied here, by ``_guard``, for the same reason.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from functools import wraps
from typing import cast

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import get_resolver
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from mawa.accountability import selectors, services
from mawa.accountability.models import DatePrecision, Event
from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.errors import NotFound
from mawa.core.models import SiteKind

router = Router(tags=["accountability"], auth=None)


# Django's 404 handler takes the request and the exception (django-stubs types every error
# handler as taking the request alone)
Handler404 = Callable[[HttpRequest, Exception], HttpResponse]


def _unknown_url(request: HttpRequest) -> HttpResponse:
    handler = cast(Handler404, get_resolver().resolve_error_handler(404))
    return handler(request, Http404())


def _csrf_only(request: HttpRequest) -> HttpResponse:
    """Stands for the view and the rest of the chain when the CSRF middleware is asked for
    its check alone: never called."""
    raise NotImplementedError


def _guard(perm: str):
    def decorator(func):
        @access.hidden(perm)  # to anyone else: an unknown URL, before ninja reads anything
        @wraps(func)
        def wrapper(request, *args, **kwargs):
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                from django.middleware.csrf import CsrfViewMiddleware

                reason = CsrfViewMiddleware(_csrf_only).process_view(request, _csrf_only, (),
                                                                     {})
                if reason is not None:
                    raise HttpError(403, "CSRF check failed")
            try:
                return func(request, *args, **kwargs)
            except NotFound:
                return _unknown_url(request)

        return wrapper

    return decorator


class EventOut(Schema):
    id: uuid.UUID
    short_code: str
    title: str
    place: str
    date_start: dt.date | None
    date_end: dt.date | None
    date_precision: str


class EventIn(Schema):
    client_key: uuid.UUID
    title: str
    description: str = ""
    place: str = ""
    date_start: dt.date | None = None
    date_end: dt.date | None = None
    date_precision: str = DatePrecision.UNKNOWN


class EvidenceOut(Schema):
    id: uuid.UUID
    short_code: str
    event_id: uuid.UUID
    derivation: str
    kind: str
    sha256: str
    size: int


def _event(e: Event) -> dict:
    return {"id": e.id, "short_code": e.short_code, "title": e.title, "place": e.place,
            "date_start": e.date_start, "date_end": e.date_end,
            "date_precision": e.date_precision}


@router.get("/events", response=list[EventOut], include_in_schema=False)
@_guard(Perm.COMPARTMENT_VIEW)
def events_list(request, q: str = ""):
    events = selectors.event_search(user=request.user, text=q) if q else \
        selectors.event_list(user=request.user)
    return [_event(e) for e in events]


@router.post("/events", response={201: EventOut}, include_in_schema=False)
@_guard(Perm.COMPARTMENT_EDIT)
def event_create(request, payload: EventIn):
    sites = list(access.sites_for(request.user))
    site = next((s for s in sites if s.kind == SiteKind.HQ), None) or sites[0]
    event = services.event_create(actor=request.user, site=site, **payload.dict())
    return Status(201, _event(event))


@router.get("/events/{event_id}", response=EventOut, include_in_schema=False)
@_guard(Perm.COMPARTMENT_VIEW)
def event_get(request, event_id: str):
    return _event(selectors.event_get(user=request.user, event_id=event_id))


@router.get("/evidence/{evidence_id}", response=EvidenceOut, include_in_schema=False)
@_guard(Perm.COMPARTMENT_VIEW)
def evidence_get(request, evidence_id: str):
    item = selectors.evidence_get(user=request.user, evidence_id=evidence_id)
    return {"id": item.id, "short_code": item.short_code, "event_id": item.event_id,
            "derivation": item.derivation, "kind": item.kind, "sha256": item.sha256,
            "size": item.size}
