from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request
from odoo.tools import consteq


def find_own_docs(env, ids):
    partner = env.user.partner_id
    domain = [("id", "in", ids), ("partner_id", "=", partner.id)]
    return env["x.doc"].sudo().search_read(domain, ["name"])


def count_rows(env, name):
    env.cr.execute("SELECT count(*) FROM x_doc WHERE name = %s", (name,))


class Tickets(http.Controller):
    # --- search on id, bound to the user, a token or a published flag -------------

    @http.route("/ticket/close", type="http", auth="user")
    def close(self, **kw):
        ticket = request.env["x.ticket"].browse(int(kw["ticket_id"]))
        ticket.check_access("write")
        ticket.sudo().stage_id = int(kw["stage_id"])
        return request.redirect("/my/ticket/%s" % ticket.id)

    @http.route("/docs/names", type="http", auth="public")
    def names(self):
        docs = request.env["x.doc"].sudo().search_read([("id", "in", [1, 2])], ["name"])
        return ", ".join(d["name"] for d in docs)

    @http.route("/my/orders", type="http", auth="user")
    def orders(self, **post):
        partner = request.env.user.partner_id
        orders = request.env["x.order"].sudo().search([("partner_id", "=", partner.id)])
        return request.render("x.orders", {"orders": orders})

    @http.route("/doc/<int:doc_id>/shared", type="http", auth="public")
    def shared(self, doc_id, token):
        domain = [("id", "=", doc_id), ("access_token", "=", token)]
        return request.env["x.doc"].sudo().search(domain).name

    @http.route("/team/pick", type="http", auth="user")
    def pick_team(self, **kw):
        team = (
            request.env["x.team"]
            .sudo()
            .search([("id", "=", int(kw["team"])), ("show_in_portal", "=", True)])
        )
        return team.name

    @http.route("/doc/<int:doc_id>/token", type="http", auth="public")
    def by_token(self, doc_id, access_token=None):
        doc = request.env["x.doc"].sudo().browse(doc_id)
        if not access_token or not consteq(doc.access_token or "", access_token):
            raise NotFound()
        doc.viewed = True
        return doc.name

    # --- writes that are not record writes, or not cross-site -----------------------

    @http.route("/doc/title", type="jsonrpc", auth="user", csrf=False)
    def title(self, doc_id, name):
        doc = request.env["x.doc"].browse(int(doc_id))
        doc.name = name

    @http.route("/prefs", type="http", auth="user", csrf=False, methods=["POST"])
    def prefs(self, lang):
        request.session["lang"] = lang
        values = {"lang": lang}
        values["ok"] = True
        return str(values)

    @http.route("/doc/archive", type="http", auth="user", methods=["POST"])
    def archive(self, doc_id):
        self._archive(int(doc_id))

    def _archive(self, doc_id):
        doc = request.env["x.doc"].browse(doc_id)
        doc.active = False

    # --- helpers that check, or get no request value -------------------------------

    @http.route("/ticket/<int:ticket_id>/stage", type="jsonrpc", auth="public")
    def stage(self, ticket_id, stage_id, access_token=None):
        ticket = self._get_ticket(ticket_id, access_token)
        ticket.stage_id = stage_id
        return True

    def _get_ticket(self, ticket_id, access_token):
        return self._document_check_access("x.ticket", ticket_id, access_token)

    @http.route("/docs/export", type="http", auth="user")
    def export(self, ids):
        return str(find_own_docs(request.env, [int(i) for i in ids.split(",")]))

    @http.route("/doc/default", type="http", auth="user")
    def default_doc(self, **kw):
        return self._find(request.env.company.x_default_doc_id.id).name

    def _find(self, doc_id):
        return request.env["x.doc"].sudo().search([("id", "=", doc_id)])

    @http.route("/docs/count", type="http", auth="user")
    def count(self, name):
        count_rows(request.env, name)

    @http.route("/docs/sorted", type="http", auth="user")
    def sorted_docs(self, after):
        return self._sorted(after)

    def _sorted(self, after):
        query = "SELECT id FROM x_doc WHERE name > %s"
        query += " ORDER BY name"
        request.env.cr.execute(query, (after,))
        return request.env.cr.fetchall()

    # --- what is read through the ORM, or before sudo, is checked ------------------

    @http.route("/ticket/<int:ticket_id>/stages", type="http", auth="user")
    def stages(self, ticket_id):
        ticket = request.env["x.ticket"].browse(ticket_id)
        domain = [("company_id", "=", ticket.company_id.id)]
        return str(request.env["x.stage"].sudo().search(domain).ids)

    @http.route("/doc/<int:doc_id>/peek", type="http", auth="user")
    def peek(self, doc_id):
        docs = request.env["x.doc"]
        name = docs.browse(doc_id).name
        docs = docs.sudo()
        return name + str(docs.search_count([]))
