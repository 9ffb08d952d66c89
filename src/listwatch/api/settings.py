"""Server settings: defaults, environment variables (``LISTWATCH_*``) and CLI options."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """A setting that cannot be read (e.g. ``LISTWATCH_MAX_BODY=lots``)."""


@dataclass(frozen=True)
class ServerSettings:
    """How the server behaves; every field can be set by ``LISTWATCH_<FIELD>``."""

    db: str | None = None
    #: Whether reading (GET) is open to anyone; when false, reads need a ``read`` token.
    open_reads: bool = True
    #: Largest accepted request body (JSON, forms), in bytes.
    max_body: int = 1_000_000
    #: Largest accepted upload (official list files, articles), in bytes.
    max_upload: int = 200_000_000
    #: Run the alert dispatcher and webhook delivery inside the server process.
    deliver_alerts: bool = True
    #: Seconds between two rounds of the alert dispatcher and webhook delivery.
    alert_interval: float = 2.0
    #: First retry delay of a failed webhook, doubled at each further attempt.
    retry_base: float = 30.0
    #: Longest delay between two attempts, in seconds.
    retry_max: float = 3600.0
    #: Attempts before a webhook delivery is given up.
    max_attempts: int = 10
    #: Timeout of one webhook request, in seconds.
    webhook_timeout: float = 10.0
    #: Largest batch accepted by batch screening.
    max_batch: int = 1000

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> ServerSettings:
        """Defaults, then ``LISTWATCH_*`` variables, then explicit (non-None) overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for item in fields(cls):
            raw = env.get(f"LISTWATCH_{item.name.upper()}")
            if raw is None or item.name == "db":
                continue
            values[item.name] = _convert(item.name, raw, type(getattr(cls(), item.name)))
        settings = cls(**values)
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})


def _convert(name: str, raw: str, kind: type) -> Any:
    text = raw.strip().lower()
    if kind is bool:
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise SettingsError(f"LISTWATCH_{name.upper()}={raw!r} is not a boolean (true/false)")
    try:
        return kind(text)
    except ValueError:
        raise SettingsError(f"LISTWATCH_{name.upper()}={raw!r} is not a {kind.__name__}") from None
