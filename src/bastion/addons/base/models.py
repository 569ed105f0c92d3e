"""The base models: companies, partners, users, groups, and the security tables.

The invariants that keep the security model sound are checked here, on every write,
by the functions of ``bastion.security``: no cycle among implied groups, exactly one
user type per user, record rules that compile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bastion.errors import ValidationError
from bastion.orm import Model, fields
from bastion.security import check_acyclic, check_user_type, compile_rule_text
from bastion.security.groups import USER_TYPES
from bastion.security.state import GroupGraph, direct_groups


class IrModuleModule(Model):
    _name = "ir.module.module"
    _description = "Module"
    name = fields.Char(required=True, index=True)
    state = fields.Selection([("installed", "Installed")], default="installed")


class IrModelData(Model):
    """External identifiers (XML ids): ``module.name`` -> (model, res_id)."""

    _name = "ir.model.data"
    _description = "External Identifier"
    _rec_name = "name"
    module = fields.Char(required=True, index=True)
    name = fields.Char(required=True, index=True)
    model = fields.Char(required=True)
    res_id = fields.Integer(required=True, index=True)
    noupdate = fields.Boolean(default=False)


class IrModuleCategory(Model):
    _name = "ir.module.category"
    _description = "Application"
    name = fields.Char(required=True)


class IrModel(Model):
    _name = "ir.model"
    _description = "Model"
    _order = "model"
    name = fields.Char(string="Description", required=True)
    model = fields.Char(required=True, index=True)


class ResCompany(Model):
    _name = "res.company"
    _description = "Company"
    _order = "name, id"
    name = fields.Char(required=True)
    partner_id = fields.Many2one("res.partner", ondelete="restrict")
    active = fields.Boolean(default=True)


class ResPartner(Model):
    _name = "res.partner"
    _description = "Contact"
    _order = "name, id"
    _parent_name = "parent_id"
    name = fields.Char(required=True, index=True)
    parent_id = fields.Many2one("res.partner", string="Related Company", index=True)
    child_ids = fields.One2many("res.partner", "parent_id", string="Contacts")
    is_company = fields.Boolean(default=False)
    commercial_partner_id = fields.Many2one(
        "res.partner",
        string="Commercial Entity",
        index=True,
        readonly=True,
        help="The company a contact belongs to (itself for companies and lone people).",
    )
    company_id = fields.Many2one("res.company", index=True)
    email = fields.Char()
    active = fields.Boolean(default=True)

    def create(self, vals_list: Mapping[str, object] | Sequence[Mapping[str, object]]) -> Any:
        records = super().create(vals_list)
        records.sudo()._recompute_commercial_partner()
        return records

    def write(self, vals: Mapping[str, object]) -> bool:
        if "commercial_partner_id" in vals:
            raise ValidationError("res.partner.commercial_partner_id is computed, not written")
        super().write(vals)
        if "parent_id" in vals or "is_company" in vals:
            everyone = self.sudo().search(
                [("id", "child_of", self.ids), ("active", "in", [True, False])]
            )
            everyone._recompute_commercial_partner()
        return True

    def _recompute_commercial_partner(self) -> None:
        """Stored compute: the topmost company above (or the partner itself)."""
        for partner in self:
            commercial = partner
            while not commercial.is_company and commercial.parent_id:
                commercial = commercial.parent_id
            if partner.commercial_partner_id != commercial:
                # Model.write: the override above refuses this computed field to callers.
                Model.write(partner, {"commercial_partner_id": commercial.id})
        users = self.env["res.users"].search(
            [("partner_id", "in", self.ids), ("active", "in", [True, False])]
        )
        for user in users:
            if user.commercial_partner_id != user.partner_id.commercial_partner_id:
                Model.write(
                    user, {"commercial_partner_id": user.partner_id.commercial_partner_id.id}
                )


class ResGroups(Model):
    _name = "res.groups"
    _description = "Access Group"
    _order = "name, id"
    name = fields.Char(required=True)
    category_id = fields.Many2one("ir.module.category", string="Application")
    implied_ids = fields.Many2many(
        "res.groups", "res_groups_implied_rel", "gid", "hid", string="Inherits"
    )
    user_ids = fields.Many2many("res.users", "res_groups_users_rel", "gid", "uid", string="Users")
    comment = fields.Text()

    @property
    def full_name(self) -> str:
        """``Category / Name``, as Odoo shows groups."""
        category = self.sudo().category_id
        return f"{category.name} / {self.name}" if category else str(self.name)

    def create(self, vals_list: Mapping[str, object] | Sequence[Mapping[str, object]]) -> Any:
        with self.env.savepoint():
            records = super().create(vals_list)
            _check_groups(self)
        return records

    def write(self, vals: Mapping[str, object]) -> bool:
        with self.env.savepoint():
            super().write(vals)
            if "implied_ids" in vals or "user_ids" in vals:
                _check_groups(self)
        return True


def _refuse_global(vals: Mapping[str, object]) -> None:
    if "global" in vals:
        raise ValidationError("ir.rule.global is computed from groups, not written")


def _check_groups(records: Model) -> None:
    """No implication cycle; no user holding two user types, through any chain."""
    graph = GroupGraph.load(records.env)
    check_acyclic(graph.implied, graph.names)
    _check_user_types(records, graph, None)


def _check_user_types(records: Model, graph: GroupGraph, uids: Sequence[int] | None) -> None:
    types = {x: gid for x in USER_TYPES if (gid := graph.xmlids.get(x)) is not None}
    users = records.env(su=True)["res.users"]
    for uid, direct in direct_groups(records.env, uids).items():
        login = str(users.browse(uid).login)
        check_user_type(login, direct, graph.implied, types, graph.names)


class ResUsers(Model):
    _name = "res.users"
    _description = "User"
    _order = "login, id"
    # The database's check too: _check_unique_logins cannot see another transaction's
    # uncommitted user, and two signups with one login at once both passed it. Its
    # index serves the lookups by login.
    _sql_constraints = [("login_key", "UNIQUE (login)", "Two users cannot have the same login.")]
    login = fields.Char(required=True)
    name = fields.Char(required=True)
    partner_id = fields.Many2one("res.partner", required=True, ondelete="restrict", index=True)
    commercial_partner_id = fields.Many2one("res.partner", readonly=True, index=True)
    company_id = fields.Many2one("res.company", index=True)
    company_ids = fields.Many2many(
        "res.company", "res_company_users_rel", "user_id", "cid", string="Allowed Companies"
    )
    group_ids = fields.Many2many(
        "res.groups",
        "res_groups_users_rel",
        "uid",
        "gid",
        string="Groups",
        groups="base.group_erp_manager",
    )
    active = fields.Boolean(default=True)

    def create(self, vals_list: Mapping[str, object] | Sequence[Mapping[str, object]]) -> Any:
        batch = [vals_list] if isinstance(vals_list, Mapping) else list(vals_list)
        prepared = []
        for vals in batch:
            vals = dict(vals)
            if "commercial_partner_id" in vals:
                raise ValidationError("res.users.commercial_partner_id is computed, not written")
            if not vals.get("partner_id"):
                partner = self.env["res.partner"].create({"name": vals.get("name") or "?"})
                vals["partner_id"] = partner.id
            prepared.append(vals)
        with self.env.savepoint():
            self._check_unique_logins([str(v.get("login")) for v in prepared])
            users = super().create(prepared)
            users.sudo()._sync_commercial_partner()
            _check_user_types(users, GroupGraph.load(self.env), users.ids)
        return users

    def write(self, vals: Mapping[str, object]) -> bool:
        if "commercial_partner_id" in vals:
            raise ValidationError("res.users.commercial_partner_id is computed, not written")
        with self.env.savepoint():
            if "login" in vals:
                self._check_unique_logins([str(vals["login"])] * len(self), exclude=self.ids)
            super().write(vals)
            if "partner_id" in vals:
                self.sudo()._sync_commercial_partner()
            if "group_ids" in vals:
                _check_user_types(self, GroupGraph.load(self.env), self.ids)
        return True

    def _check_unique_logins(self, logins: list[str], exclude: Sequence[int] = ()) -> None:
        if len(set(logins)) != len(logins):
            raise ValidationError(f"logins must be unique: {sorted(logins)}")
        taken = self.sudo().search(
            [
                ("login", "in", logins),
                ("id", "not in", list(exclude)),
                ("active", "in", [True, False]),
            ]
        )
        if taken:
            raise ValidationError(f"login {taken[0].login!r} is already taken")

    def _sync_commercial_partner(self) -> None:
        for user in self:
            Model.write(user, {"commercial_partner_id": user.partner_id.commercial_partner_id.id})


class IrModelAccess(Model):
    _name = "ir.model.access"
    _description = "Access Right"
    _order = "model_id, group_id, name, id"
    name = fields.Char(required=True)
    model_id = fields.Many2one("ir.model", required=True, ondelete="cascade", index=True)
    group_id = fields.Many2one("res.groups", ondelete="cascade", index=True)
    perm_read = fields.Boolean(default=False)
    perm_write = fields.Boolean(default=False)
    perm_create = fields.Boolean(default=False)
    perm_unlink = fields.Boolean(default=False)
    active = fields.Boolean(default=True)


class IrRule(Model):
    _name = "ir.rule"
    _description = "Record Rule"
    _order = "model_id, name, id"
    name = fields.Char(required=True)
    model_id = fields.Many2one("ir.model", required=True, ondelete="cascade", index=True)
    groups = fields.Many2many("res.groups", "rule_group_rel", "rule_group_id", "group_id")
    domain_force = fields.Text(string="Domain", default="[]")
    perm_read = fields.Boolean(default=True)
    perm_write = fields.Boolean(default=True)
    perm_create = fields.Boolean(default=True)
    perm_unlink = fields.Boolean(default=True)
    active = fields.Boolean(default=True)

    def create(self, vals_list: Mapping[str, object] | Sequence[Mapping[str, object]]) -> Any:
        batch = [vals_list] if isinstance(vals_list, Mapping) else list(vals_list)
        for vals in batch:
            _refuse_global(vals)
            self._validate_rule(vals.get("model_id"), vals.get("domain_force"))
        with self.env.savepoint():
            rules = super().create(batch)
            rules.sudo()._compute_global()
        return rules

    def write(self, vals: Mapping[str, object]) -> bool:
        _refuse_global(vals)
        if "model_id" in vals or "domain_force" in vals:
            for rule in self:
                self._validate_rule(
                    vals.get("model_id", rule.sudo().model_id.id),
                    vals.get("domain_force", rule.sudo().domain_force),
                )
        with self.env.savepoint():
            super().write(vals)
            if "groups" in vals:
                self.sudo()._compute_global()
        return True

    def _compute_global(self) -> None:
        """Stored compute: a rule without groups is global."""
        for rule in self:
            is_global = not rule.groups
            if rule["global"] != is_global:
                Model.write(rule, {"global": is_global})

    def _validate_rule(self, model_id: object, text: object) -> None:
        """Refuse a rule whose expression leaves the whitelist or whose domain does
        not fit its model, when it is written rather than when it first runs."""
        from bastion.domain import parse_domain  # noqa: PLC0415

        if not isinstance(model_id, int) or not model_id:
            return  # the required check reports it
        env = self.env(su=True)
        model_name = str(env["ir.model"].browse(model_id).model)
        registry = env.registry
        source = str(text) if text else "[]"
        compiled = compile_rule_text(registry, source)
        root = env["res.users"].browse(env.uid)
        company_ids = list(env.company_ids)
        domain = compiled.evaluate(
            {
                "user": root,
                "company_id": company_ids[0] if company_ids else False,
                "company_ids": company_ids,
            }
        )
        if model_name in registry.specs:
            parse_domain(domain, registry.model_info(model_name), registry)  # type: ignore[arg-type]


# "global" is a Python keyword, so the field cannot be declared in the class body.
setattr(  # noqa: B010
    IrRule,
    "global",
    fields.Boolean(
        string="Global",
        default=True,
        readonly=True,
        help="Computed from groups: a rule without groups applies to every user.",
    ),
)


# -- credentials and sessions ----------------------------------------------------------
# No access-right rows name these models: only the authentication layer, as superuser,
# reaches them (deny by default). Secrets are stored hashed; nothing here is readable
# through any user's environment, an administrator's included.
class ResUsersCredential(Model):
    _name = "res.users.credential"
    _description = "User Credentials"
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True)
    password_hash = fields.Char()
    password_changed_at = fields.Datetime()
    totp_secret = fields.Char()
    totp_last_step = fields.Integer()


class ResUsersRecoveryCode(Model):
    _name = "res.users.recovery.code"
    _description = "Two-factor Recovery Code"
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True)
    code_hash = fields.Char(required=True, index=True)


class ResUsersSession(Model):
    _name = "res.users.session"
    _description = "User Session"
    _order = "last_seen_at desc, id desc"
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True)
    token_hash = fields.Char(required=True, index=True)
    created_at = fields.Datetime(required=True)
    last_seen_at = fields.Datetime(required=True)
    expires_at = fields.Datetime(required=True)
    # When the password (and second factor) were last checked: step-up looks here.
    auth_at = fields.Datetime(required=True)
    ip = fields.Char()
    user_agent = fields.Char()


class ResUsersDevice(Model):
    """A browser trusted to skip the second factor, until it expires or is revoked."""

    _name = "res.users.device"
    _description = "Trusted Device"
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True)
    token_hash = fields.Char(required=True, index=True)
    expires_at = fields.Datetime(required=True)
    name = fields.Char()


class ResUsersApikey(Model):
    """An API key: shown once at creation, stored as the SHA-256 of the key with its
    first characters in clear as an index (``key_index``), as Odoo does."""

    _name = "res.users.apikey"
    _description = "API Key"
    _order = "id desc"
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade", index=True)
    name = fields.Char(required=True)
    key_index = fields.Char(required=True, index=True)
    key_hash = fields.Char(required=True)
    # "all", or "read": read-only
    scope = fields.Selection([("all", "Read and write"), ("read", "Read only")], default="all")
    # Comma-separated model names the key is limited to; empty: every model.
    models = fields.Char()
    created_at = fields.Datetime(required=True)
    expires_at = fields.Datetime()
    last_used_at = fields.Datetime()
