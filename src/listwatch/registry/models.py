"""Storage schema of the registry (SQLAlchemy 2 ORM).

Events and reviews are append-only: a correction is a new event that supersedes an
older one, and a review decision is a new row, so what was known at any moment can be
reconstructed. Dates that may be partial are stored as their first day plus a precision.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: registry timestamps must carry a zone")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Base of all registry tables."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Meta(Base):
    """Key/value facts about the database itself (e.g. the curated dataset version)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Authority(Base):
    """A body that publishes restriction lists (US DoD, BIS, OFAC, EU Council ...)."""

    __tablename__ = "authorities"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(8))
    url: Mapped[str | None] = mapped_column(String(500))


class RestrictionList(Base):
    """A list (programme) with its legal basis and its consequence rules as data."""

    __tablename__ = "lists"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    authority_id: Mapped[str] = mapped_column(ForeignKey("authorities.id"))
    name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    legal_basis: Mapped[list[Any]] = mapped_column(default=list)
    consequences: Mapped[list[Any]] = mapped_column(default=list)
    notes: Mapped[list[Any]] = mapped_column(default=list)
    authority: Mapped[Authority] = relationship()
    names: Mapped[list[ListName]] = relationship(
        back_populates="list", cascade="all, delete-orphan", order_by="ListName.id"
    )


class ListName(Base):
    """A name of a list in one language ("Entity List", "sortliste", ...)."""

    __tablename__ = "list_names"
    __table_args__ = (UniqueConstraint("list_id", "lang", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    list_id: Mapped[str] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(500))
    list: Mapped[RestrictionList] = relationship(back_populates="names")


class Entity(Base):
    """A company, person, vessel ... known to the registry."""

    __tablename__ = "entities"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    schema: Mapped[str] = mapped_column(String(32), default="Company")
    name: Mapped[str] = mapped_column(String(1000))
    country: Mapped[str | None] = mapped_column(String(64))
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    origin: Mapped[str] = mapped_column(String(32), default="curated")
    review_state: Mapped[str] = mapped_column(String(16), default="accepted")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    names: Mapped[list[EntityName]] = relationship(
        back_populates="entity", cascade="all, delete-orphan", order_by="EntityName.id"
    )
    identifiers: Mapped[list[Identifier]] = relationship(
        back_populates="entity", cascade="all, delete-orphan", order_by="Identifier.id"
    )


class EntityName(Base):
    """One name of an entity, with its language, script and kind (primary, alias, former ...)."""

    __tablename__ = "entity_names"
    __table_args__ = (
        UniqueConstraint("entity_id", "name", "kind"),
        Index("ix_entity_names_folded", "folded"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(1000))
    folded: Mapped[str] = mapped_column(String(1000))
    kind: Mapped[str] = mapped_column(String(16), default="alias")
    lang: Mapped[str | None] = mapped_column(String(16))
    script: Mapped[str | None] = mapped_column(String(16))
    origin: Mapped[str | None] = mapped_column(String(200))
    entity: Mapped[Entity] = relationship(back_populates="names")


class Identifier(Base):
    """An identifier of an entity: ticker, ISIN, LEI, registration number ..."""

    __tablename__ = "identifiers"
    __table_args__ = (
        UniqueConstraint("entity_id", "scheme", "value"),
        Index("ix_identifiers_lookup", "scheme", "value"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    scheme: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str | None] = mapped_column(String(200))
    entity: Mapped[Entity] = relationship(back_populates="identifiers")


class Relation(Base):
    """A link between two entities (parent/subsidiary, owner, successor)."""

    __tablename__ = "relations"
    __table_args__ = (UniqueConstraint("subject_id", "object_id", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    object_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # subject <kind> object: "subsidiary_of"
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    note: Mapped[str | None] = mapped_column(Text)


class EntityMerge(Base):
    """A decision that two entity records are one real-world entity; undone, never deleted."""

    __tablename__ = "entity_merges"
    __table_args__ = (
        Index("ix_entity_merges_source", "source_id"),
        Index("ix_entity_merges_target", "target_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    target_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    undone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    undo_reason: Mapped[str | None] = mapped_column(Text)


class Document(Base):
    """A source document: an official file, a release, a court record or a news article."""

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # official_file, release, court, news, ...
    title: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2000))
    citation: Mapped[str | None] = mapped_column(Text)
    publisher: Mapped[str | None] = mapped_column(String(300))
    language: Mapped[str | None] = mapped_column(String(16))
    published: Mapped[dt.date | None] = mapped_column(Date)
    published_precision: Mapped[str | None] = mapped_column(String(8))
    retrieved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    text: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Event(Base):
    """A dated fact about an entity, bitemporal and append-only.

    ``valid_date``/``valid_precision`` say when it took effect (``None`` when no source
    states it); ``recorded_at`` says when it became known. ``supersedes_id`` points at
    the event this one corrects.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_entity", "entity_id"),
        Index("ix_events_list_date", "list_id", "valid_date"),
        Index("ix_events_recorded", "recorded_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str | None] = mapped_column(String(300), unique=True)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id"))
    list_id: Mapped[str | None] = mapped_column(ForeignKey("lists.id"))
    kind: Mapped[str] = mapped_column(String(32))
    valid_date: Mapped[dt.date | None] = mapped_column(Date)
    valid_precision: Mapped[str | None] = mapped_column(String(8))
    date_qualifier: Mapped[str] = mapped_column(String(16), default="on")
    announced_date: Mapped[dt.date | None] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    origin: Mapped[str] = mapped_column(String(16))
    initial_review: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))
    summary: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Evidence.id"
    )
    reviews: Mapped[list[Review]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        order_by="Review.id",
        foreign_keys="Review.event_id",
    )


class Evidence(Base):
    """The exact span of a document that supports an event (sentence, offsets or row id)."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_event", "event_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    locator: Mapped[str | None] = mapped_column(String(500))  # row id, page, paragraph
    text: Mapped[str | None] = mapped_column(Text)  # the quoted span
    start: Mapped[int | None] = mapped_column(Integer)
    end: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    event: Mapped[Event] = relationship(back_populates="evidence")
    document: Mapped[Document] = relationship()


class Review(Base):
    """A review decision on an event (accept or reject, with a reason); append-only."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_event", "event_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str | None] = mapped_column(String(200))
    confirmed_by_event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    event: Mapped[Event] = relationship(back_populates="reviews", foreign_keys=[event_id])


class Import(Base):
    """One snapshot of an official source taken into the registry (idempotent by hash)."""

    __tablename__ = "imports"
    __table_args__ = (UniqueConstraint("source", "sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(1000))
    url: Mapped[str | None] = mapped_column(String(2000))
    published: Mapped[dt.date | None] = mapped_column(Date)
    published_from: Mapped[str | None] = mapped_column(String(32))  # "file" or "argument"
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    records: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))


class SourceRecord(Base):
    """The latest known state of one record of an official source, the key of snapshot diffs."""

    __tablename__ = "source_records"
    __table_args__ = (UniqueConstraint("source", "list_id", "record_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    list_id: Mapped[str] = mapped_column(ForeignKey("lists.id"))
    record_key: Mapped[str] = mapped_column(String(300))
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    first_import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"))
    last_import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"))


class ApiToken(Base):
    """An API token for writes; only its hash is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Watch(Base):
    """A user's watch on an entity or a list, delivered to a webhook and an Atom feed."""

    __tablename__ = "watches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target_kind: Mapped[str] = mapped_column(String(16))  # "entity" or "list"
    target_id: Mapped[str] = mapped_column(String(128))
    label: Mapped[str | None] = mapped_column(String(300))
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    secret: Mapped[str | None] = mapped_column(String(200))
    feed_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Alert(Base):
    """An event that concerns a watch; one per (watch, event) so no alert is made twice."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("watch_id", "event_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("watches.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OutboxItem(Base):
    """A webhook delivery waiting to be sent; durable so that it survives a restart."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "delivered_at", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
