"""Downloading a source's current official files.

Redirects are followed (OFAC's old treasury.gov addresses redirect to the Sanctions List
Service; a client that does not follow them saves an empty body). An empty or failed
download of a required file is an error and nothing is kept; each file is written under a
temporary name and renamed only when complete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from listwatch.sources.catalog import source_spec
from listwatch.sources.errors import SourceError

#: Largest file a download may be (the biggest official files are tens of MB).
MAX_BYTES = 1 << 30
FetchProgress = Callable[[str, int, int | None], None]


@dataclass
class Fetched:
    """The files a fetch saved: the main file first."""

    source: str
    directory: Path
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def main(self) -> Path:
        """The file to give to ``listwatch import``."""
        return Path(self.files[0]["path"])

    @property
    def urls(self) -> list[str]:
        """Where each file came from."""
        return [str(f["url"]) for f in self.files]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"source": self.source, "directory": str(self.directory), "files": self.files}


def default_directory(source_id: str) -> Path:
    """``<data dir>/downloads/<source>/<UTC timestamp>``."""
    from listwatch.registry.db import default_data_dir

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return default_data_dir() / "downloads" / source_id / stamp


def fetch(
    source_id: str,
    out: Path | None = None,
    *,
    base_url: str | None = None,
    progress: FetchProgress | bool | None = None,
    timeout: float = 120.0,
) -> Fetched:
    """Download every file of a source into ``out``; ``base_url`` fetches from a mirror."""
    import httpx

    spec = source_spec(source_id)
    directory = out or default_directory(source_id)
    directory.mkdir(parents=True, exist_ok=True)
    report = progress if callable(progress) else None
    fetched = Fetched(source_id, directory)
    with httpx.Client(follow_redirects=True, timeout=timeout) as client:
        for download in spec.downloads:
            url = f"{base_url.rstrip('/')}/{download.name}" if base_url else download.url
            target = directory / download.name
            try:
                saved = _download(client, url, target, report)
            except SourceError:
                if download.required:
                    raise
                continue
            fetched.files.append({"name": download.name, "url": url, **saved})
    if not fetched.files:
        raise SourceError(directory, f"nothing downloaded for {source_id}")
    return fetched


def _download(client: Any, url: str, target: Path, report: FetchProgress | None) -> dict[str, Any]:
    import httpx

    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    size = 0
    try:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise SourceError(url, f"download failed: HTTP {response.status_code}")
            length = response.headers.get("content-length")
            total = int(length) if length and length.isdigit() else None
            with partial.open("wb") as handle:
                for chunk in response.iter_bytes(1 << 16):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise SourceError(url, f"download larger than {MAX_BYTES} bytes: refused")
                    digest.update(chunk)
                    handle.write(chunk)
                    if report is not None:
                        report(target.name, size, total)
    except httpx.HTTPError as exc:
        partial.unlink(missing_ok=True)
        raise SourceError(url, f"download failed: {exc}") from None
    except SourceError:
        partial.unlink(missing_ok=True)
        raise
    if size == 0:
        partial.unlink(missing_ok=True)
        raise SourceError(url, "the download is empty (0 bytes): nothing saved")
    partial.replace(target)
    return {"path": str(target), "bytes": size, "sha256": digest.hexdigest()}
