"""Untrusted rich text in, trusted ``Markup`` out: the one gate between the two.

>>> sanitize_html('<p onclick="x()">Hi <script>alert(1)</script><b>there</b></p>')
Markup('<p>Hi <b>there</b></p>')
>>> plaintext_to_html("Dear Ann,\\n\\nThe invoice <#42> is paid.")
Markup('<p>Dear Ann,</p><p>The invoice &lt;#42&gt; is paid.</p>')
>>> html_to_text("<p>Fish &amp; chips</p><p>today</p>")
'Fish & chips\\ntoday'

``fields.Html`` calls :func:`sanitize_html` on every write and templates render its
``Markup`` as is, so this allow-list decides what a message, a note or a portal
comment can contain. The work is done by ammonia (through ``nh3``), which parses with
a real HTML5 parser (html5ever) and serialises the tree again, so what the browser
sees is what was checked; nothing here inspects HTML with regular expressions.

The allow-list is deliberately small: text structure, links and simple tables. No
images (tracking pixels, ``onerror``), no ``style``/``class``/``id`` (CSS tricks,
clobbering the page's own ids), no forms, frames, SVG or MathML (namespace mXSS).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import nh3
from markupsafe import Markup, escape

ALLOWED_TAGS: Final = frozenset(
    {
        "p", "br", "b", "strong", "i", "em", "u", "s", "ul", "ol", "li", "a",
        "blockquote", "code", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "span", "div",
        "table", "thead", "tbody", "tr", "th", "td", "hr",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "a": frozenset({"href", "title"}),
        "td": frozenset({"colspan", "rowspan"}),
        "th": frozenset({"colspan", "rowspan"}),
    }
)
ALLOWED_URL_SCHEMES: Final = frozenset({"http", "https", "mailto"})
LINK_REL: Final = "noopener noreferrer nofollow"
# Removed together with their content: the text of a script or a style sheet is never
# something a reader meant to see.
CLEAN_CONTENT_TAGS: Final = frozenset({"script", "style"})

# Block-level end tags become line breaks in plain text, so "<p>a</p><p>b</p>" reads
# "a\nb" rather than "ab"; cells are separated by a space.
_TEXT_BREAKS: Final = (
    *((f"</{tag}>", "\n") for tag in ("p", "div", "li", "blockquote", "pre", "tr")),
    *((f"</h{level}>", "\n") for level in range(1, 7)),
    ("<br>", "\n"),
    ("<hr>", "\n"),
    ("</td>", " "),
    ("</th>", " "),
)

_MAX_EXTRA_PASSES: Final = 3

_cleaner: Final = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=CLEAN_CONTENT_TAGS,
    # "*" must be given, and empty: otherwise ammonia keeps its default attributes for
    # every tag (title, lang).
    attributes={"*": frozenset(), **ALLOWED_ATTRIBUTES},
    # No data-* or other prefixed attributes: only what ALLOWED_ATTRIBUTES names.
    generic_attribute_prefixes=set(),
    url_schemes=ALLOWED_URL_SCHEMES,
    # Relative links ("/my/orders/7", "#top") stay; a scheme-relative "//host/x" one
    # takes the page's scheme, which is http or https, both allowed anyway.
    url_relative="pass_through",
    link_rel=LINK_REL,
    strip_comments=True,
)
_text_cleaner: Final = nh3.Cleaner(
    tags=set(),
    clean_content_tags=CLEAN_CONTENT_TAGS,
    attributes={},
    strip_comments=True,
)


def sanitize_html(value: str | None) -> Markup:
    """Keep only allow-listed tags, attributes and URL schemes; return trusted HTML.

    >>> sanitize_html('<a href="javascript:alert(1)" title="t">x</a>')
    Markup('<a title="t" rel="noopener noreferrer nofollow">x</a>')
    >>> sanitize_html(None)
    Markup('')

    The result is a fixed point: ``sanitize_html(sanitize_html(x)) == sanitize_html(x)``.
    """
    if value is None:
        return Markup("")
    if not isinstance(value, str):
        raise TypeError(f"sanitize_html expects str or None, got {type(value).__name__}")
    if not value:
        return Markup("")
    # Removing a tag keeps its children, and the new tree need not be one the parser
    # would build from its own serialisation: "<table><caption><p>x" leaves a <p> inside
    # a <table>, which a browser moves out in front of it. Every pass is a complete
    # sanitisation, so safety never depends on this loop; repeating until the text
    # stops changing only makes the result a fixed point, as stored values must be.
    # Clean input stops after one pass, dirty input after two in practice.
    cleaned = _clean_once(value)
    for _ in range(_MAX_EXTRA_PASSES):
        again = _clean_once(cleaned)
        if again == cleaned:
            break
        cleaned = again
    return Markup(cleaned)  # noqa: S704 - this is the allow-list cleaner's output


def _clean_once(value: str) -> str:
    cleaned = _cleaner.clean(value)
    # An HTML parser drops one newline right after <pre>, and html5ever does not add it
    # back when serialising (the HTML serialisation rules used to). Without it, each
    # pass would eat one more newline. <pre> has no allowed attribute and text "<" is
    # always escaped, so "<pre>\n" in the output is exactly a <pre> whose text starts
    # with a newline.
    return cleaned.replace("<pre>\n", "<pre>\n\n")


def plaintext_to_html(text: str | None) -> Markup:
    """Escape text typed in a textarea; blank lines make paragraphs, newlines ``<br>``.

    >>> plaintext_to_html("Hello,\\nsee <b>below</b>.\\n\\nBye")
    Markup('<p>Hello,<br>see &lt;b&gt;below&lt;/b&gt;.</p><p>Bye</p>')
    >>> plaintext_to_html("")
    Markup('')

    The result is already what :func:`sanitize_html` would make of it, so storing it
    in an Html field keeps it unchanged.
    """
    if text is None:
        return Markup("")
    if not isinstance(text, str):
        raise TypeError(f"plaintext_to_html expects str or None, got {type(text).__name__}")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    built = Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in paragraph))
        for paragraph in paragraphs
        if paragraph
    )
    # Through the sanitiser once more only to get its canonical serialisation (quotes
    # unescaped in text, &nbsp;), so that the Html field's own pass changes nothing.
    return sanitize_html(str(built))


def html_to_text(value: str | None) -> str:
    """Plain text of an HTML fragment, for previews, notifications and search.

    >>> html_to_text("<p>Tom &amp; Jerry <script>x()</script></p><ul><li>one</li></ul>")
    'Tom & Jerry \\none'

    The result is text, not HTML: it may contain ``<`` and must be escaped when shown
    (Jinja's autoescape does that).
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"html_to_text expects str or None, got {type(value).__name__}")
    # Sanitising first gives a canonical serialisation, in which "</p>" can only be an
    # end tag (text "<" is escaped), so block ends can be turned into line breaks.
    canonical = str(sanitize_html(value))
    for tag, separator in _TEXT_BREAKS:
        canonical = canonical.replace(tag, separator)
    return html.unescape(_text_cleaner.clean(canonical)).strip()
