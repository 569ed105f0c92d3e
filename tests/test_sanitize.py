"""sanitize_html against XSS payloads, by parsing its output; plaintext_to_html; html_to_text.

``XSS_PAYLOADS`` is shared: browser tests render every payload in a real page and check
that nothing runs (``from test_sanitize import XSS_PAYLOADS``).

The output is inspected with two independent HTML parsers (the standard library's
tokenizer and libxml2 through lxml), not with regular expressions alone: what matters
is which elements and attributes a browser would build from it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import lxml.html
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup, escape

from bastion.sanitize import html_to_text, plaintext_to_html, sanitize_html

XSS_PAYLOADS: list[str] = [
    # Script elements, plain and hidden in other containers.
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://evil.test/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<svg><script>alert(1)</script></svg>",
    "<template><script>alert(1)</script></template>",
    "<!--<script>alert(1)</script>-->",
    "<!--[if IE]><script>alert(1)</script><![endif]-->",
    "<p>ok<!-- --><script>alert(1)</script><!-- --></p>",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<xmp><script>alert(1)</script></xmp>",
    "<textarea></textarea><script>alert(1)</script>",
    # Event handlers.
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=x OnErRoR=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    '<a href="http://ok.test" onclick="alert(1)">x</a>',
    '<p onmouseover="alert(1)">hover</p>',
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<marquee onstart=alert(1)>x</marquee>",
    '<div onpointerenter="alert(1)" tabindex=1>x</div>',
    # Dangerous URL schemes, with the encodings browsers tolerate.
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="java&#10;script:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="&#x20;&#x0B;javascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;avascript&#x3A;alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="DATA:text/html,<script>alert(1)</script>">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="jar:http://evil.test/x.jar!/">x</a>',
    # Unicode look-alikes and escapes: they must not become a javascript: URL.
    '<a href="\\u006aavascript:alert(1)">x</a>',
    '<a href="\uff4a\uff41\uff56\uff41\uff53\uff43\uff52\uff49\uff50\uff54:alert(1)">x</a>',
    "<\uff53cript>alert(1)</\uff53cript>",
    '<a href="java\u0000script:alert(1)">x</a>',
    '<a href="javascript\u2028:alert(1)">x</a>',
    # Embedded documents and plug-ins.
    '<iframe src="https://evil.test"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="https://evil.test/x.swf">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<button formaction="javascript:alert(1)">go</button>',
    '<isindex action="javascript:alert(1)" type=image>',
    # Namespace confusion and parser differentials (mXSS).
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    '<math><mi><mglyph><svg><mtext><textarea><path id="</textarea><img onerror=alert(1) src=1>">',
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<math href="javascript:alert(1)">x</math>',
    # Style sheets and inline style.
    "<style>@import 'http://evil.test/x.css';</style>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p style="x:expression(alert(1))">x</p>',
    '<span style="position:fixed;top:0;left:0;width:100%;height:100%">cover</span>',
    '<link rel="stylesheet" href="http://evil.test/x.css">',
    # Document-level elements.
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript://">',
    '<base href="https://evil.test/">',
    # Breaking out of an attribute of the surrounding template.
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)',
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    # Tracking, clobbering and other attributes that are not on the list.
    '<img src="https://tracker.test/pixel.gif">',
    '<p id="csrf_token" class="admin" name="x" data-x="1">x</p>',
    '<a href="https://ok.test" target="_blank" rel="opener">x</a>',
    '<a href="https://ok.test" ping="https://tracker.test">x</a>',
    '<td background="javascript:alert(1)">x</td>',
]

ALLOWED_TAGS = {
    *"p br b strong i em u s ul ol li a blockquote code pre span div hr".split(),
    *"h1 h2 h3 h4 h5 h6 table thead tbody tr th td".split(),
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "rel"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
NEVER_TAGS = {
    *"script style iframe object embed form input button img svg math meta base".split(),
    *"link noscript template textarea select video audio source frame frameset".split(),
}
REL = "noopener noreferrer nofollow"
SAFE_SCHEMES = {"http", "https", "mailto"}
# What browsers strip from URLs before looking for the scheme: ASCII whitespace and
# C0 controls anywhere in the scheme, so "java\tscript:" is javascript:.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


class _Collector(HTMLParser):
    """Every start tag with its attributes, and whether a comment was seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def elements_of(markup: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """(tag, attributes) of every element, as two different parsers see them."""
    collector = _Collector()
    collector.feed(markup)
    collector.close()
    assert collector.comments == [], f"a comment survived in {markup!r}"
    found = list(collector.elements)
    if markup:
        # libxml2 refuses control characters; they are text, not structure, here.
        printable = _CONTROL.sub(" ", markup)
        root = lxml.html.fragment_fromstring(printable, create_parent="root")
        for element in root.iterdescendants():
            assert isinstance(element.tag, str), f"a comment or PI survived in {markup!r}"
            found.append((element.tag, list(element.attrib.items())))
    return found


def url_scheme(value: str) -> str | None:
    match = _SCHEME.match(_URL_NOISE.sub("", value).lower())
    return match.group(1) if match else None


def assert_harmless(markup: str) -> None:
    """No script, handler, style, dangerous URL or forbidden element in ``markup``."""
    assert "<script" not in markup.lower()
    assert "<!--" not in markup
    for tag, attrs in elements_of(markup):
        assert tag not in NEVER_TAGS, f"<{tag}> in {markup!r}"
        assert tag in ALLOWED_TAGS, f"<{tag}> is not on the allow-list: {markup!r}"
        for name, value in attrs:
            assert not re.fullmatch(r"on\w+", name), f"handler {name} in {markup!r}"
            assert name != "style", f"style attribute in {markup!r}"
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()), f"{tag}[{name}] in {markup!r}"
            text = value or ""
            lowered = _URL_NOISE.sub("", text).lower()
            for bad in ("javascript:", "vbscript:", "data:"):
                assert not lowered.startswith(bad), f"{tag}[{name}]={text!r}"
            if name == "href":
                scheme = url_scheme(text)
                assert scheme is None or scheme in SAFE_SCHEMES, f"href={text!r}"
            if tag == "a" and name == "rel":
                assert text == REL


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payload_is_neutralised(payload: str) -> None:
    out = sanitize_html(payload)
    assert isinstance(out, Markup)
    assert_harmless(str(out))
    assert sanitize_html(out) == out


def test_there_are_enough_payloads() -> None:
    assert len(XSS_PAYLOADS) >= 25
    assert len(set(XSS_PAYLOADS)) == len(XSS_PAYLOADS)


def test_checker_catches_what_it_should() -> None:
    # The oracle above is only worth something if it fails on dangerous markup.
    for dangerous in (
        '<a href="javascript:alert(1)">x</a>',
        '<a href="java\tscript:alert(1)">x</a>',
        '<p onclick="x">x</p>',
        '<p style="color:red">x</p>',
        "<img src=x>",
        "<p>a<!-- c --></p>",
        '<a href="https://x.test" rel="opener">x</a>',
    ):
        with pytest.raises(AssertionError):
            assert_harmless(dangerous)


def test_script_and_style_content_is_removed_not_just_the_tags() -> None:
    assert sanitize_html("a<script>steal()</script>b<style>p{}</style>c") == "abc"


def test_allowed_markup_survives_and_links_gain_rel() -> None:
    out = sanitize_html('<p><strong>Hi</strong> <a href="https://x.test">x</a></p>')
    assert out == (
        '<p><strong>Hi</strong> <a href="https://x.test" rel="noopener noreferrer nofollow">'
        "x</a></p>"
    )


@pytest.mark.parametrize(
    "tag",
    sorted(ALLOWED_TAGS - {"a", "br", "hr", "table", "thead", "tbody", "tr", "th", "td"}),
)
def test_every_allowed_inline_or_block_tag_is_kept(tag: str) -> None:
    assert sanitize_html(f"<{tag}>x</{tag}>") == f"<{tag}>x</{tag}>"


def test_void_tags_and_tables_are_kept() -> None:
    assert sanitize_html("a<br>b<hr>") == "a<br>b<hr>"
    table = (
        '<table><thead><tr><th colspan="2">Head</th></tr></thead>'
        '<tbody><tr><td rowspan="2">1</td><td>2</td></tr></tbody></table>'
    )
    assert sanitize_html(table) == table


def test_attributes_off_the_list_are_dropped_from_allowed_tags() -> None:
    assert sanitize_html('<p class="x" id="y" title="z" dir="rtl">t</p>') == "<p>t</p>"
    assert sanitize_html('<td colspan="2" width="9">t</td>') == "t"  # a lone cell is no table
    assert sanitize_html('<a title="t" name="n" target="_blank">x</a>') == (
        f'<a title="t" rel="{REL}">x</a>'
    )


@pytest.mark.parametrize(
    "href",
    ["https://x.test/a?b=1", "http://x.test", "mailto:ann@x.test", "/my/orders/7", "#top", "?p=2"],
)
def test_safe_and_relative_links_are_kept(href: str) -> None:
    out = sanitize_html(f'<a href="{href}">x</a>')
    assert out == Markup('<a href="{}" rel="{}">x</a>').format(href, REL)


@pytest.mark.parametrize("href", ["ftp://x.test", "tel:123", "file:///etc/passwd", "about:blank"])
def test_other_schemes_lose_the_href(href: str) -> None:
    assert sanitize_html(f'<a href="{href}">x</a>') == f'<a rel="{REL}">x</a>'


def test_author_rel_is_replaced() -> None:
    out = sanitize_html('<a href="https://x.test" rel="opener">x</a>')
    assert out == f'<a href="https://x.test" rel="{REL}">x</a>'


def test_comments_are_stripped() -> None:
    assert sanitize_html("<p>a<!-- secret note -->b</p>") == "<p>ab</p>"


def test_text_with_lt_and_amp_stays_text() -> None:
    # "<" followed by a letter opens a tag in HTML; these do not.
    out = sanitize_html("1 < 2 & 3 > 2, AT&T, <3, a<-b, &copy")
    assert out == "1 &lt; 2 &amp; 3 &gt; 2, AT&amp;T, &lt;3, a&lt;-b, \u00a9"
    assert html_to_text(out) == "1 < 2 & 3 > 2, AT&T, <3, a<-b, \u00a9"


def test_empty_inputs_give_empty_markup() -> None:
    for value in (None, ""):
        out = sanitize_html(value)
        assert out == "" and isinstance(out, Markup)


@pytest.mark.parametrize("value", [b"<p>x</p>", 3, ["<p>"], False])
def test_non_string_input_is_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="sanitize_html expects str or None"):
        sanitize_html(value)  # type: ignore[arg-type]


def test_markup_input_is_sanitised_too() -> None:
    # Markup is a str: "already trusted" is not a reason to skip the allow-list.
    assert sanitize_html(Markup("<script>alert(1)</script><b>x</b>")) == "<b>x</b>"


def test_output_is_markup_that_escape_leaves_alone() -> None:
    out = sanitize_html("<b>x</b> & y")
    assert isinstance(out, Markup)
    assert escape(out) == out == "<b>x</b> &amp; y"


def test_known_reparse_traps_reach_a_fixed_point() -> None:
    # Removing <caption>/<tfoot> leaves trees a parser would rebuild differently, and
    # a <pre> loses one leading newline per parse.
    for value in (
        "<table><caption><p>x</p></caption></table>",
        "<table><tfoot><tr><td>x</td></tr></tfoot></table>",
        "<pre>\n\n\nx</pre>",
        "<p><svg><div>y</div></svg></p>",
    ):
        once = sanitize_html(value)
        assert sanitize_html(once) == once
    assert sanitize_html("<pre>\n\nx</pre>") == "<pre>\n\nx</pre>"


# --- properties on generated HTML-ish text -----------------------------------------

_PIECES = [
    *"<p> </p> <b> </b> <i> <em> <u> <s> <strong> <code> </code> <span> <div> </div>".split(),
    *"<ul> <ol> <li> </li> </ul> <h1> </h1> <h6> <blockquote> <hr> <br> <br/> </br>".split(),
    *"<table> </table> <thead> <tbody> <tfoot> <caption> <colgroup> <col> <tr> </tr>".split(),
    *"<td> </td> <th> <td\x20colspan=2> <pre> </pre> <a> </a> <a\x20title=t>".split(),
    '<a href="',
    "javascript:",
    "java\tscript:",
    "https://x.test/",
    "mailto:a@x.test",
    "/rel",
    '">',
    '"',
    "'",
    ">",
    "<",
    "&",
    "&amp;",
    "&lt;",
    "&#x3c;",
    "&nbsp;",
    "\u00a0",
    "\n",
    " ",
    "\t",
    *"<script> </script> <style> </style> <!-- --> <![CDATA[ ]]> <?x ?> <!DOCTYPE\x20html>".split(),
    *"<img\x20src=x\x20onerror=alert(1)> <svg> </svg> <math> <mtext> <mglyph> <select>".split(),
    *"<option> <textarea> </textarea> <title> <noscript> </noscript> <template> <xmp>".split(),
    *"<iframe> <object> <form> </form> <input> <html> <body> <head> <plaintext>".split(),
    ' onclick="x()"',
    ' style="color:red"',
    " class=c",
]
html_ish = st.lists(
    st.one_of(
        st.sampled_from(_PIECES),
        st.text(st.characters(codec="utf-8"), max_size=5),  # no lone surrogates
    ),
    max_size=40,
).map("".join)


@given(html_ish)
def test_sanitize_is_idempotent(value: str) -> None:
    once = sanitize_html(value)
    assert sanitize_html(once) == once


@given(html_ish)
def test_generated_html_comes_out_harmless(value: str) -> None:
    assert_harmless(str(sanitize_html(value)))


# --- plaintext_to_html ---------------------------------------------------------------


def test_plaintext_is_escaped_into_paragraphs_and_line_breaks() -> None:
    text = "Dear Ann,\r\nplease see <b>below</b> & reply.\n\n\n  \nThanks\nBob\n"
    assert plaintext_to_html(text) == (
        "<p>Dear Ann,<br>please see &lt;b&gt;below&lt;/b&gt; &amp; reply.</p><p>Thanks<br>Bob</p>"
    )


def test_plaintext_edge_cases() -> None:
    assert plaintext_to_html("") == "" and isinstance(plaintext_to_html(""), Markup)
    assert plaintext_to_html(None) == ""
    assert plaintext_to_html("\n\n  \n") == ""
    assert plaintext_to_html("one") == "<p>one</p>"
    assert plaintext_to_html("a\rb") == "<p>a<br>b</p>"
    assert plaintext_to_html('It\'s "quoted"') == '<p>It\'s "quoted"</p>'
    with pytest.raises(TypeError, match="plaintext_to_html expects str or None"):
        plaintext_to_html(b"x")  # type: ignore[arg-type]


def test_plaintext_payloads_stay_text() -> None:
    for payload in XSS_PAYLOADS:
        out = plaintext_to_html(payload)
        tags = {tag for tag, _ in elements_of(str(out))}
        assert tags <= {"p", "br"}, payload


_typed_text = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Co", "Cn"), include_characters="\n\r\t"),
    max_size=60,
)


@given(_typed_text)
def test_plaintext_output_is_already_sanitised(text: str) -> None:
    out = plaintext_to_html(text)
    assert sanitize_html(out) == out
    assert {tag for tag, _ in elements_of(str(out))} <= {"p", "br"}


@given(_typed_text)
def test_plaintext_keeps_every_non_blank_line(text: str) -> None:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    expected = "\n".join(line for line in lines if line.strip()).strip()
    assert html_to_text(plaintext_to_html(text)) == expected


# --- html_to_text ---------------------------------------------------------------------


def test_html_to_text_strips_tags_and_unescapes() -> None:
    value = "<h1>Offer</h1><p>Fish &amp; chips &lt;3</p><ul><li>one</li><li>two</li></ul>"
    assert html_to_text(value) == "Offer\nFish & chips <3\none\ntwo"
    assert html_to_text("a<br>b<table><tr><td>1</td><td>2</td></tr></table>") == "a\nb1 2"


def test_html_to_text_drops_script_style_and_comments() -> None:
    value = "a<script>var secret = 1</script><style>p{}</style><!-- note -->b"
    assert html_to_text(value) == "ab"


def test_html_to_text_ignores_markup_inside_attributes() -> None:
    assert html_to_text('<a title="</p><b>x">y</a>') == "y"


def test_html_to_text_result_is_plain_str() -> None:
    out = html_to_text("<p>&lt;script&gt;</p>")
    assert out == "<script>"
    assert type(out) is str  # not Markup: it must be escaped when shown
    assert html_to_text(None) == "" and html_to_text("") == ""
    with pytest.raises(TypeError, match="html_to_text expects str or None"):
        html_to_text(1)  # type: ignore[arg-type]
