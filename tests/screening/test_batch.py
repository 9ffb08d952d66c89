"""Batch screening, portfolios and pair files: 10,000 rows on all cores, Parquet, and
malformed input that fails with one line naming the line and writes nothing."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from listwatch.cli.main import app

runner = CliRunner()


def invoke(db: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db, *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.slow
def test_screen_batch_10000_rows(sqlite_url: str, tmp_path: Path) -> None:
    names = [
        ("Xiaomi Corp", "cn", ""),
        ("SZ DJI TECHNOLOGY CO., LTD.", "", ""),
        ("", "", "1810.HK"),
        ("Bakkerij Jansen B.V.", "nl", ""),
        ("Qorvathen Widget Works Ltd", "gb", ""),
    ]
    source = tmp_path / "in.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "country", "identifiers", "ref"])
        for i in range(10_000):
            name, country, ident = names[i % len(names)]
            writer.writerow([f"{name} {i // 1000}" if i % 5 == 4 else name, country, ident, i])
    out = tmp_path / "out.csv"
    code, stdout, stderr = invoke(sqlite_url, "screen-batch", str(source), "--out", str(out))
    assert code == 0, stderr
    assert "10000 rows screened" in stdout
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 10_000
    assert [r["ref"] for r in rows[:5]] == ["0", "1", "2", "3", "4"]  # input order kept
    assert rows[0]["match_entity_id"] == "xiaomi"
    assert rows[1]["match_entity_id"] == "dji" and "us-bis-entity-list" in rows[1]["listed_on"]
    assert rows[2]["match_by"] == "identifier"
    assert rows[3]["match"] == "false"
    assert sum(r["match"] == "true" for r in rows) == 6_000


def test_parquet_in_and_out(sqlite_url: str, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"name": ["Xiaomi", "Nobody Ltd"], "country": ["cn", None]}), source)
    out = tmp_path / "out.parquet"
    code, _, stderr = invoke(sqlite_url, "screen-batch", str(source), "--out", str(out))
    assert code == 0, stderr
    table = pq.read_table(out).to_pydict()
    assert table["match_entity_id"] == ["xiaomi", ""]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'name,country\n"Xiaomi,cn\nfoo,bar\n', "line 2: malformed CSV"),
        (b"name,country\nXiaomi,cn\nDJI,cn,extra\n", "line 3: 3 fields where the header has 2"),
        (b"name,country\nXiaomi,cn\nCaf\xe9,fr\n", "line 3: not UTF-8"),
        (b"company,country\nXiaomi,cn\n", "line 1: missing column(s) name"),
        (b"", "empty"),
        (b"name\nXiao\x00mi\n", "line 2: NUL byte"),
    ],
)
def test_malformed_csv_names_the_line(
    sqlite_url: str, tmp_path: Path, content: bytes, message: str
) -> None:
    source = tmp_path / "bad.csv"
    source.write_bytes(content)
    out = tmp_path / "out.csv"
    code, _, stderr = invoke(sqlite_url, "screen-batch", str(source), "--out", str(out))
    assert code == 2
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_bad_isin_in_a_row_is_reported_in_that_row(sqlite_url: str, tmp_path: Path) -> None:
    """Each row with the bad identifier names its own line, a repeat included; the rows
    around it are screened."""
    source = tmp_path / "in.csv"
    source.write_text(
        "name,identifiers\nApple,isin:US0378331006\nXiaomi Corp,\nApple,isin:US0378331006\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    code, _, stderr = invoke(sqlite_url, "screen-batch", str(source), "--out", str(out))
    assert code == 0, stderr
    row, good, repeated = list(csv.DictReader(out.open(encoding="utf-8")))
    assert "line 2" in row["error"] and "check digit" in row["error"]
    assert repeated["error"].startswith("line 4: ") and "check digit" in repeated["error"]
    assert row["match"] == repeated["match"] == "false"
    assert good["error"] == "" and good["match_name"].startswith("Xiaomi")


def test_portfolio_exposure(sqlite_url: str, tmp_path: Path) -> None:
    holdings = tmp_path / "holdings.csv"
    holdings.write_text(
        "name,identifiers,quantity\nXiaomi Corp,,100\nApple Inc,US0378331005,5\nSMIC,,3\n",
        encoding="utf-8",
    )
    out = tmp_path / "exposure.csv"
    code, stdout, stderr = invoke(
        sqlite_url,
        "portfolio",
        str(holdings),
        "--as-of",
        "2021-02-01",
        "--role",
        "us-investor",
        "--out",
        str(out),
    )
    assert code == 0, stderr
    assert "2 of 3 holdings exposed" in stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0]["exposed"] == "true" and "us-dod-cmc" in rows[0]["listed_on"]
    assert rows[0]["next_deadline"]
    assert rows[1]["exposed"] == "false" and rows[1]["quantity"] == "5"
    code, stdout, _ = invoke(
        sqlite_url, "portfolio", str(holdings), "--as-of", "2021-06-01", "--json"
    )
    payload = json.loads(stdout)
    assert payload["holdings"][0]["exposed"] is False  # removed from the DoD list by then


def test_compare_batch_carries_columns(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(
        "schema,name1,name2,note\nCompany,Xiaomi Corp,Xiaomi Corporation,a\n"
        "Person,Khalid BARNAWI,Khalid NAIK,b\n",
        encoding="utf-8",
    )
    out = tmp_path / "scores.csv"
    result = runner.invoke(app, ["compare-batch", str(pairs), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["note"] for r in rows] == ["a", "b"]
    assert [r["match"] for r in rows] == ["true", "false"]
    assert 0 <= float(rows[0]["score"]) <= 1 and rows[0]["explanation"]
    pairs.write_text("schema,name1,name2\nShip,A,B\n", encoding="utf-8")
    result = runner.invoke(app, ["compare-batch", str(pairs), "--out", str(out)])
    assert result.exit_code == 2 and "line 2: unknown schema" in result.stderr


def test_rows_are_fed_to_workers_a_few_chunks_at_a_time(sqlite_url: str) -> None:
    """Neither the input nor the results are held whole: before the first result comes
    back, only the queued chunks have been read from the input."""
    import datetime as dt

    from listwatch.registry.db import Registry
    from listwatch.screening.batch import CHUNK, IN_FLIGHT, ScreenJob, run_parallel
    from listwatch.screening.index import open_index

    registry = Registry(sqlite_url)
    state = open_index(registry)
    registry.dispose()
    job = ScreenJob(sqlite_url, str(state.directory), dt.date(2025, 1, 31), None, None, "any",
                    None, 3)  # fmt: skip
    read = 0

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        nonlocal read
        for i in range(20_000):
            read += 1
            yield i + 2, {"name": "Xiaomi Corp" if i % 2 else f"Nobody {i} Ltd", "ref": str(i)}

    screened = run_parallel(job, rows(), workers=2)
    line, row, result = next(screened)
    assert (line, row["ref"]) == (2, "0") and result["hits"] == []
    assert read <= 2 * IN_FLIGHT * CHUNK + CHUNK
    refs = [row["ref"] for _line, row, _result in screened]
    assert refs == [str(i) for i in range(1, 20_000)]  # all of them, in input order
    assert read == 20_000


def test_a_row_repeated_in_later_chunks_is_screened_once(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name the worker has screened in an earlier chunk takes the remembered answer;
    rows that differ in any screened column (here the country) are screened on their own."""
    import datetime as dt

    from listwatch.registry.db import Registry
    from listwatch.screening.batch import CHUNK, ScreenJob, run_parallel
    from listwatch.screening.index import open_index
    from listwatch.screening.screen import Screener

    registry = Registry(sqlite_url)
    state = open_index(registry)
    registry.dispose()
    job = ScreenJob(sqlite_url, str(state.directory), dt.date(2025, 1, 31), None, None, "any",
                    None, 3)  # fmt: skip
    screened: list[str | None] = []
    match_many = Screener.match_many

    def counting(self: Screener, queries: Any) -> Any:
        screened.extend(query.name for query in queries)
        return match_many(self, queries)

    monkeypatch.setattr(Screener, "match_many", counting)
    rows = [
        (i + 2, {"name": "Xiaomi Corp", "country": "cn" if i % 3 == 0 else ""})
        for i in range(3 * CHUNK)
    ]
    results = [result for _line, _row, result in run_parallel(job, rows, workers=1)]
    assert screened == ["Xiaomi Corp", "Xiaomi Corp"]
    assert len(results) == 3 * CHUNK
    assert all(r["hits"][0]["entity"]["name"].startswith("Xiaomi") for r in results)


def test_output_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    from listwatch.screening.batch import TableWriter

    out = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), TableWriter(out, ["name"]) as writer:
        writer.write({"name": "first"})
        raise RuntimeError("interrupted")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    for suffix in ("csv", "json", "parquet"):
        path = tmp_path / f"out.{suffix}"
        with TableWriter(path, ["name", "score"]) as writer:
            for i in range(25_000):
                writer.write({"name": f"n{i}", "score": i / 10})
        assert path.exists() and writer.count == 25_000
    assert len(json.loads((tmp_path / "out.json").read_text("utf-8"))) == 25_000
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "out.parquet").num_rows == 25_000


def test_the_cycle_collector_is_paused_for_a_chunk_only() -> None:
    import gc

    from listwatch.screening.batch import collector_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("a row failed")
    assert gc.isenabled()  # back on after a failure too
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a collector paused by the caller stays paused
    finally:
        gc.enable()


def test_a_status_not_known_for_sure_is_marked_in_the_row() -> None:
    from listwatch.screening.batch import screen_record

    def status(list_id: str, value: str, uncertain: bool) -> dict[str, Any]:
        return {"list": list_id, "status": value, "uncertain": uncertain}

    hit = {
        "entity": {"id": "ofac-36", "name": "Acme"},
        "score": 1.0,
        "match": "name",
        "explanation": "",
        "statuses": [
            status("us-ofac-sdn", "never_listed", True),
            status("un-sc", "listed", False),
        ],
    }
    record = screen_record({"name": "Acme"}, {"hits": [hit], "error": ""})
    assert record["statuses"] == "us-ofac-sdn=never_listed (uncertain);un-sc=listed"
    assert record["listed_on"] == "un-sc"
