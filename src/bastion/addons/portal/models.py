"""Share links: a signed, expiring, revocable URL that lets anyone read one document.

>>> token = create_share_link(env, "sale.order", order.id, days=14)   # doctest: +SKIP

(``bastion.web.share``: the token is shown once; only a hash of it is stored.)

Internal users share what they may read: the share follows its document
(``_access_through``). Who opens the link gets read access to that document only (and
to the lines it declares in ``_share_includes``), decided by ``bastion.security``
through an environment grant; the link itself is never a session.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bastion.errors import ValidationError
from bastion.orm import Model, fields
from bastion.orm.defaults import current_user, now

MAX_DAYS = 90


class PortalShare(Model):
    _name = "portal.share"
    _description = "Share Link"
    _order = "id desc"
    _access_through = ("res_model", "res_id")
    # Whoever may read a document may share it, and list or revoke its links.
    _access_through_ops = {"read": "read", "create": "read", "write": "read", "unlink": "read"}

    name = fields.Char(string="Shared with", help="Who the link was sent to (a note).")
    res_model = fields.Char(string="Document Model", required=True, index=True)
    res_id = fields.Integer(string="Document", required=True, index=True)
    # The SHA-256 of the link's random part: useless without the link, which is also
    # signed with the server's key.
    token_hash = fields.Char(required=True, index=True, readonly=True)
    created_by = fields.Many2one("res.users", default=current_user, readonly=True)
    created_at = fields.Datetime(default=now, required=True, readonly=True)
    expires_at = fields.Datetime(required=True)
    revoked = fields.Boolean(default=False)
    use_count = fields.Integer(default=0, readonly=True)
    last_used_at = fields.Datetime(readonly=True)

    def create(self, vals_list: Any) -> Any:
        batch = [vals_list] if isinstance(vals_list, dict) else list(vals_list)
        for vals in batch:
            expires = vals.get("expires_at")
            if isinstance(expires, dt.datetime):
                longest = now(self) + dt.timedelta(days=MAX_DAYS, minutes=1)
                if expires > longest:
                    raise ValidationError(
                        f"portal.share.expires_at: a link lasts at most {MAX_DAYS} days"
                    )
        return super().create(batch)
