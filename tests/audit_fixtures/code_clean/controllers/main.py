from odoo import http
from odoo.http import request


class Portal(http.Controller):
    @http.route("/doc/<int:doc_id>", type="http", auth="public", website=True)
    def doc_public(self, doc_id, access_token=None, **kw):
        doc = self._document_check_access("x.doc", doc_id, access_token)
        return request.render("x.doc", {"doc": doc})

    @http.route("/my/doc", type="http", auth="user")
    def doc_user(self, **kw):
        doc = request.env["x.doc"].browse(int(kw.get("id")))
        doc.check_access("read")
        return request.render("x.doc", {"doc": doc.sudo()})

    @http.route("/my/doc/own")
    def doc_own(self):
        doc = request.env["x.doc"].sudo().browse(request.env.user.partner_id.id)
        return doc.name

    @http.route("/doc/rename", type="http", auth="user", methods=["POST"])
    def rename(self, doc_id, name):
        request.env["x.doc"].browse(int(doc_id)).write({"name": name})

    @http.route("/doc/new", type="json", auth="user", csrf=False)
    def new(self, name):
        request.env["x.doc"].create({"name": name})

    @http.route("/doc/hook", type="http", auth="none", csrf=False)
    def hook(self):
        return "ok"
