"""The API-key store, on SQLite and on a real PostgreSQL database: only a hash is kept, a
revoked key no longer authenticates, and every change is in the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from ddq.errors import DDQError, ErrorCode
from ddq.store.keys import KeyStore, Role, hash_key
from ddq.store.schema import ApiKeyRow, AuditRow

pytestmark = pytest.mark.integration


def test_a_key_is_stored_as_a_hash_and_authenticates(engine: Engine) -> None:
    store = KeyStore(engine)
    info, secret = store.create(workspace="acme", name="alice", role=Role.APPROVER)
    assert secret.startswith("ddq_") and len(secret) > 40
    assert info.prefix == secret[:12] and info.role is Role.APPROVER
    with engine.connect() as connection:
        stored = connection.execute(select(ApiKeyRow.key_hash)).scalars().all()
    assert stored == [hash_key(secret)]  # the key itself is nowhere in the database
    found = store.authenticate(secret)
    assert found is not None and (found.workspace, found.name) == ("acme", "alice")
    assert found.last_used_at is not None
    assert store.authenticate(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert store.authenticate("not-a-ddq-key") is None


def test_revoked_keys_stop_working_and_changes_are_audited(engine: Engine) -> None:
    store = KeyStore(engine)
    info, secret = store.create(workspace="acme", name="ci", role=Role.VIEWER)
    _, other_secret = store.create(workspace="beta", name="ops", role=Role.ADMIN)
    revoked = store.revoke(info.id)
    assert revoked.revoked_at is not None
    assert store.revoke(info.id).revoked_at == revoked.revoked_at  # once
    assert store.authenticate(secret) is None
    assert store.authenticate(other_secret) is not None
    assert [k.name for k in store.list("acme")] == ["ci"]
    assert [k.name for k in store.list()] == ["ci", "ops"]
    with engine.connect() as connection:
        actions = connection.execute(select(AuditRow.action).order_by(AuditRow.id)).all()
    assert [a for (a,) in actions] == ["key.created", "key.created", "key.revoked"]


def test_bad_key_requests_are_clear_errors(engine: Engine) -> None:
    store = KeyStore(engine)
    with pytest.raises(DDQError) as caught:
        store.revoke(999)
    assert caught.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(DDQError) as caught:
        store.create(workspace="no spaces", name="x", role=Role.VIEWER)
    assert caught.value.code is ErrorCode.INVALID_INPUT
    with pytest.raises(DDQError) as caught:
        Role.parse("superuser")
    assert "viewer, editor, approver, admin" in caught.value.detail
    assert store.list() == []
