"""Share links: read one document without an account.

    POST /my/{kind}/{id}/share       an internal user creates a link (shown once)
    POST /my/shares/{id}/revoke      ... and revokes it
    GET  /s/{token}                  anyone with the link reads that document

The token is signed with the server's key (itsdangerous) and names one
``portal.share`` record; its random part is stored hashed and compared in constant
time. A link that is unknown, tampered, expired or revoked answers the 404 page. The
page is rendered from an environment of the visitor (the public user when nobody is
logged in) holding a *grant* on that one document: ``bastion.security`` adds it to the
rules, for reading, for that record (and the lines its model shares) and nothing else.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bastion.auth.accounts import utcnow
from bastion.auth.tokens import new_token, same_secret, token_hash
from bastion.errors import AccessError, ValidationError
from bastion.web.csrf import CsrfError

from .context import NotFound, Visit, visit
from .documents import DOCUMENTS
from .portal import page_values

router = APIRouter()
MAX_DAYS = 90
SHARE_MODEL = "portal.share"


def _signer(v: Visit) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        v.app.settings.secret_key.get_secret_value(), salt="bastion.share"
    )


def create_share_link(v: Visit, model: str, record_id: int, days: int, name: str) -> str:
    """A new link to one record, created with the user's rights (they must be able to
    read the record); returns the token, which is not stored."""
    secret = new_token()
    share = v.env[SHARE_MODEL].create(
        {
            "res_model": model,
            "res_id": record_id,
            "name": name[:200],
            "token_hash": token_hash(secret),
            "expires_at": utcnow() + dt.timedelta(days=days),
        }
    )
    return _signer(v).dumps([int(share.id), secret])


@router.post("/my/{kind}/{record_id}/share")
def share_document(
    request: Request,
    kind: str,
    record_id: int,
    days: Annotated[int, Form()] = 14,
    name: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    doc = DOCUMENTS.get(kind)
    if doc is None:
        raise NotFound
    with visit(request) as v:
        v.require_login()
        if doc.model not in v.env or not v.env[SHARE_MODEL].has_access("create"):
            raise NotFound
        values = page_values(v, doc, record_id)  # 404 unless the user may read it
        try:
            v.check_csrf(csrf_token)
        except CsrfError as exc:
            return v.render("portal/document.html", 403, **values, error=str(exc))
        if not 1 <= days <= MAX_DAYS:
            return v.render(
                "portal/document.html",
                400,
                **values,
                error=f"A link lasts between 1 and {MAX_DAYS} days.",
            )
        token = create_share_link(v, doc.model, record_id, days, name)
        link = str(request.url_for("open_share", token=token))
        return v.render("portal/share_created.html", doc=doc, row=values["row"], link=link)


@router.post("/my/shares/{share_id}/revoke")
def revoke_share(
    request: Request, share_id: int, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    with visit(request) as v:
        v.require_login()
        if SHARE_MODEL not in v.env:
            raise NotFound
        share = v.env[SHARE_MODEL].search([("id", "=", share_id)], limit=1)
        if not share:
            raise NotFound
        try:
            v.check_csrf(csrf_token)
        except CsrfError:
            raise NotFound from None
        row = share.read(["res_model", "res_id"])[0]
        try:
            share.write({"revoked": True})
        except (AccessError, ValidationError):
            raise NotFound from None
        kind = next((d.slug for d in DOCUMENTS.values() if d.model == row["res_model"]), None)
        return v.redirect(f"/my/{kind}/{row['res_id']}" if kind else "/my")


@router.get("/s/{token}", name="open_share")
def open_share(request: Request, token: str) -> Response:
    with visit(request) as v:
        if SHARE_MODEL not in v.env or len(token) > 500:
            raise NotFound
        try:
            share_id, secret = _signer(v).loads(token, max_age=MAX_DAYS * 86400 + 3600)
        except (BadSignature, ValueError, TypeError):
            raise NotFound from None
        if not isinstance(share_id, int) or not isinstance(secret, str):
            raise NotFound
        # The authentication layer checks the link itself, as it checks a session.
        share = v.su[SHARE_MODEL].search([("id", "=", share_id)], limit=1)
        if (
            not share
            or share.revoked
            or share.expires_at <= utcnow()
            or not same_secret(token_hash(secret), str(share.token_hash))
        ):
            raise NotFound
        model, record_id = str(share.res_model), int(share.res_id)
        doc = next((d for d in DOCUMENTS.values() if d.model == model), None)
        if doc is None:
            raise NotFound
        share.write({"use_count": share.use_count + 1, "last_used_at": utcnow()})
        # Reading happens in the visitor's own environment plus a grant on this one
        # record: the rules, field groups and the grant are applied by the data layer.
        shared = Visit(v.request, v.app, v.su, v.env.with_grant(model, record_id), v.session)
        values = page_values(shared, doc, record_id, with_messages=False)
        response = shared.render("portal/shared.html", **values)
        response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
        response.headers["Cache-Control"] = "no-store"
        return response
