from odoo import http
from odoo.http import request


class Portal(http.Controller):
    @http.route("/doc/<int:doc_id>", type="http", auth="public", website=True)
    def doc_public(self, doc_id, **kw):
        doc = request.env["x.doc"].sudo().browse(doc_id)
        return request.render("x.doc", {"doc": doc})

    @http.route("/my/doc", type="http", auth="user")
    def doc_user(self, **kw):
        docs = request.env["x.doc"].sudo()
        doc = docs.browse(int(kw.get("id")))
        return request.render("x.doc", {"doc": doc})

    @http.route("/my/doc/params")
    def doc_params(self):
        doc_id = int(request.params["id"])
        doc = request.env["x.doc"].sudo().browse(doc_id)
        return doc.name

    @http.route("/doc/rename", type="http", auth="user", csrf=False, methods=["POST"])
    def rename(self, doc_id, name):
        request.env["x.doc"].browse(int(doc_id)).write({"name": name})

    @http.route("/doc/new", auth="public", csrf=False)
    def new(self, name):
        request.env["x.doc"].sudo().check_access("create")
        request.env["x.doc"].create({"name": name})

    @http.route("/doc/delete", type="http", auth="user", csrf=False)
    def delete(self, doc_id):
        record = request.env["x.doc"].browse(int(doc_id))
        record.check_access("unlink")
        record.unlink()
