"""Untrusted HTML made safe to store and show (nh3), and member Markdown rendered to HTML."""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Final

import nh3
from markdown_it import MarkdownIt

MAX_CONTENT_CHARS: Final = 50_000
MAX_MARKDOWN_CHARS: Final = 20_000
# What Mastodon keeps from remote posts, plus lists and quotes that support posts often use.
ALLOWED_TAGS: Final = {
    "p", "br", "span", "a", "del", "pre", "code", "em", "strong", "b", "i", "u", "ul", "ol",
    "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
ALLOWED_ATTRIBUTES: Final = {"a": {"href", "class"}, "span": {"class"}, "ol": {"start"}}
ALLOWED_SCHEMES: Final = {"http", "https", "mailto"}


# Built once: `nh3.clean(text, tags=...)` converts its allow-lists for every call, which was
# two thirds of the time it took to clean a post.
_HTML_CLEANER: Final = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=ALLOWED_SCHEMES,
    link_rel="nofollow noopener noreferrer",
)
_TEXT_CLEANER: Final = nh3.Cleaner(tags=set())


def sanitize_html(html_text: str) -> str:
    """Keep formatting and links; drop scripts, styles, event handlers and foreign schemes."""
    return _HTML_CLEANER.clean(html_text[:MAX_CONTENT_CHARS])


# CommonMark with raw HTML off (typed tags show as text); single newlines break lines, as
# people expect from a text box.
_markdown = MarkdownIt("commonmark", {"html": False, "breaks": True})


def render_markdown(text: str) -> str:
    """A member's Markdown as safe HTML: rendered, then sanitised like any peer's HTML."""
    return sanitize_html(_markdown.render(text[:MAX_MARKDOWN_CHARS]))


def render_plain_paragraphs(text: str) -> str:
    """Plain text (a bio) as escaped HTML paragraphs, line breaks kept."""
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n")]
    return "".join(
        "<p>" + html.escape(block).replace("\n", "<br>") + "</p>" for block in blocks if block
    )


def plain_text(text: str, limit: int) -> str:
    """A plain-text field (content warning, title): no markup at all, bounded."""
    if not text:
        return ""  # most posts have neither: no call into the cleaner
    return _TEXT_CLEANER.clean(text[:limit])


_TAG = re.compile(r"<[^>]*>")


def words_of(markup: str) -> str:
    """What stored HTML says, for matching rules: tags become spaces, entities are decoded,
    compatibility forms folded (NFKC) and case ignored, so look-alike spellings still match."""
    text = html.unescape(_TAG.sub(" ", markup))
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
