"""Helpdesk: support tickets, opened by staff or by customers through the portal.

>>> ticket = env.with_user(portal)["helpdesk.ticket"].create(
...     {"name": "Invoice address is wrong", "partner_id": portal.partner_id.id})
>>> ticket.number                                                    # doctest: +SKIP
'T00042'
>>> ticket.message_post("It still shows our old street.")           # doctest: +SKIP

``internal_note`` is for agents only (field groups); the customer's side of the
conversation is the ticket's public messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bastion.errors import ValidationError
from bastion.orm import Model, fields
from bastion.orm.defaults import current_company, next_names, now

CLOSED_STAGES = ("solved", "cancelled")


def next_numbers(tickets: Model, count: int) -> list[str]:
    """``count`` new ticket numbers ``T<digits>``, never given before; gaps allowed, so
    that a customer's ticket never waits for another's transaction."""
    return next_names(tickets, "T", count, field="number", gaps=True)


class HelpdeskTicket(Model):
    _name = "helpdesk.ticket"
    _inherit = ["mail.thread"]
    _description = "Helpdesk Ticket"
    _order = "priority desc, date_open desc, id desc"

    name = fields.Char(string="Subject", required=True, index=True)
    number = fields.Char(string="Ticket Number", readonly=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", index=True)
    user_id = fields.Many2one("res.users", string="Assigned to", index=True)
    company_id = fields.Many2one("res.company", index=True, default=current_company)
    stage = fields.Selection(
        [
            ("new", "New"),
            ("in_progress", "In Progress"),
            ("waiting", "Waiting for Customer"),
            ("solved", "Solved"),
            ("cancelled", "Cancelled"),
        ],
        default="new",
        required=True,
        index=True,
    )
    priority = fields.Selection(
        [("0", "Low"), ("1", "Normal"), ("2", "High"), ("3", "Urgent")], default="1"
    )
    description = fields.Html(help="Shown to the customer on the portal.")
    internal_note = fields.Text(groups="helpdesk.group_helpdesk_user")
    date_open = fields.Datetime(string="Opened", default=now, required=True)
    date_closed = fields.Datetime(string="Closed")

    def create(self, vals_list: Mapping[str, object] | Sequence[Mapping[str, object]]) -> Any:
        batch = [dict(vals_list)] if isinstance(vals_list, Mapping) else list(map(dict, vals_list))
        for vals in batch:
            if "number" in vals:
                raise ValidationError("helpdesk.ticket.number is assigned on create, not written")
        for vals, number in zip(batch, next_numbers(self, len(batch)), strict=True):
            vals["number"] = number
            if vals.get("stage") in CLOSED_STAGES and not vals.get("date_closed"):
                vals["date_closed"] = now(self)
        tickets = super().create(batch)
        tickets.sudo()._subscribe_customers()
        return tickets

    def write(self, vals: Mapping[str, object]) -> bool:
        if "number" in vals:
            raise ValidationError("helpdesk.ticket.number is assigned on create, not written")
        vals = dict(vals)
        stage = vals.get("stage")
        if stage in CLOSED_STAGES and "date_closed" not in vals:
            vals["date_closed"] = now(self)
        elif stage is not None and stage not in CLOSED_STAGES and "date_closed" not in vals:
            vals["date_closed"] = False
        return super().write(vals)

    def _subscribe_customers(self) -> None:
        """The customer follows its tickets (one write per customer)."""
        by_partner: dict[int, list[int]] = {}
        for ticket in self:
            if ticket.partner_id:
                by_partner.setdefault(int(ticket.partner_id.id), []).append(int(ticket.id))
        for partner_id, ticket_ids in by_partner.items():
            self.browse(ticket_ids).message_subscribe([partner_id])
