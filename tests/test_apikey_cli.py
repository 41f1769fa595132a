"""``mediacheck apikey create | list | revoke``: a revoked key stops working at once."""

from __future__ import annotations

import io

import pytest

from service.cli.main import main
from service.store.database import Database
from service.submissions.access import active_key


def run(*argv: str) -> str:
    out = io.StringIO()
    assert main(list(argv), out) == 0
    return out.getvalue()


def test_create_list_revoke(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIACHECK_DATA_DIR", str(tmp_path))
    secret = run("apikey", "create", "--name", "评审甲", "--campaign", "camp-a").splitlines()[0]
    run("apikey", "create", "--name", "admin", "--role", "admin", "--campaign", "*")
    listed = run("apikey", "list").splitlines()
    assert len(listed) == 2 and all("active" in line for line in listed)
    mine = [line for line in run("apikey", "list", "--campaign", "camp-a").splitlines() if "评审甲" in line]
    assert len(mine) == 1
    key_id = mine[0].split()[0]
    db = Database(f"sqlite:///{tmp_path / 'mediacheck.db'}")
    with db.session() as s:
        assert active_key(s, secret) is not None
    assert "revoked" in run("apikey", "revoke", key_id)
    with db.session() as s:
        assert active_key(s, secret) is None
    assert "revoked" in [line for line in run("apikey", "list").splitlines() if key_id in line][0]
    with pytest.raises(SystemExit):
        run("apikey", "revoke", "nosuchkey")
