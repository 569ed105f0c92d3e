"""The customer portal: ``/my``.

    GET  /my                              home: a count per kind of document
    GET  /my/{kind}?page=&sortby=&search= a list (20 a page)
    GET  /my/{kind}/{id}                  one document, its lines and messages
    GET  /my/{kind}/{id}/print            a printable view (orders, invoices)
    POST /my/{kind}/{id}/messages         post a message (tasks, tickets)
    GET/POST /my/tickets/new              open a ticket (for the user's own company)
    GET  /my/attachments/{id}             download an attachment

Every read goes through the visitor's own environment: record rules decide, in SQL,
what a list holds and whether a page exists. A record the user may not read answers
the same 404 page as a record that does not exist. Templates receive plain values
from ``read`` (many2one as ``(id, name)``, the name False when the user may not read
that record), never recordsets, so no template can follow a relation out of what the
user may read (odoo#61702).
"""

from __future__ import annotations

import math
import urllib.parse
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from bastion.errors import AccessError, ValidationError
from bastion.sanitize import plaintext_to_html
from bastion.web.csrf import CsrfError

from .context import NotFound, Visit, visit
from .documents import DOCUMENTS, PortalDocument

router = APIRouter()

MAX_SEARCH = 100
MAX_MESSAGE = 10_000
SAFE_INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "text/plain"})


def _document(kind: str) -> PortalDocument:
    doc = DOCUMENTS.get(kind)
    if doc is None:
        raise NotFound
    return doc


def _readable(v: Visit, doc: PortalDocument) -> bool:
    """Whether the user's access rights let them read this kind of document at all."""
    return doc.model in v.env and v.env[doc.model].has_access("read")


def _selections(v: Visit, doc: PortalDocument) -> dict[str, dict[str, str]]:
    described = v.env[doc.model].fields_get(attributes=["selection"])
    return {
        name: {str(k): str(label) for k, label in info.get("selection", [])}  # type: ignore[attr-defined]
        for name, info in described.items()
        if "selection" in info
    }


@router.get("/my")
def home(request: Request) -> Response:
    with visit(request) as v:
        v.require_login()
        counts = [
            (doc, v.env[doc.model].search_count(list(doc.domain)))
            for doc in DOCUMENTS.values()
            if _readable(v, doc)
        ]
        return v.render("portal/home.html", counts=counts)


@router.get("/my/attachments/{attachment_id}")
def download(request: Request, attachment_id: int) -> Response:
    with visit(request) as v:
        v.require_login()
        found = v.env["ir.attachment"].search([("id", "=", attachment_id)], limit=1)
        if not found:
            raise NotFound
        row = found.read(["name", "mimetype", "datas"])[0]
        mimetype = str(row["mimetype"] or "")
        name = urllib.parse.quote(str(row["name"]))
        response = Response(
            row["datas"] or b"",
            media_type=mimetype if mimetype in SAFE_INLINE_TYPES else "application/octet-stream",
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
        )
        return v.finish(response)


# -- opening a ticket ---------------------------------------------------------------------
TICKET_MODEL = "helpdesk.ticket"
MAX_SUBJECT = 200


def _ticket_form(v: Visit, status: int = 200, **values: object) -> Response:
    defaults: dict[str, object] = {"error": None, "typed": {"name": "", "description": ""}}
    return v.render("portal/ticket_new.html", status, **{**defaults, **values})


def _may_open_tickets(v: Visit) -> bool:
    return TICKET_MODEL in v.env and v.env[TICKET_MODEL].has_access("create")


@router.get("/my/tickets/new")
def ticket_form(request: Request) -> Response:
    with visit(request) as v:
        v.require_login()
        if not _may_open_tickets(v):
            raise NotFound
        return _ticket_form(v)


@router.post("/my/tickets/new")
def ticket_create(
    request: Request,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    with visit(request) as v:
        v.require_login()
        if not _may_open_tickets(v):
            raise NotFound
        typed = {"name": name, "description": description}
        try:
            v.check_csrf(csrf_token)
        except CsrfError as exc:
            return _ticket_form(v, 403, error=str(exc), typed=typed)
        subject = name.strip()
        if not subject or len(subject) > MAX_SUBJECT:
            error = f"Give the ticket a subject of 1 to {MAX_SUBJECT} characters."
            return _ticket_form(v, 400, error=error, typed=typed)
        if len(description) > MAX_MESSAGE:
            error = f"A description holds at most {MAX_MESSAGE} characters."
            return _ticket_form(v, 400, error=error, typed=typed)
        try:
            with v.env.savepoint():
                # The portal create rule decides: a ticket for the user's own company.
                ticket = v.env[TICKET_MODEL].create(
                    {
                        "name": subject,
                        "description": str(plaintext_to_html(description)),
                        "partner_id": v.user.partner_id.id,
                    }
                )
        except (AccessError, ValidationError) as exc:
            return _ticket_form(v, 403, error=str(exc), typed=typed)
        return v.redirect(f"/my/tickets/{ticket.id}")


@router.get("/my/{kind}")
def document_list(
    request: Request,
    kind: str,
    page: int = 1,
    sortby: str | None = None,
    search: str = "",
) -> Response:
    doc = _document(kind)
    with visit(request) as v:
        v.require_login()
        if not _readable(v, doc):
            raise NotFound
        search = search.strip()[:MAX_SEARCH]
        domain: list[Any] = list(doc.domain)
        if search:
            domain += ["|"] * (len(doc.search) - 1) + [(f, "ilike", search) for f in doc.search]
        if sortby not in doc.sorts:
            sortby = next(iter(doc.sorts))
        records = v.env[doc.model]
        total = records.search_count(domain)
        size = v.app.settings.page_size
        pages = max(1, math.ceil(total / size))
        page = min(max(page, 1), pages)
        rows = records.search_read(
            domain,
            ["id", *(c.field for c in doc.columns)],
            offset=(page - 1) * size,
            limit=size,
            order=doc.sorts[sortby][1],
        )
        return v.render(
            "portal/list.html",
            doc=doc,
            rows=rows,
            selections=_selections(v, doc),
            total=total,
            page=page,
            pages=pages,
            sortby=sortby,
            search=search,
            new_ticket=doc.model == TICKET_MODEL and _may_open_tickets(v),
        )


def page_values(
    v: Visit, doc: PortalDocument, record_id: int, *, with_messages: bool = True
) -> dict[str, Any]:
    """What a document's page shows, read in the visitor's environment; NotFound when
    the record is missing or not readable (one answer for both)."""
    found = v.env[doc.model].search([("id", "=", record_id), *doc.domain], limit=1)
    if not found:
        raise NotFound
    row = found.read(doc.fields)[0]
    values: dict[str, Any] = {"doc": doc, "row": row, "selections": _selections(v, doc)}
    if doc.lines is not None and v.env[doc.lines.model].has_access("read"):
        lines = doc.lines
        values["lines"] = v.env[lines.model].search_read(
            [(lines.inverse, "=", record_id)],
            ["id", *(c.field for c in lines.columns)],
            order=lines.order,
        )
        values["line_selections"] = {
            name: {str(k): str(label) for k, label in info.get("selection", [])}  # type: ignore[attr-defined]
            for name, info in v.env[lines.model].fields_get(attributes=["selection"]).items()
            if "selection" in info
        }
    if with_messages:
        values["shares"] = _shares(v, doc, record_id)
    if doc.messages and with_messages:
        values["messages"] = found.messages().read(["author_name", "date", "body", "internal"])
        values["attachments"] = found.attachments().read(["name", "file_size"])
    return values


@router.get("/my/{kind}/{record_id}")
def document_page(request: Request, kind: str, record_id: int) -> Response:
    doc = _document(kind)
    with visit(request) as v:
        v.require_login()
        if not _readable(v, doc):
            raise NotFound
        return v.render("portal/document.html", **page_values(v, doc, record_id), error=None)


def _shares(v: Visit, doc: PortalDocument, record_id: int) -> list[dict[str, object]] | None:
    """The share links of a document, for users who may create them (None: others)."""
    if "portal.share" not in v.env or not v.env["portal.share"].has_access("create"):
        return None
    links = v.env["portal.share"].search(
        [("res_model", "=", doc.model), ("res_id", "=", record_id)]
    )
    return links.read(["name", "expires_at", "revoked", "use_count", "last_used_at"])


@router.get("/my/{kind}/{record_id}/print")
def document_print(request: Request, kind: str, record_id: int) -> Response:
    doc = _document(kind)
    if not doc.printable:
        raise NotFound
    with visit(request) as v:
        v.require_login()
        if not _readable(v, doc):
            raise NotFound
        companies = v.env["res.company"].search_read(
            [("id", "in", list(v.env.company_ids[:1]))], ["name"]
        )
        company = companies[0]["name"] if companies else ""
        return v.render("portal/print.html", **page_values(v, doc, record_id), company=company)


@router.post("/my/{kind}/{record_id}/messages")
def post_message(
    request: Request,
    kind: str,
    record_id: int,
    body: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    doc = _document(kind)
    if not doc.can_post:
        raise NotFound
    with visit(request) as v:
        v.require_login()
        if not _readable(v, doc):
            raise NotFound
        values = page_values(v, doc, record_id)

        def refuse(message: str, status: int) -> Response:
            # The text typed comes back in the form: nothing is lost.
            return v.render("portal/document.html", status, **values, error=message, typed=body)

        try:
            v.check_csrf(csrf_token)
        except CsrfError as exc:
            return refuse(str(exc), 403)
        text = body.strip()
        if not text:
            return refuse("Write a message before sending it.", 400)
        if len(text) > MAX_MESSAGE:
            return refuse(f"A message holds at most {MAX_MESSAGE} characters.", 400)
        try:
            with v.env.savepoint():
                v.env[doc.model].browse(record_id).message_post(text)
        except (AccessError, ValidationError):
            return refuse("You cannot post a message on this document.", 403)
        return v.redirect(f"/my/{doc.slug}/{record_id}#messages")
