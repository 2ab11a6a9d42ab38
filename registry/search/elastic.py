"""The Elasticsearch backend: searches, bulk reindexing, and index updates after each commit."""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone

from elasticsearch import (
    ApiError, BadRequestError, Elasticsearch, NotFoundError, TransportError, helpers,
)
from flask import Flask, current_app, has_app_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, selectinload

from registry.extensions import db
from registry.models.places import Commune, Province
from registry.models.practices import Practice
from registry.models.search_log import SearchChange
from registry.models.vocab import Abbreviation, Term
from registry.search.base import FACETS, FacetValue, SearchRequest, SearchResult
from registry.search.changes import current_generation
from registry.search.elastic_mapping import (
    ALL_YEARS, build_search, counts_from_response, document, hit_from_source, index_mappings,
    index_settings,
)
from registry.text import collation_key, fold
from registry.domain.workflow import (
    PUBLIC_STATES, RECOGNITION_LEVELS, STATES, recognition_label, state_label,
)

log = logging.getLogger(__name__)

BATCH = 500  # practices loaded and sent per bulk request
CATCH_UP_LIMIT = 5_000  # changes replayed before a search; beyond, the writers' sync counts
SYNC_ATTEMPTS = 3
SYNC_BACKOFF = 0.5  # seconds before the second attempt, doubled after each failure
SEARCH_TIMEOUT = 10  # seconds; a search that cannot answer in time shows no results
WRITE_TIMEOUT = 5  # seconds per request while a committed request waits for its update
REINDEX_TIMEOUT = 120  # seconds per bulk request of `registry reindex`
BOOLEAN_LABELS = {"yes": ("Có", "Yes"), "no": ("Không", "No")}  # as in facet_index


def replication_counts(session: Session, practice_ids=None) -> dict[int, int]:
    """How many listed (public) models were replicated from each practice."""
    query = (select(Practice.replicated_from_id, func.count())
             .where(Practice.replicated_from_id.is_not(None),
                    Practice.status.in_(PUBLIC_STATES))
             .group_by(Practice.replicated_from_id))
    if practice_ids is not None:
        query = query.where(Practice.replicated_from_id.in_(list(practice_ids)))
    return {pid: n for pid, n in session.execute(query)}


def load_practices(session: Session, practice_ids) -> list[Practice]:
    """The practices with everything document() reads, loaded in a few queries."""
    return list(session.scalars(
        select(Practice).where(Practice.id.in_(list(practice_ids)))
        .options(selectinload(Practice.kind), selectinload(Practice.setting),
                 selectinload(Practice.lead_organisation), selectinload(Practice.commune),
                 selectinload(Practice.province), selectinload(Practice.forms),
                 selectinload(Practice.domains), selectinload(Practice.target_groups),
                 selectinload(Practice.outcomes))))


def index_actions(session: Session, index: str, ids: set[int],
                  indexed_parents: set[int]) -> list[dict]:
    """Bulk actions bringing these practices up to date, with the models they are replicated
    from now or were when last indexed (`indexed_parents`): their replication counts follow.
    Practices gone from the database are deleted."""
    practices = load_practices(session, ids)
    parents = {p.replicated_from_id for p in practices if p.replicated_from_id}
    parents = (parents | set(indexed_parents)) - set(ids)
    practices += load_practices(session, parents)
    counts = replication_counts(session, [p.id for p in practices])
    actions = [{"_op_type": "index", "_index": index, "_id": str(p.id),
                "_source": document(p, counts.get(p.id, 0))} for p in practices]
    found = {p.id for p in practices}
    actions += [{"_op_type": "delete", "_index": index, "_id": str(i)}
                for i in sorted((set(ids) | parents) - found)]
    return actions


class ElasticsearchBackend:
    """Search through an Elasticsearch 9 index named by an alias (REGISTRY_ELASTICSEARCH_INDEX)
    so that `reindex_all` can build a fresh index and swap it in without a gap."""

    def __init__(self, app: Flask, url: str | None = None, index: str | None = None):
        self.url = url or app.config["REGISTRY_ELASTICSEARCH_URL"]
        self.alias = index or app.config["REGISTRY_ELASTICSEARCH_INDEX"]
        self._client: Elasticsearch | None = None
        self.lock = threading.Lock()
        self.generation: int | None = None  # the change log entry this process has applied

    @property
    def client(self) -> Elasticsearch:
        if self._client is None:  # no connection is made before the first request
            self._client = Elasticsearch(self.url, request_timeout=SEARCH_TIMEOUT,
                                         max_retries=1)
        return self._client

    @property
    def writer(self) -> Elasticsearch:
        """The client for updates after a commit: short timeouts, the retries are sync()'s."""
        return self.client.options(request_timeout=WRITE_TIMEOUT, max_retries=0)

    # --- index management ---------------------------------------------------------------

    def _create_index(self, name: str, aliases: dict | None = None) -> str:
        self.client.indices.create(index=name, settings=index_settings(),
                                   mappings=index_mappings(), aliases=aliases)
        return name

    def ensure_index(self) -> None:
        """Create an empty index behind the alias if there is none yet. Its fixed name makes
        two processes starting at once create it only once."""
        if self.writer.indices.exists(index=self.alias):
            return
        try:
            self._create_index(f"{self.alias}-initial", aliases={self.alias: {}})
        except BadRequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise

    def _swap_alias(self, new_index: str) -> None:
        old = []
        if self.client.indices.exists_alias(name=self.alias):
            old = list(self.client.indices.get_alias(name=self.alias).body)
        elif self.client.indices.exists(index=self.alias):
            self.client.indices.delete(index=self.alias)  # a plain index in the alias's way
        actions = [{"remove": {"index": name, "alias": self.alias}} for name in old]
        actions.append({"add": {"index": new_index, "alias": self.alias}})
        self.client.indices.update_aliases(actions=actions)
        for name in old:
            self.client.indices.delete(index=name)

    def delete_index(self) -> None:
        """Remove the alias and every index behind it (tests and `registry reindex`)."""
        if self.client.indices.exists_alias(name=self.alias):
            for name in list(self.client.indices.get_alias(name=self.alias).body):
                self.client.indices.delete(index=name)
        elif self.client.indices.exists(index=self.alias):
            self.client.indices.delete(index=self.alias)

    # --- writing ------------------------------------------------------------------------

    def _indexed_parents(self, ids: set[int]) -> set[int]:
        """The sources these practices were replicated from, as the index knows them now."""
        response = self.writer.mget(index=self.alias, ids=[str(i) for i in sorted(ids)],
                                    source=["replicated_from"])
        return {doc["_source"]["replicated_from"] for doc in response["docs"]
                if doc.get("found") and doc["_source"].get("replicated_from")}

    def index(self, practice_ids) -> None:
        """Bring these practices up to date, and the models they were (or are now) replicated
        from, whose replication counts follow; practices gone from the database are removed.
        Raises on failure (the caller retries or reports)."""
        ids = sorted({int(i) for i in practice_ids})
        if not ids:
            return
        self.ensure_index()
        for start in range(0, len(ids), BATCH):
            self._index_batch(set(ids[start:start + BATCH]))

    def _index_batch(self, ids: set[int]) -> None:
        indexed_parents = self._indexed_parents(ids)
        # A session of its own: this runs after the request's session has committed.
        with Session(db.engine) as session:
            actions = index_actions(session, self.alias, ids, indexed_parents)
        helpers.bulk(self.writer, actions, ignore_status=(404,), refresh=True)

    def catch_up(self) -> None:
        """Apply the change log entries this process has not applied yet: writes made by
        other processes, by commands that bypassed the listener, or whose update failed.
        Beyond CATCH_UP_LIMIT changes it only logs: `registry reindex` is the cheaper way."""
        generation = current_generation(db.session)
        with self.lock:
            if self.generation is None or generation < self.generation:
                self.generation = generation  # first answer (or a new database): trust it
                return
            if generation == self.generation:
                return
            changed = set(db.session.scalars(
                select(SearchChange.practice_id).distinct()
                .where(SearchChange.generation > self.generation,
                       SearchChange.generation <= generation)))
            if len(changed) > CATCH_UP_LIMIT:
                log.warning("%d practices changed since this process last searched; "
                            "not replayed (run `registry reindex` if the index is behind)",
                            len(changed))
            else:
                try:
                    self.index(changed)
                except Exception as exc:  # noqa: BLE001 (searching must go on; retried next time)
                    log.error("Elasticsearch catch-up failed: %s", exc)
                    return
            self.generation = generation

    def sync(self, practice_ids) -> bool:
        """index() after a commit: retried with backoff; a failure is logged, never raised,
        because the database write has already happened (`registry reindex` repairs)."""
        ids = sorted({int(i) for i in practice_ids})
        delay = SYNC_BACKOFF
        for attempt in range(1, SYNC_ATTEMPTS + 1):
            try:
                self.index(ids)
                return True
            except Exception as exc:  # noqa: BLE001 (any failure must leave the write alone)
                if attempt == SYNC_ATTEMPTS:
                    log.error("Elasticsearch update failed after %d attempts for practices "
                              "%s: %s; run `registry reindex` to repair the index",
                              attempt, ids, exc)
                    return False
                log.warning("Elasticsearch update failed (attempt %d): %s", attempt, exc)
                time.sleep(delay)
                delay *= 2
        return False

    def reindex_all(self) -> int:
        """Build a new index from the database, swap the alias to it, delete the old one,
        then apply the changes committed while it was being built."""
        generation = current_generation(db.session)
        new_index = self._create_index(
            f"{self.alias}-{datetime.now(timezone.utc):%Y%m%d%H%M%S%f}")
        ids = list(db.session.scalars(select(Practice.id).order_by(Practice.id)))
        counts = replication_counts(db.session)

        def actions():
            with Session(db.engine) as session:
                for start in range(0, len(ids), BATCH):
                    for p in load_practices(session, ids[start:start + BATCH]):
                        yield {"_index": new_index, "_id": str(p.id),
                               "_source": document(p, counts.get(p.id, 0))}
                    session.expunge_all()  # keep memory flat over 100,000 models

        bulk_client = self.client.options(request_timeout=REINDEX_TIMEOUT)
        indexed = sum(ok for ok, _ in helpers.streaming_bulk(bulk_client, actions(),
                                                             chunk_size=BATCH))
        self.client.indices.refresh(index=new_index)
        self._swap_alias(new_index)
        with Session(db.engine) as session:  # a fresh snapshot (SQLite keeps the old one)
            now = current_generation(session)
            missed = set(session.scalars(select(SearchChange.practice_id)
                                         .where(SearchChange.generation > generation,
                                                SearchChange.generation <= now)))
        self.index(missed)
        self.generation = now
        return indexed

    # --- reading ------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResult:
        self.catch_up()
        abbreviations = {fold(a.short): a.expansion
                         for a in db.session.scalars(select(Abbreviation))}
        body = build_search(request, abbreviations=abbreviations,
                            commune_scope=commune_scope(request))
        kwargs = {{"from": "from_", "_source": "source"}.get(k, k): v for k, v in body.items()}
        try:
            response = self.client.search(index=self.alias, **kwargs).body
        except (ApiError, TransportError) as exc:
            # Degrade to "no results" rather than an error page; the log says why.
            level = logging.WARNING if isinstance(exc, NotFoundError) else logging.ERROR
            log.log(level, "Elasticsearch search failed: %s", exc)
            response = {"hits": {"total": {"value": 0}, "hits": []}}
        hits = [hit_from_source(h) for h in response["hits"]["hits"]]
        return SearchResult(total=response["hits"]["total"]["value"], page=request.page,
                            per_page=request.per_page, hits=hits,
                            facets=facet_values(counts_from_response(response), request))


def commune_scope(request: SearchRequest) -> list[str]:
    """Communes whose counts are offered: those of the selected provinces, plus any selected."""
    provinces = request.filters.get("province") or []
    scope = set(request.filters.get("commune") or [])
    if provinces:
        scope.update(db.session.scalars(select(Commune.code)
                                        .where(Commune.province_code.in_(provinces))))
    return sorted(scope)


def _labels(facet, codes: set[str], locale: str) -> dict[str, str]:
    """code -> label for the values of one facet."""
    source = facet.source
    if source == "state":
        return {c: state_label(c, locale) for c in codes}
    if source == "recognition":
        return {c: recognition_label(c, locale) for c in codes}
    if source == "boolean":
        return {c: BOOLEAN_LABELS.get(c, (c, c))[locale == "en"] for c in codes}
    if source == "year" or not codes:
        return {c: c for c in codes}
    if source in ("province", "commune"):
        model = Province if source == "province" else Commune
        return dict(db.session.execute(select(model.code, model.name)
                                       .where(model.code.in_(codes))).all())
    vocabulary = source.split(":", 1)[1]
    terms = db.session.scalars(select(Term).where(Term.vocabulary == vocabulary,
                                                  Term.code.in_(codes)))
    return {t.code: t.label(locale) for t in terms}


# Facets listed in their declared order; the others most frequent first, then by label.
DECLARED_ORDER = {
    "state": {s.code: i for i, s in enumerate(STATES)},
    "recognition": {code: i for i, (code, _, _) in enumerate(RECOGNITION_LEVELS)},
    "boolean": {code: i for i, code in enumerate(BOOLEAN_LABELS)},
}


def facet_values(counts: dict[str, dict[str, int]],
                 request: SearchRequest) -> dict[str, list[FacetValue]]:
    """Labelled values with a count, as the SQL backend lists them; selected values always
    listed (count 0 included)."""
    facets = {}
    ranged = request.founded_from is not None or request.founded_to is not None
    for facet in FACETS:
        found = dict(counts.get(facet.name, {}))
        if facet.source == "year":
            known = set(found) | set(counts.get(ALL_YEARS, {}))
            selected = {v for v in known if ranged
                        and (request.founded_from is None or int(v) >= request.founded_from)
                        and (request.founded_to is None or int(v) <= request.founded_to)}
            for value in selected:
                found.setdefault(value, 0)
        else:
            selected = set(request.filters.get(facet.name) or [])
            for value in selected:
                found.setdefault(value, 0)
        found = {v: n for v, n in found.items() if n or v in selected}
        labels = _labels(facet, set(found), request.locale)
        if facet.source == "year":
            ordered = sorted(found, key=int, reverse=True)
        elif facet.source in DECLARED_ORDER:
            order = DECLARED_ORDER[facet.source]
            ordered = sorted(found, key=lambda v: (order.get(v, len(order)), v))
        else:
            ordered = sorted(found, key=lambda v: (-found[v],
                                                   collation_key(labels.get(v, v)), v))
        facets[facet.name] = [FacetValue(v, labels.get(v, v), found[v], v in selected)
                              for v in ordered]
    return facets


def _after_commit(session: Session) -> None:
    """Send the practices this transaction changed to the index of the current app."""
    if not has_app_context() or not current_app.config.get("REGISTRY_ELASTICSEARCH_URL"):
        return
    ids = session.info.pop("changed_practices", None)
    if not ids:
        return
    from registry.search import get_backend
    backend = get_backend()
    if isinstance(backend, ElasticsearchBackend):
        backend.sync(ids)


def install_sync(app: Flask) -> None:
    """Update the index after every commit (idempotent); registry.search.init_app calls it
    when Elasticsearch is configured, so writes made before any search are indexed too."""
    with app.app_context():
        factory = db.session.session_factory
        if not event.contains(factory, "after_commit", _after_commit):
            event.listen(factory, "after_commit", _after_commit)


def create_backend(app: Flask) -> ElasticsearchBackend:
    """The backend registry.search.get_backend() creates when REGISTRY_ELASTICSEARCH_URL is set."""
    install_sync(app)
    return ElasticsearchBackend(app)
