"""Who is using the web UI: an API token kept in an HttpOnly, SameSite=Strict cookie.

Forms that write carry a CSRF token derived from the session token, and a request whose
``Origin`` is another site is refused, so another site cannot make a signed-in browser
write on the user's behalf.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import Request

from listwatch.api.tokens import TokenInfo, authenticate

COOKIE = "lw_session"


class LoginRequired(Exception):
    """The page needs a signed-in user (with ``scope``, when given)."""

    def __init__(self, scope: str | None = None) -> None:
        super().__init__(scope or "login")
        self.scope = scope


class CsrfError(Exception):
    """A form that did not come from this site."""


def session_token(request: Request) -> str | None:
    """The raw token of the signed-in user, if any."""
    return request.cookies.get(COOKIE)


def current_user(request: Request) -> TokenInfo | None:
    """The signed-in user's token (checked once per request)."""
    if hasattr(request.state, "user"):
        user: TokenInfo | None = request.state.user
        return user
    token = session_token(request)
    user = None
    if token:
        with request.app.state.registry.transaction() as session:
            user = authenticate(session, token)
    request.state.user = user
    return user


def require_user(request: Request, scope: str | None = None) -> TokenInfo:
    """The signed-in user, holding ``scope`` when given; else :class:`LoginRequired`."""
    user = current_user(request)
    if user is None or (scope is not None and not user.allows(scope)):
        raise LoginRequired(scope)
    return user


def csrf_token(request: Request) -> str:
    """The CSRF token of this session ('' when signed out)."""
    token = session_token(request)
    if not token:
        return ""
    return hmac.new(token.encode(), b"listwatch-csrf", hashlib.sha256).hexdigest()[:40]


def check_form(request: Request, submitted: str | None) -> None:
    """Refuse a write whose CSRF token or Origin does not match this site."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise CsrfError("the form was sent from another site")
    expected = csrf_token(request)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise CsrfError("the form has expired: reload the page and try again")
