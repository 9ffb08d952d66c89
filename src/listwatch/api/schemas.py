"""Response and request bodies of the API, as they appear in the OpenAPI schema.

Dates that may be partial are ISO 8601 strings of the precision they are known to
(``2021``, ``2021-03``, ``2021-03-12``) with a ``*_precision`` field beside them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Models whose JSON keys are not valid Python names (``list``, ``from``, ``schema``).
_ALIASED = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class Evidence(BaseModel):
    """A span of a source document that supports an event."""

    document_id: int
    title: str | None = None
    url: str | None = None
    citation: str | None = None
    publisher: str | None = None
    published: str | None = Field(None, description="Publication date, ISO 8601, partial")
    kind: str
    language: str | None = None
    locator: str | None = None
    text: str | None = Field(None, description="The quoted sentence or row")
    start: int | None = None
    end: int | None = None


class Event(BaseModel):
    """A dated fact about an entity, with its evidence and review state."""

    id: int
    entity_id: str
    entity_name: str | None = None
    list_id: str | None = Field(None, alias="list")
    kind: str
    date: str | None = Field(None, description="When it took effect, ISO 8601, partial")
    date_precision: Literal["day", "month", "year"] | None = None
    date_qualifier: str
    announced: str | None = None
    recorded_at: str = Field(description="When listwatch learnt it (ISO 8601 with zone)")
    origin: str
    review_state: Literal["proposed", "accepted", "rejected"]
    confidence: float
    supersedes: int | None = None
    summary: str | None = None
    details: dict[str, Any] = {}
    evidence: list[Evidence] = []

    model_config = _ALIASED


class StatusOnList(BaseModel):
    """An entity's status on one list at one date and the events that decide it."""

    entity_id: str
    list_id: str = Field(alias="list")
    as_of: str
    known_at: str | None = None
    status: Literal["listed", "listed_suspended", "removed", "never_listed"]
    since: str | None = None
    since_precision: Literal["day", "month", "year"] | None = None
    since_qualifier: str
    listed_since: str | None = None
    listed_since_qualifier: str = "on"
    uncertain: bool
    notes: list[str]
    events: list[Event]

    model_config = _ALIASED


class EntitySummary(BaseModel):
    """An entity in a collection."""

    id: str
    schema_: str = Field(alias="schema")
    name: str
    country: str | None = None

    model_config = _ALIASED


class Name(BaseModel):
    """A name of an entity."""

    name: str
    kind: str
    lang: str | None = None
    script: str | None = None


class IdentifierOut(BaseModel):
    """An identifier of an entity (ticker, ISIN, LEI ...)."""

    scheme: str
    value: str


class RelationOut(BaseModel):
    """``subject`` ``kind`` ``object``, e.g. ``smic-beijing subsidiary_of smic``."""

    subject: str
    subject_name: str | None = None
    kind: str
    object: str
    object_name: str | None = None
    note: str | None = None


class EntityDetail(EntitySummary):
    """An entity with its names, identifiers, relations and merged records."""

    names: list[Name]
    identifiers: list[IdentifierOut]
    relations: list[RelationOut]
    merged_records: list[str]
    properties: dict[str, Any] = {}


class EntityStatus(BaseModel):
    """An entity's status on every list it has an event on."""

    entity: EntitySummary
    as_of: str
    known_at: str | None = None
    statuses: list[StatusOnList]


class Interval(BaseModel):
    """A stretch of time with one status; ``to`` is null while it lasts."""

    status: str
    from_: str = Field(alias="from")
    from_qualifier: str
    to: str | None = None
    to_qualifier: str = "on"
    event: Event

    model_config = _ALIASED


class ListHistory(BaseModel):
    """Status intervals of an entity on one list and its other events there."""

    list_id: str | None = Field(alias="list")
    intervals: list[Interval]
    events: list[Event]

    model_config = _ALIASED


class EntityHistory(BaseModel):
    """An entity's history on every list."""

    entity: EntitySummary
    known_at: str | None = None
    lists: list[ListHistory]


class DutyOut(BaseModel):
    """A dated duty of a role towards an entity."""

    list_id: str = Field(alias="list")
    rule: str
    duty: str
    state: str
    summary: str
    legal_basis: str | None = None
    listing_date: str | None = None
    listing_date_qualifier: str = "on"
    effective_from: str | None = None
    effective_from_qualifier: str = "on"
    deadline: str | None = None
    deadline_qualifier: str = "on"
    uncertain: bool = False
    note: str | None = None
    status: str | None = None
    evidence: list[Event] = []

    model_config = _ALIASED


class Obligations(BaseModel):
    """What a role must do about an entity on a date."""

    entity: EntitySummary
    as_of: str
    known_at: str | None = None
    role: str
    duties: list[DutyOut]


class RoleOut(BaseModel):
    """A kind of user whose duties listwatch evaluates."""

    id: str
    description: str
    implies: list[str]


class ListName(BaseModel):
    """A name of a list in one language."""

    lang: str
    name: str


class ListSummary(BaseModel):
    """A restriction list."""

    id: str
    name: str
    short_name: str | None = None
    authority: str
    authority_name: str | None = None
    url: str | None = None
    entities_with_events: int


class ListDetail(ListSummary):
    """A restriction list with its names, legal basis and consequence rules."""

    description: str | None = None
    names: list[ListName]
    legal_basis: list[Any]
    consequences: list[Any]
    notes: list[Any]


class Member(BaseModel):
    """An entity's standing on a list at the requested date."""

    entity: EntitySummary
    status: StatusOnList


class Change(BaseModel):
    """A change of status on a list between two dates."""

    entity_id: str
    entity_name: str | None = None
    change: str
    before: str
    after: str
    date: str
    event: Event


class DocumentOut(BaseModel):
    """A source document."""

    id: int
    sha256: str
    kind: str
    title: str | None = None
    url: str | None = None
    citation: str | None = None
    publisher: str | None = None
    language: str | None = None
    published: str | None = None
    published_precision: str | None = None
    retrieved_at: str
    events: int = Field(0, description="Events whose evidence cites the document")


class DocumentDetail(DocumentOut):
    """A document with its text and metadata."""

    text: str | None = None
    meta: dict[str, Any] = {}


class ReviewIn(BaseModel):
    """A review decision."""

    decision: Literal["accept", "reject"]
    reason: str | None = Field(None, max_length=2000, description="Required to reject")

    model_config = ConfigDict(extra="forbid")


class ReviewOut(BaseModel):
    """A recorded review decision and the event as it now stands."""

    id: int
    event_id: int
    state: str
    reason: str | None = None
    reviewer: str | None = None
    recorded_at: str
    event: Event


class ImportOut(BaseModel):
    """An official list file taken into the registry."""

    id: int
    source: str
    sha256: str
    filename: str | None = None
    url: str | None = None
    published: str | None = None
    imported_at: str
    records: int
    stats: dict[str, Any] = {}
    document_id: int | None = None


class Health(BaseModel):
    """The server is up and its registry answers."""

    status: Literal["ok"]
    version: str
    database: str


class WatchIn(BaseModel):
    """A new watch on an entity (id or name) or a list (id)."""

    target_kind: Literal["entity", "list"]
    target: str = Field(min_length=1, max_length=300)
    label: str | None = Field(None, max_length=300)
    webhook_url: str | None = Field(
        None, max_length=2000, description="http(s) URL that receives signed alerts"
    )
    secret: str | None = Field(
        None, min_length=16, max_length=200, description="HMAC secret (made for you if absent)"
    )

    model_config = ConfigDict(extra="forbid")


class WatchOut(BaseModel):
    """A watch; ``feed_path`` is its Atom feed (readable without a token)."""

    id: int
    target_kind: str
    target_id: str
    label: str | None = None
    webhook_url: str | None = None
    feed_path: str
    created_at: str
    active: bool


class WatchCreated(WatchOut):
    """A watch just created: the only response that shows the webhook secret."""

    secret: str | None = None


class Delivery(BaseModel):
    """Where the webhook delivery of an alert stands."""

    state: Literal["pending", "delivered", "failed", "none"]
    attempts: int = 0
    next_attempt_at: str | None = None
    delivered_at: str | None = None
    last_error: str | None = None


class AlertOut(BaseModel):
    """An event that concerned a watch."""

    id: int
    watch_id: int
    event_id: int
    created_at: str
    title: str
    payload: dict[str, Any]
    delivery: Delivery


class ArticleIn(BaseModel):
    """A news article to extract events from: its text or its HTML, and what is known of it."""

    text: str | None = Field(None, description="Plain text of the article")
    html: str | None = Field(None, description="The article's HTML page (boilerplate is removed)")
    url: str | None = Field(None, max_length=2000)
    title: str | None = Field(None, max_length=500)
    published: str | None = Field(
        None, max_length=40, description="Publication date: YYYY, YYYY-MM or YYYY-MM-DD"
    )
    language: str | None = Field(None, max_length=16, description="ISO 639-1 code, if known")

    model_config = ConfigDict(extra="forbid")


class SubmittedDocument(BaseModel):
    """A submitted document and whether it was already known (same content hash)."""

    id: int
    sha256: str
    title: str | None = None
    language: str | None = None
    published: str | None = None
    duplicate: bool


class SubmissionOut(BaseModel):
    """What a submission did: documents stored, events proposed, confirmed or flagged."""

    documents: list[SubmittedDocument]
    events_created: list[int]
    evidence_added: list[int]
    entities_proposed: list[str]
    confirmed: list[dict[str, int]]
    conflicts: list[int]
    events: list[Event]


class SourceOut(BaseModel):
    """An official source listwatch can import, with its official download addresses."""

    id: str
    title: str
    publisher: str
    lists: list[str]
    formats: list[str]
    downloads: list[dict[str, Any]]
    homepage: str = ""
    note: str = ""


class ImportResultOut(BaseModel):
    """What an import did, per list (the same as ``listwatch import --json``)."""

    source: str
    files: list[str]
    format: str
    sha256: str
    import_id: int | None = None
    unchanged: bool
    published: str | None = None
    published_from: str | None = None
    first_snapshot: bool
    records: int
    records_per_list: dict[str, int]
    entities_created: int
    entities_updated: int
    events: dict[str, dict[str, int]]
    merges: list[dict[str, Any]]
    warnings: list[str]
    seconds: float
