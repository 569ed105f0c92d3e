"""Followers, messages and attachments, on any model that inherits ``mail.thread``.

>>> order.message_subscribe([customer.id])               # doctest: +SKIP
>>> order.with_user(portal).message_post("When will it ship?")   # doctest: +SKIP

Messages and attachments belong to a document through ``(res_model, res_id)``; who may
read or add them follows who may read or write that document, decided by
``bastion.security`` (``_access_through``) and compiled into the same SQL as their own
record rules. Message bodies are Html: sanitised when written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from bastion.orm import Model, fields
from bastion.orm.defaults import now
from bastion.sanitize import plaintext_to_html

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


class MailThread(Model):
    _name = "mail.thread"
    _description = "Discussion thread"
    _abstract = True

    message_partner_ids = fields.Many2many("res.partner", string="Followers")

    def message_subscribe(self, partner_ids: Iterable[int]) -> None:
        self.write({"message_partner_ids": [(4, pid) for pid in partner_ids]})

    def message_post(
        self, body: str, *, internal: bool = False, message_type: str = "comment"
    ) -> Any:
        """Post a message typed as plain text on each record, authored by the current
        user's partner. The message's own rules and its document's access decide."""
        author = self.env.user.partner_id
        return self.env["mail.message"].create(
            [
                {
                    "res_model": self._name,
                    "res_id": record.id,
                    "body": str(plaintext_to_html(body)),
                    "author_id": author.id,
                    "author_name": author.name,
                    "internal": internal,
                    "message_type": message_type,
                }
                for record in self
            ]
        )

    def messages(self) -> Any:
        """This document's messages that the current user may read, newest first."""
        return self.env["mail.message"].search(
            [("res_model", "=", self._name), ("res_id", "in", self.ids)]
        )

    def attachments(self) -> Any:
        return self.env["ir.attachment"].search(
            [("res_model", "=", self._name), ("res_id", "in", self.ids)]
        )


class MailMessage(Model):
    _name = "mail.message"
    _description = "Message"
    _order = "date desc, id desc"
    _rec_name = "subject"
    _access_through = ("res_model", "res_id")
    # Whoever may read a document may comment on it (their own rules still apply:
    # portal users post public comments as themselves); changing or deleting a
    # message needs write access to its document.
    _access_through_ops = {"read": "read", "create": "read", "write": "write", "unlink": "write"}

    res_model = fields.Char(string="Document Model", required=True, index=True)
    res_id = fields.Integer(string="Document", required=True, index=True)
    subject = fields.Char()
    body = fields.Html()
    author_id = fields.Many2one("res.partner", string="Author", index=True)
    # The author's name as shown when posting: readers who may not read the author's
    # partner (a customer reading a staff reply) still see who wrote.
    author_name = fields.Char()
    date = fields.Datetime(default=now, required=True)
    message_type = fields.Selection(
        [("comment", "Comment"), ("notification", "System notification")],
        default="comment",
        required=True,
    )
    internal = fields.Boolean(
        string="Internal note", default=False, help="Hidden from portal users."
    )


class IrAttachment(Model):
    _name = "ir.attachment"
    _description = "Attachment"
    _order = "id desc"
    _access_through = ("res_model", "res_id")

    name = fields.Char(required=True)
    res_model = fields.Char(string="Document Model", required=True, index=True)
    res_id = fields.Integer(string="Document", required=True, index=True)
    mimetype = fields.Char(default="application/octet-stream")
    datas = fields.Binary(string="File Content")
    file_size = fields.Integer(readonly=True)
    checksum = fields.Char(readonly=True)

    def create(self, vals_list: Any) -> Any:
        batch = [vals_list] if isinstance(vals_list, dict) else list(vals_list)
        return super().create([_with_file_facts(vals) for vals in batch])

    def write(self, vals: Any) -> bool:
        return super().write(_with_file_facts(vals))


def _with_file_facts(given: Any) -> dict[str, object]:
    """Size and checksum computed from the content, never taken from the caller."""
    from bastion.errors import ValidationError  # noqa: PLC0415

    vals: dict[str, object] = dict(given)
    for key in ("file_size", "checksum"):
        if key in vals:
            raise ValidationError(f"ir.attachment.{key} is computed from the content")
    if "datas" in vals:
        content = vals["datas"] or b""
        if not isinstance(content, bytes):
            raise ValidationError("ir.attachment.datas: expected bytes")
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise ValidationError(
                f"ir.attachment.datas: {len(content)} bytes is over the limit of "
                f"{MAX_ATTACHMENT_BYTES} bytes"
            )
        vals["file_size"] = len(content)
        vals["checksum"] = hashlib.sha256(content).hexdigest()
    return vals
