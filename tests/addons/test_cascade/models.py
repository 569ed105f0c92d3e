"""A partner's team belongs to a unit: deleting the unit deletes its teams, and the
database empties the partners' team (tests/test_rule_values.py)."""

from bastion import Model, fields


class Unit(Model):
    _name = "test.unit"
    _description = "Unit"
    name = fields.Char(required=True)


class Team(Model):
    _name = "test.team"
    _description = "Team"
    name = fields.Char(required=True)
    unit_id = fields.Many2one("test.unit", required=True, ondelete="cascade")


class Partner(Model):
    _inherit = "res.partner"
    team_id = fields.Many2one("test.team", ondelete="set null")


class Note(Model):
    _name = "test.note"
    _description = "Note"
    name = fields.Char(required=True)
    team_id = fields.Many2one("test.team")
