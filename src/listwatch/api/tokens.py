"""API tokens: created once, shown once, stored only as a hash, each with its scopes.

Tokens are 256-bit random strings, so a plain SHA-256 of the token is a sound lookup key
(a slow password hash protects guessable secrets, which these are not).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from listwatch.registry.db import RegistryError
from listwatch.registry.models import ApiToken, utcnow

TOKEN_PREFIX = "lw_"

#: What a token may do. ``admin`` implies every other scope.
SCOPES: dict[str, str] = {
    "read": "read the registry when reads are not open to everyone",
    "import": "import official list files",
    "news": "submit news articles for extraction",
    "review": "accept or reject proposed events",
    "watch": "create, read and delete watches and their alerts",
    "admin": "every scope",
}


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    """The scopes, validated and deduplicated in a stable order; a clear error otherwise."""
    if not scopes:
        raise RegistryError(f"a token needs at least one scope ({', '.join(SCOPES)})")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise RegistryError(f"unknown scope {unknown[0]!r} (known scopes: {', '.join(SCOPES)})")
    return [s for s in SCOPES if s in scopes]


@dataclass(frozen=True)
class TokenInfo:
    """What a request knows about the token it came with."""

    id: int
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        """Whether the token grants ``scope``."""
        return "admin" in self.scopes or scope in self.scopes


def create_token(session: Session, name: str, scopes: list[str]) -> tuple[ApiToken, str]:
    """Store a new token; returns the row and the token text (the only time it is known)."""
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise RegistryError("a token needs a name of 1 to 200 characters")
    checked = check_scopes(scopes)
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, token_hash=hash_token(text), scopes=checked)
    session.add(row)
    session.flush()
    return row, text


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, revoked ones included, oldest first."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(session: Session, ident: str) -> ApiToken:
    """Revoke the token with this id or name (a name must be unambiguous)."""
    rows: list[ApiToken]
    if ident.isdigit():
        row = session.get(ApiToken, int(ident))
        rows = [row] if row is not None else []
    else:
        rows = list(
            session.scalars(
                select(ApiToken).where(ApiToken.name == ident, ApiToken.revoked_at.is_(None))
            )
        )
    if not rows:
        raise RegistryError(f"no active token {ident!r} (see `listwatch token list`)")
    if len(rows) > 1:
        raise RegistryError(f"several tokens are named {ident!r}: revoke one by its id")
    row = rows[0]
    if row.revoked_at is not None:
        raise RegistryError(f"token {row.id} was already revoked on {row.revoked_at:%Y-%m-%d}")
    row.revoked_at = utcnow()
    session.flush()
    return row


def authenticate(session: Session, token: str) -> TokenInfo | None:
    """The active token matching ``token``, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if row is None or row.revoked_at is not None:
        return None
    # The lookup is by hash; compare again in constant time for good measure.
    if not hmac.compare_digest(row.token_hash, digest):
        return None
    return TokenInfo(row.id, row.name, frozenset(row.scopes or []))
