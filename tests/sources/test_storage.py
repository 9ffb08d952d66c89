"""Imports on both storage backends (SQLite and PostgreSQL): snapshot diffs, idempotence,
rollback of a failed import, and a lossless FollowTheMoney export → restore round trip."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from listwatch.registry.domain import ReviewState
from listwatch.registry.models import (
    Document,
    Entity,
    EntityMerge,
    Event,
    Import,
    Relation,
    SourceRecord,
)
from listwatch.registry.store import review_event
from listwatch.sources.engine import ImportOptions
from listwatch.sources.ftm_export import export
from listwatch.sources.importer import import_file
from tests.sources.conftest import run_cli, table_counts


@pytest.fixture(scope="module")
def loaded(
    backend_registry: Any, fixtures_dir: Path, lists_dir: Path, tmp_path_factory: Any
) -> Any:
    """A registry holding several sources' snapshots, a diff, merges, an undone merge and a
    review: everything an export has to carry."""
    registry = backend_registry
    work = tmp_path_factory.mktemp("snapshots")
    source = lists_dir / "ofac_cons" / "2018-04-06"
    for name in ("cons_prim.csv", "cons_add.csv", "cons_alt.csv"):
        shutil.copy(source / name, work / name)
    import_file(
        registry, "ofac-cons", work / "cons_prim.csv", ImportOptions(published=dt.date(2018, 4, 6))
    )
    rows = (work / "cons_prim.csv").read_bytes().split(b"\r\n")
    del rows[7]
    (work / "cons_prim.csv").write_bytes(b"\r\n".join(rows))
    import_file(
        registry, "ofac-cons", work / "cons_prim.csv", ImportOptions(published=dt.date(2018, 6, 1))
    )
    import_file(registry, "us-csl", fixtures_dir / "csl_sample.json")
    import_file(registry, "eu-fsf", fixtures_dir / "eu_fsf_sample.xml")
    import_file(registry, "uk-sanctions", fixtures_dir / "uk_sanctions_sample.xml")
    with registry.transaction() as session:
        merge = session.scalars(select(EntityMerge).order_by(EntityMerge.id)).first()
        assert merge is not None
        from listwatch.registry.store import undo_merge

        undo_merge(session, merge.id, "test: an undone merge travels too")
        event = session.scalars(select(Event).where(Event.origin == "import")).first()
        assert event is not None
        review_event(
            session, event.id, ReviewState.REJECTED, "test: a review travels too", "tester"
        )
    return registry


def test_snapshot_diff_on_this_backend(loaded: Any) -> None:
    with loaded.transaction() as session:
        removed = session.scalars(
            select(Event).where(Event.kind == "removed", Event.origin == "import")
        ).all()
        assert len(removed) == 1
        assert removed[0].valid_date == dt.date(2018, 6, 1)
        assert removed[0].date_qualifier == "not_after"
        assert removed[0].evidence[0].locator.startswith("ent_num ")
    code, out, _ = run_cli(
        loaded.url,
        "diff",
        removed[0].list_id,
        "--from",
        "2018-04-06",
        "--to",
        "2018-06-01",
        "--json",
    )
    assert code == 0
    assert json.loads(out)["summary"] == {"removed": 1}


def test_reimport_is_idempotent_on_this_backend(loaded: Any, fixtures_dir: Path) -> None:
    before = table_counts(loaded)
    assert import_file(loaded, "eu-fsf", fixtures_dir / "eu_fsf_sample.xml").unchanged
    assert table_counts(loaded) == before


def test_a_failed_import_leaves_nothing(
    loaded: Any, lists_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error after entities and events were written (here in resolution) rolls all back."""
    import listwatch.sources.resolve as resolve

    def broken(*_args: Any, **_kwargs: Any) -> list[Any]:
        raise RuntimeError("simulated failure after the writes")

    monkeypatch.setattr(resolve, "resolve_entities", broken)
    before = table_counts(loaded)
    with pytest.raises(RuntimeError, match="simulated"):
        import_file(loaded, "un-sc", lists_dir / "un" / "un_consolidated_2026-02-27.xml")
    assert table_counts(loaded) == before


def dump(registry: Any) -> dict[str, Any]:
    """Everything the registry knows, without its internal row ids."""
    with registry.transaction() as session:
        shas = dict(session.execute(select(Document.id, Document.sha256)).all())
        keys = {}
        events = []
        all_events = session.scalars(
            select(Event)
            .order_by(Event.id)
            .options(selectinload(Event.evidence), selectinload(Event.reviews))
        ).all()
        for event in all_events:
            keys[event.id] = event.key or f"{event.entity_id}|{event.kind}|{event.recorded_at}"
        for event in all_events:
            events.append(
                (
                    keys[event.id],
                    event.entity_id,
                    event.list_id,
                    event.kind,
                    str(event.valid_date),
                    event.valid_precision,
                    event.date_qualifier,
                    str(event.announced_date),
                    event.recorded_at.isoformat(),
                    event.origin,
                    event.initial_review,
                    event.confidence,
                    event.summary,
                    json.dumps(event.details, sort_keys=True),
                    keys.get(event.supersedes_id) if event.supersedes_id else None,
                    tuple(
                        (
                            shas[e.document_id],
                            e.locator,
                            e.text,
                            e.start,
                            e.end,
                            e.recorded_at.isoformat(),
                        )
                        for e in event.evidence
                    ),
                    tuple(
                        (r.state, r.reason, r.reviewer, r.recorded_at.isoformat())
                        for r in event.reviews
                    ),
                )
            )
        entities = {}
        query = select(Entity).options(selectinload(Entity.names), selectinload(Entity.identifiers))
        for entity in session.scalars(query):
            curated = entity.origin == "curated"
            entities[entity.id] = (
                entity.schema,
                entity.name,
                entity.country,
                json.dumps(entity.properties, sort_keys=True),
                entity.origin,
                None if curated else entity.created_at.isoformat(),
                tuple(
                    sorted(
                        (n.name, n.kind, n.lang or "", n.script or "", n.origin or "")
                        for n in entity.names
                    )
                ),
                tuple(sorted((i.scheme, i.value, i.origin or "") for i in entity.identifiers)),
            )
        documents = {
            d.sha256: (
                d.kind,
                d.title,
                d.url,
                d.citation,
                d.publisher,
                d.language,
                str(d.published),
                d.published_precision,
                d.text,
                json.dumps(d.meta, sort_keys=True),
                None if "curated_source" in (d.meta or {}) else d.retrieved_at.isoformat(),
            )
            for d in session.scalars(select(Document))
        }
        merges = sorted(
            (
                m.source_id,
                m.target_id,
                m.reason,
                m.score,
                m.created_at.isoformat(),
                m.undone_at.isoformat() if m.undone_at else None,
                m.undo_reason,
            )
            for m in session.scalars(select(EntityMerge))
        )
        imports = sorted(
            (
                i.source,
                i.sha256,
                str(i.published),
                i.published_from,
                i.records,
                i.imported_at.isoformat(),
            )
            for i in session.scalars(select(Import))
        )
        records = sorted(
            (r.source, r.list_id, r.record_key, r.entity_id, r.content_hash, r.present)
            for r in session.scalars(select(SourceRecord))
        )
        relations = sorted(
            (r.subject_id, r.object_id, r.kind, shas.get(r.document_id), r.note)
            for r in session.scalars(select(Relation))
        )
    return {
        "events": sorted(events, key=repr),
        "entities": entities,
        "documents": documents,
        "merges": merges,
        "imports": imports,
        "source_records": records,
        "relations": relations,
    }


def test_ftm_export_and_restore_round_trip(loaded: Any, new_registry: Any, tmp_path: Path) -> None:
    path = tmp_path / "registry.ftm.json"
    counts = export(loaded, path)
    assert counts["entity"] > 600 and counts["event"] > 600 and counts["document"] > 5
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert first["schema"] == "Document" and "listwatch" in first
    # Every line is a valid FollowTheMoney entity.
    from followthemoney import model

    schemas = set()
    bounded = 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            data = json.loads(line)
            proxy = model.get_proxy(data)
            schemas.add(proxy.schema.name)
            if proxy.schema.name == "Sanction" and data["listwatch"]["date_qualifier"] != "on":
                # a date known only as a bound is not the sanction's start or end
                assert not proxy.get("startDate") and not proxy.get("endDate"), data
                bounded += 1
    assert bounded
    assert {"Document", "Sanction", "Person", "Event"} <= schemas
    target = new_registry()
    result = import_file(target, "ftm", path)
    assert result.format == "ftm-restore"
    assert dump(target) == dump(loaded)
    # Restoring again adds nothing.
    again = import_file(target, "ftm", path)
    assert again.events == {"registry": {}}
    assert dump(target) == dump(loaded)
    # The restored registry answers like the original one.
    _, out_a, _ = run_cli(loaded.url, "history", "Pyotr Ivanovich ZELENKOV", "--json")
    _, out_b, _ = run_cli(target.url, "history", "Pyotr Ivanovich ZELENKOV", "--json")
    drop_ids = lambda text: json.dumps(_without_ids(json.loads(text)), sort_keys=True)  # noqa: E731
    assert drop_ids(out_a) == drop_ids(out_b)


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_ids(v)
            for k, v in value.items()
            if k not in ("id", "document_id", "supersedes") and not k.endswith("import")
        }
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value
