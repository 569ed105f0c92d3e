"""What the audit knows of Odoo without reading Odoo: the user-type groups, the admin
groups and the fields of the mixins every portal model inherits.

>>> INTERNAL_GROUP, PORTAL_GROUP, PUBLIC_GROUP
('base.group_user', 'base.group_portal', 'base.group_public')

Models listed in :data:`CLOSED_MODELS` are known field for field (the mixins);
:data:`OPEN_MODELS` are known in part (``res.partner`` gains fields in many addons),
so a name missing from them is not reported as unknown.
"""

from __future__ import annotations

INTERNAL_GROUP = "base.group_user"
PORTAL_GROUP = "base.group_portal"
PUBLIC_GROUP = "base.group_public"
ADMIN_GROUPS = frozenset({"base.group_system", "base.group_erp_manager"})
USER_TYPE_GROUPS = {"internal": INTERNAL_GROUP, "portal": PORTAL_GROUP, "public": PUBLIC_GROUP}

# The template users whose groups every new user of that type receives.
DEFAULT_USER = "base.default_user"
EXTERNAL_TEMPLATE_USERS = frozenset(
    {"base.public_user", "base.template_portal_user_id", "auth_signup.default_template_user"}
)

# name -> (type, comodel)
FieldSpec = tuple[str, str | None]

BASE_FIELDS: dict[str, FieldSpec] = {
    "id": ("integer", None),
    "display_name": ("char", None),
    "create_uid": ("many2one", "res.users"),
    "create_date": ("datetime", None),
    "write_uid": ("many2one", "res.users"),
    "write_date": ("datetime", None),
}

CLOSED_MODELS: dict[str, dict[str, FieldSpec]] = {
    "mail.thread": {
        "message_follower_ids": ("one2many", "mail.followers"),
        "message_partner_ids": ("many2many", "res.partner"),
        "message_ids": ("one2many", "mail.message"),
        "message_is_follower": ("boolean", None),
        "message_needaction": ("boolean", None),
        "message_has_error": ("boolean", None),
        "message_attachment_count": ("integer", None),
        "has_message": ("boolean", None),
    },
    "mail.activity.mixin": {
        "activity_ids": ("one2many", "mail.activity"),
        "activity_state": ("selection", None),
        "activity_user_id": ("many2one", "res.users"),
        "activity_type_id": ("many2one", "mail.activity.type"),
        "activity_date_deadline": ("date", None),
    },
    "portal.mixin": {
        "access_url": ("char", None),
        "access_token": ("char", None),
        "access_warning": ("text", None),
    },
    "mail.thread.cc": {"email_cc": ("char", None)},
    "mail.tracking.duration.mixin": {"duration_tracking": ("text", None)},
}

# Parents of the mixins above (mail.thread.cc is a mail.thread).
CATALOG_PARENTS: dict[str, tuple[str, ...]] = {
    "mail.thread.cc": ("mail.thread",),
    "mail.thread.blacklist": ("mail.thread",),
}

OPEN_MODELS: dict[str, dict[str, FieldSpec]] = {
    "res.partner": {
        "name": ("char", None),
        "parent_id": ("many2one", "res.partner"),
        "child_ids": ("one2many", "res.partner"),
        "commercial_partner_id": ("many2one", "res.partner"),
        "company_id": ("many2one", "res.company"),
        "user_ids": ("one2many", "res.users"),
        "email": ("char", None),
        "is_company": ("boolean", None),
        "active": ("boolean", None),
    },
    "res.users": {
        "name": ("char", None),
        "login": ("char", None),
        "partner_id": ("many2one", "res.partner"),
        "commercial_partner_id": ("many2one", "res.partner"),
        "company_id": ("many2one", "res.company"),
        "company_ids": ("many2many", "res.company"),
        "share": ("boolean", None),
        "active": ("boolean", None),
    },
    "res.company": {
        "name": ("char", None),
        "partner_id": ("many2one", "res.partner"),
        "parent_id": ("many2one", "res.company"),
    },
}

# Field names that usually hold internal data; shown in a portal template they deserve a look.
INTERNAL_FIELD_NAMES = frozenset(
    {
        "planned_hours", "internal_note", "internal_notes", "note_internal", "margin",
        "purchase_price", "standard_price", "cost", "cost_price", "description_internal",
    }
)  # fmt: skip
