"""Models of the security scenario tests.

``scenario.note`` deliberately has no ``ir.model.access`` row at all: only the superuser
may touch it. Its fields exercise negated group expressions (``"!group"``).
"""

from bastion import Model, fields


class Note(Model):
    _name = "scenario.note"
    _description = "Scenario note"
    name = fields.Char()
    # Everyone but portal users.
    not_portal = fields.Char(groups="!base.group_portal")
    # Internal users, unless they are also in the "blocked" group.
    internal_unblocked = fields.Char(groups="base.group_user,!scenario_security.group_blocked")
