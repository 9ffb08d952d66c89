"""`listwatch fetch`: downloads from a local HTTP server standing in for the official sites
(redirects followed, empty and failed downloads refused, nothing half-written)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from listwatch.sources.catalog import SOURCES
from listwatch.sources.errors import SourceError
from listwatch.sources.fetch import fetch
from tests.sources.conftest import run_cli


class _Server:
    """Serves a dict of path → (status, headers, body) on 127.0.0.1."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, headers, body = routes.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *args: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[_Server]:
    with _Server() as running:
        yield running


def test_every_source_keeps_its_official_address() -> None:
    hosts = {spec.id: spec.downloads[0].url.split("/")[2] for spec in SOURCES.values()}
    assert hosts["ofac-sdn"] == "sanctionslistservice.ofac.treas.gov"
    assert hosts["us-csl"] == "data.trade.gov"
    assert hosts["un-sc"] == "scsanctions.un.org"
    assert hosts["eu-fsf"] == "webgate.ec.europa.eu"
    assert hosts["uk-sanctions"] == "sanctionslist.fcdo.gov.uk"
    assert all(spec.downloads[0].url.startswith("https://") for spec in SOURCES.values())


def test_fetch_a_trio_then_import_it(
    server: _Server, lists_dir: Path, tmp_path: Path, sqlite_url: str
) -> None:
    trio = lists_dir / "ofac_cons" / "2018-04-06"
    for name in ("cons_prim.csv", "cons_add.csv", "cons_alt.csv"):
        server.routes[f"/mirror/{name}"] = (200, {}, (trio / name).read_bytes())
    out = tmp_path / "download"
    code, stdout, stderr = run_cli(
        sqlite_url, "fetch", "ofac-cons", "--base-url", f"{server.url}/mirror", "--out", str(out),
        "--import", "--published", "2018-04-06", "--json",
    )  # fmt: skip
    assert code == 0, stderr
    payload = json.loads(stdout)
    # cons_comments.csv is optional: the mirror's 404 for it is not an error.
    assert [f["name"] for f in payload["files"]] == [
        "cons_prim.csv",
        "cons_add.csv",
        "cons_alt.csv",
    ]
    for item in payload["files"]:
        assert Path(item["path"]).read_bytes() == (trio / item["name"]).read_bytes()
    assert payload["import"]["records"] == 639
    assert payload["import"]["published"] == "2018-04-06"
    assert payload["import"]["files"] == [
        str(out / n) for n in ("cons_prim.csv", "cons_add.csv", "cons_alt.csv")
    ]
    assert not list(out.glob("*.part"))


def test_redirects_are_followed(server: _Server, fixtures_dir: Path, tmp_path: Path) -> None:
    body = (fixtures_dir / "uk_sanctions_sample.xml").read_bytes()
    server.routes["/old/UK-Sanctions-List.xml"] = (301, {"Location": "/new/list.xml"}, b"")
    server.routes["/new/list.xml"] = (200, {}, body)
    fetched = fetch("uk-sanctions", tmp_path, base_url=f"{server.url}/old")
    assert fetched.main.read_bytes() == body


def test_an_empty_download_is_refused_and_nothing_is_kept(server: _Server, tmp_path: Path) -> None:
    server.routes["/m/consolidated.xml"] = (200, {}, b"")
    with pytest.raises(SourceError, match="empty \\(0 bytes\\)"):
        fetch("un-sc", tmp_path, base_url=f"{server.url}/m")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_download_is_an_error(server: _Server, tmp_path: Path, sqlite_url: str) -> None:
    server.routes["/m/consolidated.xml"] = (503, {}, b"try later")
    out = tmp_path / "download"
    code, _, err = run_cli(
        sqlite_url, "fetch", "un-sc", "--base-url", f"{server.url}/m", "--out", str(out)
    )
    assert code == 2
    assert "HTTP 503" in err and err.count("\n") == 1
    assert list(out.iterdir()) == []
