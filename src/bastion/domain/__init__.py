"""The domain language: parse, normalise, compile to SQL, evaluate in Python."""

from .evaluate import filter_ids, matches
from .nodes import (
    FALSE,
    TRUE,
    And,
    Any,
    Constant,
    Node,
    Not,
    Or,
    Reference,
    Term,
    conjunction,
    disjunction,
    negation,
)
from .parse import fields_in, literal_domain, parse_domain
from .sql import SqlCompiler

__all__ = [
    "FALSE",
    "TRUE",
    "And",
    "Any",
    "Constant",
    "Node",
    "Not",
    "Or",
    "Reference",
    "SqlCompiler",
    "Term",
    "conjunction",
    "disjunction",
    "negation",
    "fields_in",
    "filter_ids",
    "literal_domain",
    "matches",
    "parse_domain",
]
