"""Records whose access follows their document (``_access_through``): messages and
attachments, on SQLite and PostgreSQL.

The condition is a :class:`Reference` node compiled into the same SQL as the record's
own rules; the property test checks the SQL path against the reference evaluator.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion import AccessError, Command, Environment, Model, Registry
from bastion.domain import Reference, SqlCompiler, disjunction, filter_ids, parse_domain
from bastion.errors import MissingError
from conftest import module_database
from test_security_scenarios import rolled_back


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def mail_registry(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    with module_database(request, tmp_path_factory, "mail", name="documents") as registry:
        yield registry


@pytest.fixture
def env(mail_registry: Registry) -> Iterator[Environment]:
    yield from rolled_back(mail_registry)


def portal(env: Environment, name: str) -> tuple[Model, Model]:
    company = env["res.partner"].create({"name": f"Customer {name}", "is_company": True})
    contact = env["res.partner"].create({"name": f"Contact {name}", "parent_id": company.id})
    user = env["res.users"].create(
        {
            "login": f"portal-{name}",
            "name": name,
            "partner_id": contact.id,
            "group_ids": [Command.link(env.ref("base.group_portal").id)],
        }
    )
    return user, company


def message(env: Environment, model: str, res_id: int, **vals: object) -> Model:
    return env["mail.message"].create({"res_model": model, "res_id": res_id, **vals})


def test_messages_follow_their_document(env: Environment) -> None:
    alice, a = portal(env, "a")
    bob, b = portal(env, "b")
    on_a = message(env, "res.partner", a.id, body="<p>for A</p>")
    note = message(env, "res.partner", a.id, body="<p>note</p>", internal=True)
    on_b = message(env, "res.partner", b.id, body="<p>for B</p>")
    on_rule = message(env, "ir.rule", 1, body="<p>technical</p>")  # no portal right
    orphan = message(env, "res.partner", 999_999, body="<p>gone</p>")
    as_alice = env.with_user(alice)["mail.message"]
    assert as_alice.search([]).ids == [on_a.id]
    assert env.with_user(bob)["mail.message"].search([]).ids == [on_b.id]
    for hidden in (on_b, note, on_rule, orphan):
        with pytest.raises(AccessError) as caught:
            as_alice.browse(hidden.id).read(["body"])
        assert "for B" not in str(caught.value)
    with pytest.raises(AccessError) as denied:
        as_alice.browse(on_b.id).read(["body"])
    assert "access to the document" in str(denied.value)


def test_portal_posts_on_documents_it_reads_only(env: Environment) -> None:
    alice, a = portal(env, "a")
    _bob, b = portal(env, "b")
    messages = env.with_user(alice)["mail.message"]
    me = alice.partner_id.id

    def post(res_id: int, **vals: object) -> Model:
        return messages.create(
            {"res_model": "res.partner", "res_id": res_id, "author_id": me, "body": "hi", **vals}
        )

    assert post(a.id).read(["body"])[0]["body"] == "hi"
    with pytest.raises(AccessError):
        post(b.id)  # a document alice cannot read
    with pytest.raises(AccessError):
        post(a.id, internal=True)  # portal posts public comments only
    with pytest.raises(AccessError):
        post(a.id, author_id=b.id)  # and only as itself
    assert env["mail.message"].search_count([("res_id", "=", b.id)]) == 0


def test_attachments_need_write_access_to_their_document_to_be_added(
    env: Environment,
) -> None:
    alice, a = portal(env, "a")
    attachment = env["ir.attachment"].create(
        {"name": "a.txt", "res_model": "res.partner", "res_id": a.id, "datas": b"A"}
    )
    as_alice = env.with_user(alice)["ir.attachment"]
    assert as_alice.search([]).ids == [attachment.id]
    assert as_alice.browse(attachment.id).read(["datas", "file_size"])[0]["file_size"] == 1
    with pytest.raises(AccessError):
        as_alice.create({"name": "x", "res_model": "res.partner", "res_id": a.id})


def test_a_deleted_documents_messages_and_files_go_with_it(env: Environment) -> None:
    """SQLite gave the newest deleted document's id to the next one created, and with
    the id the messages and files of another customer's document, which bob read."""
    alice, a = portal(env, "a")
    bob, b = portal(env, "b")
    site = env["res.partner"].create({"name": "Alice's site", "parent_id": a.id})
    secret = message(env, "res.partner", site.id, body="<p>door code 1234</p>")
    plan = env["ir.attachment"].create(
        {"name": "plan.pdf", "res_model": "res.partner", "res_id": site.id, "datas": b"A"}
    )
    kept = message(env, "res.partner", a.id, body="<p>stays</p>")
    assert env.with_user(alice)["mail.message"].browse(secret.id).read(["body"])
    site.unlink()
    assert env["mail.message"].search([("id", "in", [secret.id, kept.id])]).ids == [kept.id]
    assert not env["ir.attachment"].search([("id", "=", plan.id)])
    newer = env["res.partner"].create({"name": "Bob's site", "parent_id": b.id})
    assert newer.id > site.id  # an id is never given twice, on either backend
    as_bob = env.with_user(bob)
    assert as_bob["mail.message"].search([("res_id", "in", [site.id, newer.id])]).ids == []
    assert as_bob["ir.attachment"].search([]).ids == []
    with pytest.raises(MissingError):
        as_bob["mail.message"].browse(secret.id).read(["body"])


# -- the SQL path agrees with the reference evaluator -----------------------------------
DOMAINS = [
    [],
    [("is_company", "=", True)],
    [("name", "ilike", "a")],
    ["|", ("parent_id", "=", False), ("name", "like", "C")],
]
MODELS = ["res.partner", "res.company", "ir.rule", "res.partner"]


@settings(max_examples=25)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(MODELS), st.integers(min_value=1, max_value=12)),
        min_size=1,
        max_size=15,
    ),
    partner_domain=st.sampled_from(DOMAINS),
    with_company=st.booleans(),
)
def test_reference_sql_matches_the_evaluator(
    mail_registry: Registry,
    rows: list[tuple[str, int]],
    partner_domain: list[object],
    with_company: bool,
) -> None:
    for local in rolled_back(mail_registry):
        for model, res_id in rows:
            message(local, model, res_id)
        registry = local.registry
        node = disjunction(
            [
                Reference(
                    "res_model",
                    "res_id",
                    "res.partner",
                    parse_domain(partner_domain, registry.model_info("res.partner"), registry),
                ),
                *(
                    [
                        Reference(
                            "res_model",
                            "res_id",
                            "res.company",
                            parse_domain([], registry.model_info("res.company"), registry),
                        )
                    ]
                    if with_company
                    else []
                ),
            ]
        )
        spec = registry.model_info("mail.message")
        clause = SqlCompiler(registry).compile(node, spec, spec.table)
        by_sql = set(local.cr.scalars(sa.select(spec.table.c.id).where(clause)))
        data = {
            name: {
                int(row["id"]): row  # type: ignore[call-overload]
                for row in local[name].search_read(
                    [("active", "in", [True, False])]
                    if "active" in local[name]._spec.fields
                    else [],
                    fields,
                )
            }
            for name, fields in (
                ("mail.message", ["res_model", "res_id"]),
                ("res.partner", ["name", "is_company", "parent_id"]),
                ("res.company", ["name"]),
            )
        }
        for partner in data["res.partner"].values():
            parent = partner["parent_id"]
            partner["parent_id"] = parent[0] if parent else None  # type: ignore[index]
        assert by_sql == filter_ids(node, spec, registry, data)
