import ast

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.tools import SQL

ORDER = "name"


class Doc(models.Model):
    _name = "x.doc"

    name = fields.Char()
    code = fields.Text()

    def _sql_params(self, name):
        self.env.cr.execute("SELECT id FROM x_doc WHERE name = %s", (name,))

    def _sql_constant_local(self, ids):
        query = "SELECT id FROM x_doc WHERE id IN %s"
        query += " ORDER BY " + ORDER
        self._cr.execute(query, (tuple(ids),))

    def _sql_table(self):
        self.env.cr.execute("SELECT count(*) FROM %s" % self._table)
        self.env.cr.execute(SQL("SELECT id FROM x_doc WHERE name = %s", self.name))

    def _literal(self):
        return ast.literal_eval(self.code)

    def _eval_constant(self):
        return eval("1 + 1")

    def _getattr_constant(self, record):
        return getattr(record, "name")

    def _markup_constant(self):
        return Markup("<b>%s</b>") % self.name

    def _markup_translated(self):
        return Markup(_("<b>Done</b>"))

    def _write_sudo(self):
        self.sudo().write({"name": "private helper"})

    def action_publish(self):
        self.check_access("write")
        self.sudo().write({"name": "published"})

    @api.model
    def grant(self, partner_id):
        self.env["x.doc"].sudo().create({"name": partner_id})

    def write(self, vals):
        return super().sudo().write(vals)
