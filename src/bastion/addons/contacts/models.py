"""Contacts: the address book fields of ``res.partner``.

>>> partner.write({"city": "Lyon", "phone": "+33 4 78 00 00 00"})   # doctest: +SKIP
>>> partner.with_user(portal).comment                  # AccessError: staff only

``comment`` holds what staff write about a customer; customers read their own
partner record through the portal, so the field is restricted to internal users.
"""

from __future__ import annotations

from bastion.orm import Model, fields


class ResPartner(Model):
    _inherit = "res.partner"

    phone = fields.Char()
    mobile = fields.Char()
    street = fields.Char()
    city = fields.Char()
    zip = fields.Char()
    country = fields.Char()
    vat = fields.Char(string="Tax ID")
    website = fields.Char()
    comment = fields.Text(string="Internal notes", groups="base.group_user")
