"""Stored HTML has passed the sanitiser: formatting and links stay, scripts and tricks go (T38+)."""

from __future__ import annotations

import pytest

from fedgroups.groups.content import plain_text, sanitize_html


def test_formatting_and_links_are_kept() -> None:
    html = '<p>Hi <strong>all</strong> <a href="https://x.example/a">link</a></p>'
    cleaned = sanitize_html(html)
    assert "<strong>all</strong>" in cleaned
    assert 'href="https://x.example/a"' in cleaned
    assert 'rel="nofollow noopener noreferrer"' in cleaned


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<p style="background:url(javascript:alert(1))">x</p>',
        "<iframe src='https://evil.example'></iframe>",
        '<a href="data:text/html,<script>alert(1)</script>">x</a>',
        "<svg><script>alert(1)</script></svg>",
    ],
)
def test_active_content_is_removed(html: str) -> None:
    cleaned = sanitize_html(html).lower()
    for marker in ("<script", "onerror", "javascript:", "<iframe", "style=", "data:", "<svg"):
        assert marker not in cleaned


def test_content_is_bounded() -> None:
    assert len(sanitize_html("a" * 1_000_000)) <= 50_000


def test_plain_text_has_no_markup() -> None:
    assert plain_text("<b>CW:</b> grief", 100) == "CW: grief"
    assert len(plain_text("x" * 5000, 2000)) == 2000


def test_plain_text_escapes_what_would_read_as_markup() -> None:
    assert plain_text("", 100) == ""
    assert plain_text("fear & hope <3", 100) == "fear &amp; hope &lt;3"
