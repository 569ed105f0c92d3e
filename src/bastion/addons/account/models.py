"""Invoicing: customer invoices, credit notes and vendor bills, with their lines.

>>> move = env["account.move"].create({"move_type": "out_invoice", "partner_id": acme.id,
...     "invoice_line_ids": [Command.create({"name": "Desk", "price_unit": 500})]})
>>> move.action_post()                                   # doctest: +SKIP
>>> move.name, move.amount_total                         # doctest: +SKIP
('INV/2026/00001', 550.0)

Customers reach an invoice through the portal as its followers (Odoo's rule shape),
so creating an invoice subscribes the customer's commercial entity. ``action_post``
and ``button_cancel`` write in the caller's environment: their rights apply.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from bastion.errors import ValidationError
from bastion.orm import Model, fields
from bastion.orm.defaults import as_batch, current_company, next_names, refuse_computed

# One flat rate: the demo has no tax engine.
TAX_RATE = 0.10
MOVE_COMPUTED = ("amount_untaxed", "amount_tax", "amount_total", "amount_residual")
LINE_COMPUTED = ("price_subtotal",)
DRAFT_NAME = "/"
NAME_PREFIXES = {
    "entry": "MISC",
    "out_invoice": "INV",
    "out_refund": "RINV",
    "in_invoice": "BILL",
    "in_refund": "RBILL",
}


def next_move_name(
    moves: Model, move_type: str, year: int, company: int | None, width: int = 5
) -> str:
    """The next ``INV/<year>/<digits>`` of that type in ``company``, never given before
    and without gaps (the counter of the type, year and company,
    ``bastion.orm.numbering``): as Odoo's journals, each company numbers its own.

    >>> next_move_name(env["account.move"], "out_invoice", 2026, 1)   # doctest: +SKIP
    'INV/2026/00013'
    """
    prefix = f"{NAME_PREFIXES[move_type]}/{year}/"
    return next_names(moves, prefix, 1, width=width, company=company)[0]


class AccountMove(Model):
    _name = "account.move"
    _inherit = ["mail.thread"]
    _share_includes = ("invoice_line_ids",)
    _description = "Journal Entry"
    _order = "invoice_date desc, name desc, id desc"

    name = fields.Char(string="Number", required=True, default=DRAFT_NAME, index=True)
    partner_id = fields.Many2one("res.partner", string="Partner", index=True)
    company_id = fields.Many2one("res.company", index=True, default=current_company)
    move_type = fields.Selection(
        [
            ("entry", "Journal Entry"),
            ("out_invoice", "Customer Invoice"),
            ("out_refund", "Customer Credit Note"),
            ("in_invoice", "Vendor Bill"),
            ("in_refund", "Vendor Credit Note"),
        ],
        string="Type",
        default="entry",
        required=True,
        index=True,
    )
    state = fields.Selection(
        [("draft", "Draft"), ("posted", "Posted"), ("cancel", "Cancelled")],
        string="Status",
        default="draft",
        required=True,
        index=True,
    )
    invoice_date = fields.Date(string="Invoice Date")
    invoice_date_due = fields.Date(string="Due Date")
    invoice_origin = fields.Char(string="Origin", help="The document it was made from.")
    invoice_line_ids = fields.One2many("account.move.line", "move_id", string="Invoice Lines")
    payment_state = fields.Selection(
        [("not_paid", "Not Paid"), ("partial", "Partially Paid"), ("paid", "Paid")],
        default="not_paid",
        required=True,
    )
    narration = fields.Text(string="Terms and Conditions")
    amount_untaxed = fields.Float(string="Untaxed Amount", readonly=True)
    amount_tax = fields.Float(string="Tax", readonly=True)
    amount_total = fields.Float(string="Total", readonly=True)
    amount_residual = fields.Float(string="Amount Due", readonly=True)

    def create(self, vals_list: Mapping[str, object] | Sequence[Mapping[str, object]]) -> Any:
        batch = as_batch(vals_list)
        for vals in batch:
            refuse_computed(self._name, vals, MOVE_COMPUTED)
        moves = super().create(batch)
        moves.sudo()._subscribe_partners()
        moves.sudo()._recompute_amounts()
        return moves

    def write(self, vals: Mapping[str, object]) -> bool:
        refuse_computed(self._name, vals, MOVE_COMPUTED)
        super().write(vals)
        if "payment_state" in vals:
            self.sudo()._recompute_amounts()
        return True

    def action_post(self) -> bool:
        """Post draft entries: each gets its number, and its date when it had none."""
        for move in self:
            if move.state != "draft":
                raise ValidationError(
                    f"account.move({move.id}) {move.name}: only a draft entry can be posted, "
                    f"this one is {move.state!r}"
                )
            if move.move_type != "entry" and not move.partner_id:
                raise ValidationError(
                    f"account.move({move.id}): an invoice needs a partner before it is posted"
                )
        for move in self:
            date = move.invoice_date or dt.date.today()
            vals: dict[str, object] = {"state": "posted", "invoice_date": date}
            if move.name in (DRAFT_NAME, False):
                company = move.company_id.id or None
                vals["name"] = next_move_name(self, str(move.move_type), date.year, company)
            move.write(vals)
        return True

    def button_cancel(self) -> bool:
        for move in self:
            if move.state == "cancel":
                raise ValidationError(f"account.move({move.id}) {move.name} is already cancelled")
        self.write({"state": "cancel"})
        return True

    def _subscribe_partners(self) -> None:
        """The partner's commercial entity follows the entry: that is how its portal
        users reach it."""
        by_partner: dict[int, list[int]] = {}
        for move in self:
            if move.partner_id:
                commercial = int(move.partner_id.commercial_partner_id.id)
                by_partner.setdefault(commercial, []).append(int(move.id))
        for partner_id, move_ids in by_partner.items():
            self.browse(move_ids).message_subscribe([partner_id])

    def _recompute_amounts(self) -> None:
        """Stored compute: totals from the lines; with no payment model, a partial
        payment counts as half the total."""
        for move in self:
            untaxed = round(sum(line.price_subtotal for line in move.invoice_line_ids), 2)
            tax = round(untaxed * TAX_RATE, 2)
            total = round(untaxed + tax, 2)
            residual = {"paid": 0.0, "partial": round(total / 2, 2)}.get(
                str(move.payment_state), total
            )
            values = {
                "amount_untaxed": untaxed,
                "amount_tax": tax,
                "amount_total": total,
                "amount_residual": residual,
            }
            if any(move[name] != value for name, value in values.items()):
                # Model.write: the override above refuses computed fields to callers.
                Model.write(move, values)


class AccountMoveLine(Model):
    _name = "account.move.line"
    _description = "Journal Item"
    _order = "move_id, sequence, id"

    move_id = fields.Many2one(
        "account.move", string="Journal Entry", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    name = fields.Char(string="Label")
    quantity = fields.Float(default=1.0)
    price_unit = fields.Float(string="Unit Price")
    price_subtotal = fields.Float(string="Subtotal", readonly=True)

    def create(self, vals_list: Mapping[str, object] | Sequence[Mapping[str, object]]) -> Any:
        batch = as_batch(vals_list)
        for vals in batch:
            refuse_computed(self._name, vals, LINE_COMPUTED)
            quantity = vals.get("quantity", 1.0)
            price = vals.get("price_unit") or 0.0
            if isinstance(quantity, int | float) and isinstance(price, int | float):
                vals["price_subtotal"] = round(quantity * price, 2)
        lines = super().create(batch)
        lines.sudo().mapped("move_id")._recompute_amounts()
        return lines

    def write(self, vals: Mapping[str, object]) -> bool:
        refuse_computed(self._name, vals, LINE_COMPUTED)
        before = self.sudo().mapped("move_id")
        super().write(vals)
        lines = self.sudo()
        if "quantity" in vals or "price_unit" in vals:
            for line in lines:
                Model.write(line, {"price_subtotal": round(line.quantity * line.price_unit, 2)})
        if {"quantity", "price_unit", "move_id"} & set(vals):
            (before | lines.mapped("move_id"))._recompute_amounts()
        return True

    def unlink(self) -> bool:
        moves = self.sudo().mapped("move_id")
        super().unlink()
        moves.exists()._recompute_amounts()
        return True
