"""Codes unique per company, and a reference unique on its own: only the database
checks them (tests/test_unique.py)."""

from bastion import Model, fields


class Code(Model):
    _name = "test.code"
    _description = "Code"
    _sql_constraints = [
        ("code_company_uniq", "UNIQUE (code, company_id)", "A code is used once per company."),
        ("reference_uniq", "unique(reference)", "References are unique."),
    ]
    code = fields.Char(required=True)
    company_id = fields.Many2one("res.company")
    reference = fields.Char()
