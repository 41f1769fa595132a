"""Reviewers' session cookies: signed, expiring, tied to a live key; the secret is made once
and shared through the data directory."""

from __future__ import annotations

import stat

from service.review.sessions import SESSION_TTL_S, issue, load_secret, parse_session


def test_a_cookie_names_its_key_until_it_expires():
    value = issue(b"s3cret", "abc123", now=1000.0)
    assert parse_session(b"s3cret", value, now=1000.0) == "abc123"
    assert parse_session(b"s3cret", value, now=1000.0 + SESSION_TTL_S - 1) == "abc123"
    assert parse_session(b"s3cret", value, now=1000.0 + SESSION_TTL_S + 1) is None


def test_forged_or_altered_cookies_are_refused():
    value = issue(b"s3cret", "abc123", now=1000.0)
    assert parse_session(b"other", value, now=1000.0) is None
    head, key, expiry, sig = value.split(".")
    assert parse_session(b"s3cret", f"{head}.admin.{expiry}.{sig}", now=1000.0) is None
    assert parse_session(b"s3cret", f"{head}.{key}.{int(expiry) + 10**6}.{sig}", now=1000.0) is None
    assert parse_session(b"s3cret", "garbage", now=1000.0) is None
    assert parse_session(b"s3cret", None) is None


def test_the_generated_secret_is_kept_private_and_reused(tmp_path):
    first = load_secret("", tmp_path)
    assert len(first) >= 32 and load_secret("", tmp_path) == first
    assert stat.S_IMODE((tmp_path / "session-secret").stat().st_mode) == 0o600
    assert load_secret("configured", tmp_path) == b"configured"
