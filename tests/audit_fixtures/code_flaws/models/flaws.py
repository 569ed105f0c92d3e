from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools.safe_eval import safe_eval


class Doc(models.Model):
    _name = "x.doc"

    name = fields.Char()
    code = fields.Text()

    def _sql_percent(self, name):
        self.env.cr.execute("SELECT id FROM x_doc WHERE name = '%s'" % name)

    def _sql_fstring_local(self, ids):
        query = f"SELECT id FROM x_doc WHERE id IN ({','.join(map(str, ids))})"
        self._cr.execute(query)

    def _sql_format_and_concat(self, order):
        query = "SELECT id FROM x_doc"
        query += " ORDER BY {}".format(order)
        self.env.cr.execute(query)

    def _eval_field(self):
        return eval(self.code)

    def _safe_eval_field(self, record):
        return safe_eval(record.code, {"env": self.env})

    def _exec_local(self):
        text = self.code
        exec(text)

    def _getattr_param(self, method):
        return getattr(self, method)()

    def _getattr_local(self, record):
        name = record.code
        return getattr(record, name)

    def _getattr_concat(self, kind):
        return getattr(self, "_compute_" + kind)

    def _markup_fstring(self):
        return Markup(f"<b>{self.name}</b>")

    def _markup_field(self):
        return Markup(self.code)

    def _markup_local(self):
        html = "<i>" + self.name + "</i>"
        return Markup(html)

    def action_publish(self):
        self.sudo().write({"name": "published"})

    def grant(self, partner_id):
        docs = self.env["x.doc"].sudo()
        docs.create({"name": partner_id})

    @api.returns("self")
    def purge(self):
        self.search([]).sudo().unlink()
