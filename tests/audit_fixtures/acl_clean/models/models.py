from odoo import fields, models


class Doc(models.Model):
    _name = "x.doc"
    _inherit = ["mail.thread"]

    name = fields.Char()
    partner_id = fields.Many2one("res.partner")
    company_id = fields.Many2one("res.company")


class Note(models.Model):
    _name = "x.note"

    name = fields.Char()
    partner_id = fields.Many2one(comodel_name="res.partner")


class Tag(models.Model):
    _name = "x.tag"

    name = fields.Char()
    partner_id = fields.Many2one("res.partner")


class Partner(models.Model):
    _inherit = "res.partner"

    x_doc_ids = fields.One2many("x.doc", "partner_id")
