"""API keys: each carries one workspace and one role; only a SHA-256 of the key is stored.

Keys are 256 random bits, so a plain SHA-256 (no slow hash) is enough to make a stolen
database useless for signing in; the key itself is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from ddq.errors import DDQError, ErrorCode
from ddq.store.schema import ApiKeyRow, AuditRow, as_utc, utcnow

KEY_PREFIX = "ddq_"
_WORKSPACE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
#: last_used_at is written at most this often per key (not on every request).
_TOUCH_EVERY = timedelta(seconds=60)


class Role(IntEnum):
    """Each role can do what the ones below it can."""

    VIEWER = 1  # read knowledge, questionnaires, drafts; search and ask
    EDITOR = 2  # + upload and ingest, edit drafts and library entries, run jobs
    APPROVER = 3  # + approve and reject drafts, bulk-approve
    ADMIN = 4  # + manage keys, remove documents, read the audit trail

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            known = ", ".join(r.name.lower() for r in cls)
            raise DDQError(ErrorCode.INVALID_INPUT,
                           f"unknown role {name!r}; roles: {known}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    id: int
    workspace: str
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "workspace": self.workspace, "name": self.name,
                "role": self.role.label, "prefix": self.prefix,
                "created_at": self.created_at.isoformat(),
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
                "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None}


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _info(row: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo(row.id, row.workspace, row.name, Role.parse(row.role), row.prefix,
                      as_utc(row.created_at),
                      as_utc(row.revoked_at) if row.revoked_at else None,
                      as_utc(row.last_used_at) if row.last_used_at else None)


class KeyStore:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def create(self, *, workspace: str, name: str, role: Role, actor: str = "cli"
               ) -> tuple[ApiKeyInfo, str]:
        """A new key; returns its record and the key itself (shown once, never stored)."""
        if not _WORKSPACE.match(workspace):
            raise DDQError(ErrorCode.INVALID_INPUT,
                           f"invalid workspace name {workspace!r} (letters, digits, _ and -)")
        name = name.strip()
        if not name or len(name) > 128:
            raise DDQError(ErrorCode.INVALID_INPUT, "a key needs a name of 1 to 128 characters")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKeyRow(workspace=workspace, name=name, role=role.label, prefix=secret[:12],
                        key_hash=hash_key(secret), created_at=utcnow())
        try:
            with self._sessions.begin() as session:
                session.add(row)
                session.flush()
                session.add(AuditRow(workspace=workspace, actor=actor, action="key.created",
                                     subject=f"key:{row.id}", at=utcnow(),
                                     detail={"name": name, "role": role.label,
                                             "prefix": row.prefix}))
        except SQLAlchemyError as exc:
            raise DDQError(ErrorCode.STORE_ERROR, f"database error: {exc}") from exc
        return _info(row), secret

    def list(self, workspace: str | None = None) -> list[ApiKeyInfo]:
        with self._sessions() as session:
            query = select(ApiKeyRow).order_by(ApiKeyRow.id)
            if workspace is not None:
                query = query.where(ApiKeyRow.workspace == workspace)
            return [_info(r) for r in session.scalars(query)]

    def revoke(self, key_id: int, *, actor: str = "cli") -> ApiKeyInfo:
        try:
            with self._sessions.begin() as session:
                row = session.get(ApiKeyRow, key_id)
                if row is None:
                    raise DDQError(ErrorCode.NOT_FOUND, f"no API key with id {key_id}")
                if row.revoked_at is None:
                    row.revoked_at = utcnow()
                    session.add(AuditRow(workspace=row.workspace, actor=actor,
                                         action="key.revoked", subject=f"key:{row.id}",
                                         at=utcnow(), detail={"name": row.name,
                                                              "prefix": row.prefix}))
                return _info(row)
        except SQLAlchemyError as exc:
            raise DDQError(ErrorCode.STORE_ERROR, f"database error: {exc}") from exc

    def authenticate(self, secret: str) -> ApiKeyInfo | None:
        """The live key ``secret`` names, or None (unknown, malformed or revoked)."""
        if not secret.startswith(KEY_PREFIX) or len(secret) > 128:
            return None
        digest = hash_key(secret)
        with self._sessions.begin() as session:
            row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash == digest)).first()
            if row is None or row.revoked_at is not None:
                return None
            if not hmac.compare_digest(row.key_hash, digest):
                return None
            now = utcnow()
            last = row.last_used_at
            if last is None or now - as_utc(last) >= _TOUCH_EVERY:
                row.last_used_at = now
            return _info(row)

