"""Access decisions: groups, access rights, record rules, field groups.

The ORM consults :class:`SecurityPolicy` for every operation of a non-superuser
environment; nothing else in Bastion decides access.
"""

from .groups import check_acyclic, check_user_type, closure
from .policy import SecurityPolicy
from .state import compile_rule_text

__all__ = ["SecurityPolicy", "check_acyclic", "check_user_type", "closure", "compile_rule_text"]
