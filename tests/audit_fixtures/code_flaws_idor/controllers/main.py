from odoo import http
from odoo.fields import Domain
from odoo.http import request


def find_docs(env, ids):
    return env["x.doc"].sudo().search_read([("id", "in", ids)], ["name"])


def count_rows(env, column):
    env.cr.execute("SELECT count(*) FROM x_doc GROUP BY " + column)


class Tickets(http.Controller):
    # --- search on id from the request, in sudo mode -------------------------------

    @http.route("/ticket/close", type="http", auth="user")
    def close(self, **kw):
        values = {}
        for name, value in kw.items():
            values[name] = int(value) if name.endswith("_id") else value
        ticket = (
            http.request.env["x.ticket"]
            .sudo()
            .search([("id", "=", values["ticket_id"])])
        )
        ticket.stage_id = values.get("stage_id")
        return request.redirect("/my/ticket/%s" % ticket.id)

    @http.route("/docs/names", type="http", auth="public")
    def names(self):
        ids = [int(i) for i in request.httprequest.args.get("ids", "").split(",")]
        docs = request.env["x.doc"].sudo().search_read([("id", "in", ids)], ["name"])
        return ", ".join(d["name"] for d in docs)

    @http.route("/my/orders", type="http", auth="user")
    def orders(self, **post):
        domain = [("state", "!=", "cancel")]
        domain.append(("partner_id", "=", int(post.get("partner"))))
        orders = request.env["x.order"].sudo().search(domain)
        return request.render("x.orders", {"orders": orders})

    @http.route("/doc/json", type="jsonrpc", auth="user")
    def doc_json(self):
        doc_id = http.request.get_json_data()["id"]
        Doc = request.env["x.doc"].sudo()
        return Doc.search_fetch(Domain("id", "=", doc_id), ["name"]).read(["name"])

    # --- writes of a record picked by a request id ---------------------------------

    @http.route("/doc/rename", type="jsonrpc", auth="user")
    def rename(self, doc_id, name):
        record = request.env["x.doc"].browse(int(doc_id))
        record.sudo().name = name
        return True

    @http.route("/docs/retitle", type="jsonrpc", auth="public")
    def retitle(self, ids, name):
        for doc in request.env["x.doc"].sudo().browse(ids):
            doc["name"] = name
        return True

    # --- csrf=False routes that only assign fields ---------------------------------

    @http.route("/doc/title", type="http", auth="user", csrf=False, methods=["POST"])
    def title(self, doc_id, name):
        doc = request.env["x.doc"].browse(int(doc_id))
        doc.check_access("write")
        doc.name = name

    @http.route("/my/email", type="http", auth="user", csrf=False, methods=["POST"])
    def email(self, email):
        request.env.user.partner_id.email = email

    @http.route("/doc/archive", type="http", auth="user", csrf=False, methods=["POST"])
    def archive(self, doc_id):
        self._archive(int(doc_id))

    def _archive(self, doc_id):
        doc = request.env["x.doc"].browse(doc_id)
        doc.check_access("write")
        doc.active = False

    # --- request values passed to helpers ------------------------------------------

    @http.route("/ticket/<int:ticket_id>/stage", type="jsonrpc", auth="user")
    def stage(self, ticket_id, stage_id):
        ticket = self._get_ticket(ticket_id)
        ticket.stage_id = stage_id
        return True

    def _get_ticket(self, ticket_id):
        return request.env["x.ticket"].sudo().browse(ticket_id)

    @http.route("/docs/export", type="http", auth="public")
    def export(self, ids):
        return str(find_docs(request.env, [int(i) for i in ids.split(",")]))

    @http.route("/doc/preview", type="http", auth="user")
    def preview(self, **kw):
        return self._load(**kw).name

    def _load(self, **kw):
        return self._find(kw.get("id"))

    def _find(self, doc_id):
        return request.env["x.doc"].sudo().search([("id", "=", int(doc_id))])

    # --- request values reaching SQL through helpers -------------------------------

    @http.route("/docs/count", type="http", auth="user")
    def count(self, column="name"):
        count_rows(request.env, column)

    @http.route("/docs/sorted", type="http", auth="user")
    def sorted_docs(self, order):
        return self._sorted(order)

    def _sorted(self, order):
        request.env.cr.execute(f"SELECT id FROM x_doc ORDER BY {order}")
        return request.env.cr.fetchall()

    @http.route("/docs/tree", type="http", auth="user")
    def tree(self, parent):
        return self._children(parent, 0)

    def _children(self, parent, depth):
        query = "SELECT id FROM x_doc WHERE parent = '%s'" % parent
        request.env.cr.execute(query)
        if depth < 3:
            for (child,) in request.env.cr.fetchall():
                self._children(child, depth + 1)
