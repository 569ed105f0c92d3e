"""``SecurityState.load`` reads rows, not records (docs/performance.md): it must give
what reading the records one by one gives, on both backends; and what the rules read
(``ValueSources``) is kept only while their texts stay the same."""

from __future__ import annotations

from bastion import Environment, Registry
from bastion.security.state import PERMS, AccessRow, SecurityState
from conftest import RegistryFactory

APPS = ("sale", "account", "project", "helpdesk")


def _from_records(env: Environment) -> tuple[object, ...]:
    """The state's content, read the plain way: record by record, field by field."""
    su = env(su=True)
    groups = su["res.groups"].search([])
    implied = {int(g.id): tuple(g.implied_ids.ids) for g in groups}
    names = {int(g.id): str(g.full_name) for g in groups}
    data = su["ir.model.data"].search([("model", "=", "res.groups")])
    xmlids = {f"{d.module}.{d.name}": int(d.res_id) for d in data}
    access: dict[str, list[AccessRow]] = {}
    for acl in su["ir.model.access"].search([]):
        perms = frozenset(p for p in PERMS if acl[f"perm_{p}"])
        access.setdefault(str(acl.model_id.model), []).append(
            AccessRow(str(acl.name), acl.group_id.id or None, perms)
        )
    rules = {
        (int(r.id), str(r.model_id.model), str(r.name), str(r.domain_force or "[]")): (
            frozenset(r.groups.ids),
            frozenset(p for p in PERMS if r[f"perm_{p}"]),
        )
        for r in su["ir.rule"].search([])
    }
    return implied, names, xmlids, access, rules


def _loaded(state: SecurityState) -> tuple[object, ...]:
    rules = {
        (rule.id, rule.model, rule.name, rule.text): (rule.groups, rule.perms)
        for model_rules in state.rules.values()
        for rule in model_rules
    }
    groups = state.groups
    return groups.implied, groups.names, groups.xmlids, state.access, rules


def test_the_loaded_state_is_what_the_records_hold(make_registry: RegistryFactory) -> None:
    registry: Registry = make_registry(*APPS)
    with registry.transaction() as env:
        category = env["ir.module.category"].create({"name": "Extra"})
        env["res.groups"].create({"name": "Auditors", "category_id": category.id})
        env["res.groups"].create({"name": "Plain"})  # no category: its name alone
        state = SecurityState.load(env)
        assert _loaded(state) == _from_records(env)
        assert "Extra / Auditors" in state.groups.names.values()
        assert "Plain" in state.groups.names.values()
        assert [r.name for r in state.rules["sale.order"]] == [
            str(r.name) for r in env["ir.rule"].search([("model_id.model", "=", "sale.order")])
        ]


def test_what_the_rules_read_is_found_again_when_a_rule_changes(
    make_registry: RegistryFactory,
) -> None:
    registry: Registry = make_registry("sale")
    with registry.transaction() as env:
        before = SecurityState.load(env).sources
        # A version with the same rules (a new group): the same sources, not rebuilt.
        env["res.groups"].create({"name": "Another"})
        assert SecurityState.load(env).sources is before
        assert "child_ids" not in before.fields.get("res.partner", frozenset())
        rule = env["ir.rule"].create(
            {
                "name": "orders of the user's contacts",
                "model_id": env["ir.model"].search([("model", "=", "sale.order")]).id,
                "domain_force": "[('partner_id', 'in', user.partner_id.child_ids.ids)]",
            }
        )
        after = SecurityState.load(env).sources
        assert "child_ids" in after.fields["res.partner"] and "res.partner" in after.whole
        rule.unlink()
        assert SecurityState.load(env).sources == before
