"""A counter whose ``action_hit`` is callable through the API and ``action_reset`` is not."""

from bastion import Model, ValidationError, fields, public


class Counter(Model):
    _name = "test.rpc.counter"
    _description = "Counter"
    name = fields.Char(required=True)
    hits = fields.Integer()

    @public
    def action_hit(self, amount: int = 1) -> list[int]:
        """Add ``amount`` to the hits of these records; the ids it touched."""
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise ValidationError(f"amount must be an integer, not {amount!r}")
        for record in self:
            record.write({"hits": record.hits + amount})
        return list(self.ids)

    @public
    def action_hit_then_refuse(self) -> bool:
        """Write, then fail: the API call must leave nothing written."""
        for record in self:
            record.write({"hits": record.hits + 1})
        raise ValidationError("refused after writing")

    @public
    def action_crash(self) -> bool:
        """A bug in a public method: the client must not see its details."""
        raise RuntimeError("internal detail 0xDEADBEEF")

    @public
    def action_big_number(self) -> int:
        """More than XML-RPC's 32-bit integers can carry (JSON can)."""
        return 2**40

    def action_reset(self) -> bool:
        """Not marked @public: the API refuses it."""
        self.write({"hits": 0})
        return True
