from odoo import fields, models


class Ticket(models.Model):
    _name = "x.ticket"
    _inherit = ["mail.thread", "portal.mixin"]

    name = fields.Char()
    partner_id = fields.Many2one("res.partner")
    company_id = fields.Many2one("res.company")
    active = fields.Boolean(default=True)
    total = fields.Float(compute="_compute_total")


class Order(models.Model):
    _name = "x.order"

    name = fields.Char()
    partner_id = fields.Many2one("res.partner")


class Line(models.Model):
    _name = "x.line"

    order_id = fields.Many2one("x.order")
    active = fields.Boolean()


class Category(models.Model):
    _name = "x.category"

    name = fields.Char()
    company_id = fields.Many2one("res.company")
    partner_id = fields.Many2one("res.partner")


class Stage(models.Model):
    _name = "x.stage"

    name = fields.Char()
    company_id = fields.Many2one("res.company")


class Kind(models.Model):
    _name = "x.kind"

    name = fields.Char()


class Report(models.Model):
    _name = "x.report"

    name = fields.Char()
