"""``listwatch spark screen`` gives exactly what ``listwatch screen-batch`` gives on the same
input (local mode), and fails on bad input with one line."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from listwatch.cli.main import app

pytestmark = [pytest.mark.spark, pytest.mark.slow]
runner = CliRunner()

ROWS = [
    # name, country, identifiers, schema
    ("XIAOMI CORP.", "", "", ""),
    ("小米集团", "", "", ""),
    ("Xiaomi Inc", "cn", "", ""),
    ("SZ DJI Technology Co. Ltd", "cn", "", ""),
    ("DJI Innovations", "", "", ""),
    ("Huawei Technologies Co., Ltd.", "", "", ""),
    ("Хуавей", "", "", ""),
    ("Semiconductor Manufacturing International Corporation", "", "", ""),
    ("SMIC", "", "", ""),
    ("China Mobile Communications Group", "", "", ""),
    ("China Unicom (Hong Kong) Limited", "hk", "", ""),
    ("China Telecom Corp Ltd", "", "", ""),
    ("SenseTime Group Limited", "", "", ""),
    ("Luokung Technology Corp", "", "", ""),
    ("", "", "1810.HK", ""),
    ("Some Holder", "", "isin:US0378331006", ""),  # a wrong check digit: an error in its row
    ("Bakkerij Jansen B.V.", "nl", "", ""),
    ("Qorvathen Widget Works Ltd", "gb", "", ""),
    ("Xiaomi", "", "", "Person"),
    ("Huawei", "", "", "Vessel"),
    ('Acme, "Quoted" Trading', "", "", ""),
    ("   ", "", "", ""),
]


def invoke(db: str, *args: str) -> Any:
    return runner.invoke(app, ["--db", db, *args])


def write_input(path: Path, repeat: int = 3) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "country", "identifiers", "schema", "ref"])
        for round_ in range(repeat):
            for number, (name, country, identifiers, schema) in enumerate(ROWS):
                writer.writerow([name, country, identifiers, schema, f"{round_}-{number}"])


def read_parquet_dir(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = []
    for part in sorted(path.glob("part-*.parquet")):
        rows += pq.read_table(part).to_pylist()
    return rows


def normalised(row: dict[str, Any]) -> dict[str, Any]:
    """A row with screen-batch's text cells and Spark's typed cells made comparable."""
    out = dict(row)
    match = out["match"]
    out["match"] = match if isinstance(match, bool) else match == "true"
    score = out["match_score"]
    out["match_score"] = None if score in ("", None) else round(float(score), 4)
    return out


def test_spark_screen_equals_screen_batch(spark: Any, sqlite_url: str, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    source = tmp_path / "names.csv"
    write_input(source)
    batch_out = tmp_path / "batch.parquet"
    common = ["--as-of", "2021-02-01", "--role", "us-investor"]
    result = runner.invoke(
        app,
        [
            "--db",
            sqlite_url,
            "screen-batch",
            str(source),
            "--out",
            str(batch_out),
            "--workers",
            "1",
            *common,
        ],
    )
    assert result.exit_code == 0, result.stderr
    expected = pq.read_table(batch_out).to_pylist()

    spark_out = tmp_path / "spark"
    result = runner.invoke(
        app,
        [
            "--db",
            sqlite_url,
            "spark",
            "screen",
            str(source),
            str(spark_out),
            "--master",
            "local[2]",
            *common,
            "--partitions",
            "3",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    got = read_parquet_dir(spark_out)

    assert report["rows"] == len(ROWS) * 3 == len(got) == len(expected)
    assert report["partitions"] == 3
    assert [r["ref"] for r in got] == [r["ref"] for r in expected]  # the input's order
    assert list(got[0]) == list(expected[0])  # the same columns in the same order
    for mine, theirs in zip(got, expected, strict=True):
        assert normalised(mine) == normalised(theirs), mine["ref"]
    # The comparison is not vacuous: hits, statuses, duties and a row error are in it.
    by_ref = {r["ref"]: r for r in got}
    assert by_ref["0-0"]["match_entity_id"] == "xiaomi" and by_ref["0-0"]["match"] is True
    assert by_ref["0-14"]["match_by"] == "identifier"
    assert "check digit" in by_ref["0-15"]["error"] and "line 17" in by_ref["0-15"]["error"]
    assert "line 39" in by_ref["1-15"]["error"]
    assert by_ref["0-17"]["match"] is False and by_ref["0-17"]["match_score"] is None
    assert "us-dod-cmc=listed" in by_ref["0-0"]["statuses"]
    assert report["matched"] == sum(r["match"] for r in got)
    assert report["errors"] == 3
    manifest = json.loads((spark_out / "_listwatch.json").read_text("utf-8"))
    assert manifest["as_of"] == "2021-02-01" and manifest["role"] == "us-investor"

    # CSV output of the same job: the same cells.
    csv_out = tmp_path / "spark-csv"
    result = runner.invoke(
        app,
        [
            "--db",
            sqlite_url,
            "spark",
            "screen",
            str(source),
            str(csv_out),
            "--format",
            "csv",
            *common,
        ],
    )
    assert result.exit_code == 0, result.stderr
    rows: list[dict[str, Any]] = []
    for part in sorted(csv_out.glob("part-*.csv")):
        with part.open(encoding="utf-8", newline="") as handle:
            rows += list(csv.DictReader(handle))
    assert [normalised(r) for r in rows] == [normalised(r) for r in expected]


def test_spark_screen_refuses_bad_input(spark: Any, sqlite_url: str, tmp_path: Path) -> None:
    source = tmp_path / "nonames.csv"
    source.write_text("company,country\nXiaomi,cn\n", encoding="utf-8")
    result = runner.invoke(
        app, ["--db", sqlite_url, "spark", "screen", str(source), str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert "missing column(s) name" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()

    good = tmp_path / "names.csv"
    write_input(good, repeat=1)
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("not mine", encoding="utf-8")
    result = runner.invoke(app, ["--db", sqlite_url, "spark", "screen", str(good), str(taken)])
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert (taken / "keep.txt").read_text(encoding="utf-8") == "not mine"


def test_spark_screen_malformed_and_misencoded(spark: Any, sqlite_url: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text('name,country\nXiaomi,cn\n"Huawei,cn\nDJI,cn,extra\n', encoding="utf-8")
    result = invoke(sqlite_url, "spark", "screen", str(broken), str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "malformed CSV record" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        "name,ref\nXiaomi,1\nSoci\u00e9t\u00e9 G\u00e9n\u00e9rale,2\n".encode("latin-1")
    )
    result = invoke(sqlite_url, "spark", "screen", str(latin), str(tmp_path / "out2"))
    assert result.exit_code == 0, result.stderr
    rows = read_parquet_dir(tmp_path / "out2")
    assert rows[0]["match_entity_id"] == "xiaomi" and rows[0]["error"] == ""
    assert rows[1]["error"] == "line 3: not UTF-8 text (the input must be UTF-8); not screened"
