"""The isolation simulation, through the customer portal's HTTP routes.

>>> leaks, untested = portal_leaks(su, customers, samples)        # doctest: +SKIP

The real web application is served in-process, on a registry joined to the audit's
open transaction (``ModelRegistry.joined``), so its requests see the simulated customers
and their samples and are rolled back with them. Each customer's user gets a session the
way a login makes one, and asks, as a browser would, for the other customer's documents,
their print views and attachments: each answer must be the 404 page of a missing record,
byte for byte, and none of the user's own pages may show the other customer's marker.
The owner's own list must show the sample, or the route proves nothing.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from pydantic import SecretStr

from bastion.settings import Settings

from .isolation import Customer, Leak, Samples, owner_reads_own, rules_applied

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from bastion.orm import Environment
    from bastion.web.documents import PortalDocument

# An id no record has: its page is the reference 404.
MISSING_ID = 2_147_483_000
BASE_URL = "https://audit.invalid"


@dataclass(frozen=True)
class Probe:
    """One request of one customer's user, and what its answer must be."""

    reader: Customer
    path: str
    # the customer whose record the path names (None: the reader's own page)
    owner: Customer | None
    model: str
    record_id: int | None = None


def portal_leaks(
    su: Environment, customers: list[Customer], samples: Samples
) -> tuple[list[Leak], dict[str, str]]:
    from bastion.web.app import create_app  # noqa: PLC0415 - the web stack only when used
    from bastion.web.documents import DOCUMENTS  # noqa: PLC0415

    registry = su.registry.joined(su.cr)
    settings = Settings(
        db_url=registry.url,
        secret_key=SecretStr(secrets.token_urlsafe(32)),
        # Isolation, not login, is under test: no second factor is asked.
        require_2fa_groups=[],
    )
    app = create_app(settings, registry)  # type: ignore[arg-type]
    cookies = {c.label: _session(su, settings, c) for c in customers}
    docs = [d for d in DOCUMENTS.values() if d.model in samples.ids]
    probes: list[Probe] = []
    controls: list[tuple[Customer, PortalDocument]] = []
    for owner in customers:
        for doc in docs:
            ids = samples.of(doc.model, owner.label)
            if not ids or not owner_reads_own(su, owner, doc.model, ids):
                continue  # reported as untested by the data layer's simulation
            controls.append((owner, doc))
            for reader in customers:
                if reader is not owner:
                    probes += _document_probes(doc, ids, reader, owner)
        for rid in samples.of("ir.attachment", owner.label):
            for reader in customers:
                if reader is not owner:
                    path = f"/my/attachments/{rid}"
                    probes.append(Probe(reader, path, owner, "ir.attachment", rid))
    for reader in customers:
        probes.append(Probe(reader, "/my", None, "portal home"))
        probes += [Probe(reader, f"/my/{d.slug}", None, d.model) for d in docs]
    missing = f"/my/{docs[0].slug}/{MISSING_ID}" if docs else None
    wanted = {(p.reader.label, p.path) for p in probes}
    wanted |= {(owner.label, f"/my/{doc.slug}") for owner, doc in controls}
    if missing is not None:
        wanted |= {(c.label, missing) for c in customers}
    answers = _run(_fetch(app, cookies, sorted(wanted)))
    return _judge(su, customers, probes, controls, answers, docs)


T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, also from a thread whose event loop is running (an async caller,
    or a library that keeps one running, as Playwright's sync API does): there, on a
    thread of its own. The requests are sequential either way and the caller waits,
    so the shared database connection is never used by two threads at once."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bastion-audit") as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _document_probes(
    doc: PortalDocument, ids: list[int], reader: Customer, owner: Customer
) -> list[Probe]:
    probes = []
    for rid in ids:
        probes.append(Probe(reader, f"/my/{doc.slug}/{rid}", owner, doc.model, rid))
        if doc.printable:
            probes.append(Probe(reader, f"/my/{doc.slug}/{rid}/print", owner, doc.model, rid))
    return probes


def _session(su: Environment, settings: Settings, customer: Customer) -> str:
    from bastion.web.context import session_store  # noqa: PLC0415

    token, _info = session_store(settings).create(
        su, int(customer.user.id), ip="audit", user_agent="bastion audit db"
    )
    return token


Answer = tuple[int, str]


async def _fetch(
    app: ASGIApp, cookies: dict[str, str], wanted: list[tuple[str, str]]
) -> dict[tuple[str, str], Answer]:
    """The answer to each (customer label, path), asked with that customer's session."""
    from bastion.web.context import SESSION_COOKIE  # noqa: PLC0415

    answers: dict[tuple[str, str], Answer] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        # One request at a time: they share the audit's database connection.
        for label, path in wanted:
            response = await client.get(
                path, headers={"cookie": f"{SESSION_COOKIE}={cookies[label]}"}
            )
            answers[(label, path)] = (response.status_code, response.text)
    return answers


def _judge(
    su: Environment,
    customers: list[Customer],
    probes: list[Probe],
    controls: list[tuple[Customer, PortalDocument]],
    answers: dict[tuple[str, str], Answer],
    docs: list[PortalDocument],
) -> tuple[list[Leak], dict[str, str]]:
    leaks: list[Leak] = []
    untested: dict[str, str] = {}
    missing = {
        c.label: answers.get((c.label, f"/my/{docs[0].slug}/{MISSING_ID}")) for c in customers
    }
    for owner, doc in controls:
        status, body = answers[(owner.label, f"/my/{doc.slug}")]
        if status != 200 or owner.marker not in body:
            untested[doc.model] = (
                f"GET /my/{doc.slug} (status {status}) does not show the sample to its own "
                "customer: the portal route proves nothing"
            )
    for probe in probes:
        status, body = answers[(probe.reader.label, probe.path)]
        others = [c for c in customers if c is not probe.reader]
        if probe.owner is not None:
            reference = missing[probe.reader.label]
            if (status, body) != reference:
                how = f"GET {probe.path} answers {status}, not the missing-record page"
                leaks.append(_leak(su, probe, probe.owner, how))
                continue
        for other in others:
            if other.marker in body:
                how = f"GET {probe.path} shows customer {other.label}'s data"
                leaks.append(_leak(su, probe, other, how))
    return leaks, untested


def _leak(su: Environment, probe: Probe, owner: Customer, how: str) -> Leak:
    rules = rules_applied(su, probe.reader.user, probe.model) if "." in probe.model else ()
    # "portal home" is a page, not a model: no rules of its own
    return Leak(probe.model, probe.reader.label, owner.label, probe.record_id or 0, how, rules)


__all__ = ["portal_leaks"]
