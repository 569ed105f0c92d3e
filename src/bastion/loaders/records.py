"""What CSV and XML loading share: XML ids and saving one record under an XML id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bastion.errors import LoadError

if TYPE_CHECKING:
    from bastion.orm import Environment

# Odoo's older or alternative field names, accepted in data files.
ALIASES = {
    ("res.users", "groups_id"): "group_ids",
    ("res.groups", "users"): "user_ids",
}
# Computed in Bastion (a rule is global when it has no group); accepted and ignored.
IGNORED = {("ir.rule", "global")}


def full_xmlid(module: str, xmlid: str) -> tuple[str, str]:
    if "." in xmlid:
        mod, _, name = xmlid.partition(".")
        return mod, name
    return module, xmlid


def resolve_ref(env: Environment, module: str, xmlid: str, model: str | None = None) -> int:
    """The id behind an XML id; when ``model`` is given, the record must be of that
    model (a group's XML id in a model column is a typo, not a silent grant)."""
    mod, name = full_xmlid(module, xmlid)
    found = env.registry.xmlid_lookup(env.cr, f"{mod}.{name}")
    if found is None:
        raise LoadError(f"unknown XML id {mod}.{name!s}")
    if model is not None and found[0] != model:
        raise LoadError(f"XML id {mod}.{name} is a {found[0]} record, expected {model}")
    return int(found[1])


def field_name(model: str, name: str) -> str | None:
    """The Bastion field for a data-file field name (None: ignore it)."""
    if (model, name) in IGNORED:
        return None
    return ALIASES.get((model, name), name)


def save_record(
    env: Environment, module: str, model: str, xmlid: str | None, vals: dict[str, object]
) -> int:
    """Create the record, or update the one the XML id already names."""
    records = env[model]
    data = env["ir.model.data"]
    if xmlid is None:
        return int(records.create(vals).id)
    mod, name = full_xmlid(module, xmlid)
    found = env.registry.xmlid_lookup(env.cr, f"{mod}.{name}")
    if found is not None:
        if found[0] != model:
            raise LoadError(f"XML id {mod}.{name} already names a {found[0]} record")
        records.browse(found[1]).write(vals)
        return int(found[1])
    record = records.create(vals)
    data.create({"module": mod, "name": name, "model": model, "res_id": record.id})
    return int(record.id)
