"""The search-engine backend, shared by Elasticsearch 9 and OpenSearch: searches, bulk
reindexing into a new index behind an alias, index updates after each commit, and the
replay of what the engine missed.

Only the client differs between the two engines (registry.search.engine_client); the
bodies are those of registry.search.elastic_mapping.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from datetime import datetime, timezone

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, selectinload

from registry.extensions import db
from registry.models.places import Commune, Province
from registry.models.practices import Practice
from registry.models.search_log import SearchChange
from registry.models.vocab import Abbreviation, Term
from registry.search import documents
from registry.search.base import (
    FACETS, FIXED_VALUES, FacetValue, SearchRequest, SearchResult, fixed_values,
)
from registry.search.changes import current_generation
from registry.search.elastic_mapping import (
    build_search, counts_from_response, document, index_mappings, index_settings,
)
from registry.search.engine_client import (
    CLIENTS, EngineRequestError, EngineUnavailable, ndjson,
)
from registry.search.hits import page_hits
from registry.search.query import parse_query
from registry.text import collation_key, fold
from registry.domain.workflow import (
    PUBLIC_STATES, RECOGNITION_LEVELS, STATES, recognition_label, state_label,
)

log = logging.getLogger("registry.search.engine")

BATCH = 500  # practices loaded and sent per bulk request
CATCH_UP_LIMIT = 5_000  # changes replayed before a search; beyond, `registry search-sync`
SYNC_ATTEMPTS = 3
SYNC_BACKOFF = 0.5  # seconds before the second attempt, doubled after each failure
SEARCH_TIMEOUT = 10  # seconds; a search that cannot answer in time: "engine unavailable"
WRITE_TIMEOUT = 5  # seconds per request while a committed request waits for its update
REINDEX_TIMEOUT = 120  # seconds per bulk request of `registry reindex`
# Configuration keys of each engine: (URL, index alias).
SETTINGS = {"elasticsearch": ("REGISTRY_ELASTICSEARCH_URL", "REGISTRY_ELASTICSEARCH_INDEX"),
            "opensearch": ("REGISTRY_OPENSEARCH_URL", "REGISTRY_OPENSEARCH_INDEX")}


def configured_engine(config) -> str | None:
    """The engine the configuration names (Elasticsearch first), or None for SQL."""
    for engine, (url_key, _) in SETTINGS.items():
        if config.get(url_key):
            return engine
    return None


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
                 selectinload(Practice.lead_organisation), selectinload(Practice.forms),
                 selectinload(Practice.domains), selectinload(Practice.target_groups),
                 selectinload(Practice.outcomes))))


def documents_of(session: Session, practices: list[Practice], counts: dict[int, int]):
    """(id, document) of these practices, their words built as for practice_text."""
    rows = documents.build_rows(session.connection(), [p.id for p in practices])
    return [(p.id, document(p, counts.get(p.id, 0), rows.get(p.id))) for p in practices]


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
    actions = [{"_op_type": "index", "_index": index, "_id": str(pid), "_source": doc}
               for pid, doc in documents_of(session, practices, counts)]
    found = {p.id for p in practices}
    actions += [{"_op_type": "delete", "_index": index, "_id": str(i)}
                for i in sorted((set(ids) | parents) - found)]
    return actions


def bulk_lines(actions: list[dict]) -> list[dict]:
    lines = []
    for action in actions:
        lines.append({action["_op_type"]: {"_index": action["_index"], "_id": action["_id"]}})
        if action["_op_type"] == "index":
            lines.append(action["_source"])
    return lines


class EngineBackend:
    """Search through an index of Elasticsearch or OpenSearch named by an alias, so that
    `reindex_all` can build a fresh index and swap it in without a gap.

    The index records, in its mapping's _meta, the change-log generation up to which it is
    known complete; a process starting (or `registry search-sync`) replays the log from
    there, so changes the engine missed while it was down are sent once it is back."""

    engine = "elasticsearch"

    def __init__(self, app: Flask, url: str | None = None, index: str | None = None,
                 engine: str | None = None):
        self.engine = engine or self.engine
        url_key, index_key = SETTINGS[self.engine]
        self.url = url or app.config[url_key]
        self.alias = index or app.config.get(index_key) or "registry-practices"
        make = CLIENTS[self.engine]
        self.client = make(self.url, timeout=SEARCH_TIMEOUT, retries=1)
        self.writer = make(self.url, timeout=WRITE_TIMEOUT, retries=0)  # sync() retries
        self.lock = threading.Lock()
        self.generation: int | None = None  # the change log entry this process has applied

    # --- index management ---------------------------------------------------------------

    def _create_index(self, name: str, aliases: dict | None = None) -> str:
        body = {"settings": index_settings(), "mappings": index_mappings()}
        if aliases:
            body["aliases"] = aliases
        self.client.request("PUT", f"/{name}", body)
        return name

    def ensure_index(self) -> None:
        """Create an empty index behind the alias if there is none yet. Its fixed name makes
        two processes starting at once create it only once."""
        if self.writer.request("HEAD", f"/{self.alias}"):
            return
        try:
            self._create_index(f"{self.alias}-initial", aliases={self.alias: {}})
        except EngineRequestError as exc:
            if exc.error_type != "resource_already_exists_exception":
                raise

    def _indices_behind_alias(self) -> list[str]:
        try:
            return sorted(self.client.request("GET", f"/_alias/{self.alias}"))
        except EngineRequestError as exc:
            if exc.status == 404:
                return []
            raise

    def _swap_alias(self, new_index: str) -> None:
        old = self._indices_behind_alias()
        if not old and self.client.request("HEAD", f"/{self.alias}"):
            self.client.request("DELETE", f"/{self.alias}")  # a plain index in the way
        actions = [{"remove": {"index": name, "alias": self.alias}} for name in old]
        actions.append({"add": {"index": new_index, "alias": self.alias}})
        self.client.request("POST", "/_aliases", {"actions": actions})
        for name in old:
            self.client.request("DELETE", f"/{name}")

    def delete_index(self) -> None:
        """Remove the alias and every index behind it (tests and benchmarks)."""
        old = self._indices_behind_alias()
        if old:
            for name in old:
                self.client.request("DELETE", f"/{name}")
        elif self.client.request("HEAD", f"/{self.alias}"):
            self.client.request("DELETE", f"/{self.alias}")

    def stored_generation(self) -> int | None:
        """The generation up to which the index is known complete (None: not recorded)."""
        try:
            mappings = self.writer.request("GET", f"/{self.alias}/_mapping")
        except EngineRequestError as exc:
            if exc.status == 404:
                return None
            raise
        values = [(m.get("mappings") or {}).get("_meta", {}).get("generation")
                  for m in mappings.values()]
        values = [v for v in values if isinstance(v, int)]
        return min(values) if values else None

    def store_generation(self, generation: int, index: str | None = None) -> None:
        self.writer.request("PUT", f"/{index or self.alias}/_mapping",
                            {"_meta": {"generation": generation}})

    # --- writing ------------------------------------------------------------------------

    def _bulk(self, client, actions: list[dict], refresh: bool, timeout=None) -> int:
        """Send bulk actions; a missing document to delete is fine, any other error raises.
        Returns the number of actions applied."""
        if not actions:
            return 0
        params = {"refresh": "true"} if refresh else None
        response = client.request("POST", "/_bulk", ndjson(bulk_lines(actions)),
                                  params=params, timeout=timeout, bulk=True)
        applied = 0
        for item in response.get("items", []):
            result = next(iter(item.values()))
            if "error" in result:
                if result.get("status", 0) >= 500 or result.get("status") == 429:
                    raise EngineUnavailable(f"bulk item failed: {result['error']}")
                raise EngineRequestError(result.get("status", 400),
                                         result["error"].get("type"), str(result["error"]))
            applied += 1
        return applied

    def _indexed_parents(self, ids: set[int]) -> set[int]:
        """The sources these practices were replicated from, as the index knows them now."""
        response = self.writer.request("POST", f"/{self.alias}/_mget",
                                       {"ids": [str(i) for i in sorted(ids)]},
                                       params={"_source": "replicated_from"})
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
        self._bulk(self.writer, actions, refresh=True)

    def _changed_since(self, session, since: int, until: int) -> set[int]:
        return set(session.scalars(select(SearchChange.practice_id).distinct()
                                   .where(SearchChange.generation > since,
                                          SearchChange.generation <= until)))

    def catch_up(self) -> None:
        """Apply the change log entries not in the index yet: writes made by other
        processes, by commands that bypassed the listener, or whose update failed (also
        while this process was not running: the index records how far it is complete).
        Beyond CATCH_UP_LIMIT changes it only logs: `registry search-sync` sends them."""
        generation = current_generation(db.session)
        with self.lock:
            if self.generation is None:
                try:
                    stored = self.stored_generation()
                except EngineUnavailable:
                    return  # the search itself will say the engine is unavailable
                # Nothing recorded, or a newer database than the index: trust the present.
                self.generation = stored if stored is not None and stored <= generation \
                    else generation
            if generation < self.generation:
                self.generation = generation  # a new database
                return
            if generation == self.generation:
                return
            if self._log_has_gap(db.session, self.generation):
                self._rebuild_after_gap(generation)
                return
            changed = self._changed_since(db.session, self.generation, generation)
            if len(changed) > CATCH_UP_LIMIT:
                log.warning("%d practices changed since this process last searched; "
                            "not replayed (run `registry search-sync`)", len(changed))
            else:
                try:
                    self.index(changed)
                    self.store_generation(generation)
                except Exception as exc:  # noqa: BLE001 (searching must go on; retried next time)
                    log.error("%s catch-up failed: %s", self.engine, exc)
                    return
            self.generation = generation

    @staticmethod
    def _log_has_gap(session, since: int) -> bool:
        """Generations are consecutive (each is one committed transaction); a missing one
        means log rows were deleted, so replaying would miss changes."""
        first = session.scalar(select(func.min(SearchChange.generation))
                               .where(SearchChange.generation > since))
        return first is not None and first != since + 1

    def _rebuild_after_gap(self, generation: int) -> None:
        """The log was pruned past this process's position: rebuild the index when that is
        quick (as the SQL backend rebuilds its structures), else say what to run."""
        practices = db.session.scalar(select(func.count()).select_from(Practice))
        if practices <= CATCH_UP_LIMIT:
            try:
                self.reindex_all()
                return
            except Exception as exc:  # noqa: BLE001 (searching must go on; retried next time)
                log.error("%s rebuild after a pruned change log failed: %s", self.engine, exc)
                return
        log.error("the change log was pruned past what the %s index has applied; run "
                  "`registry reindex`", self.engine)
        self.generation = generation

    def sync(self, practice_ids) -> bool:
        """index() after a commit: retried with backoff; a failure is logged, never raised,
        because the database write has already happened (the change log keeps it: the next
        search, or `registry search-sync`, sends it)."""
        ids = sorted({int(i) for i in practice_ids})
        delay = SYNC_BACKOFF
        for attempt in range(1, SYNC_ATTEMPTS + 1):
            try:
                self.index(ids)
                return True
            except Exception as exc:  # noqa: BLE001 (any failure must leave the write alone)
                if attempt == SYNC_ATTEMPTS:
                    log.error("%s update failed after %d attempts for practices %s: %s; "
                              "the change log keeps them: run `registry search-sync` once "
                              "the engine is back (or `registry reindex`)",
                              self.engine, attempt, ids, exc)
                    return False
                log.warning("%s update failed (attempt %d): %s", self.engine, attempt, exc)
                time.sleep(delay)
                delay *= 2
        return False

    def sync_missing(self, progress=None) -> int:
        """Send every change the index has not recorded (`registry search-sync`); returns
        the number of practices sent. Without a recorded generation the index is rebuilt."""
        stored = self.stored_generation()
        with Session(db.engine) as session:
            now = current_generation(session)
            if stored is None or stored > now:
                raise LookupError("the index records no change-log position: "
                                  "run `registry reindex`")
            if self._log_has_gap(session, stored):
                raise LookupError("the change log was pruned past the index's position: "
                                  "run `registry reindex`")
            changed = sorted(self._changed_since(session, stored, now))
        if progress:
            progress(0, len(changed))
        for start in range(0, len(changed), BATCH):
            self.index(changed[start:start + BATCH])
            if progress:
                progress(min(start + BATCH, len(changed)), len(changed))
        self.store_generation(now)
        self.generation = now
        return len(changed)

    def reindex_all(self, progress=None) -> int:
        """Build a new index from the database, swap the alias to it, delete the old one,
        then apply the changes committed while it was being built. `progress(done, total)`
        is called after each bulk request."""
        generation = current_generation(db.session)
        new_index = self._create_index(
            f"{self.alias}-{datetime.now(timezone.utc):%Y%m%d%H%M%S%f}")
        try:
            ids = list(db.session.scalars(select(Practice.id).order_by(Practice.id)))
            counts = replication_counts(db.session)
            indexed = 0
            if progress:
                progress(0, len(ids))
            with Session(db.engine) as session:
                for start in range(0, len(ids), BATCH):
                    practices = load_practices(session, ids[start:start + BATCH])
                    actions = [{"_op_type": "index", "_index": new_index, "_id": str(pid),
                                "_source": doc}
                               for pid, doc in documents_of(session, practices, counts)]
                    indexed += self._bulk(self.client, actions, refresh=False,
                                          timeout=REINDEX_TIMEOUT)
                    session.expunge_all()  # keep memory flat over 100,000 models
                    if progress:
                        progress(min(start + BATCH, len(ids)), len(ids))
            self.client.request("POST", f"/{new_index}/_refresh")
            self.store_generation(generation, index=new_index)
        except BaseException:
            self.client.request("DELETE", f"/{new_index}")  # never leave a half-built index
            raise
        self._swap_alias(new_index)
        with Session(db.engine) as session:  # a fresh snapshot (SQLite keeps the old one)
            now = current_generation(session)
            missed = self._changed_since(session, generation, now)
        self.index(missed)
        self.store_generation(now)
        self.generation = now
        return indexed

    # --- reading ------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResult:
        """Raises SearchUnavailable (EngineUnavailable) when the engine cannot answer."""
        self.catch_up()
        abbreviations = {fold(a.short): a.expansion
                         for a in db.session.scalars(select(Abbreviation))}
        parsed = parse_query(request.q, abbreviations)
        body = build_search(request, abbreviations=abbreviations,
                            commune_scope=commune_scope(request),
                            inactive_months=current_app.config["REGISTRY_INACTIVE_MONTHS"])
        try:
            response = self._search(body)
        except EngineUnavailable as exc:
            log.error("%s search failed: %s", self.engine, exc)
            raise
        except EngineRequestError as exc:
            if exc.status != 404:
                raise
            # No index yet (nothing written, no `registry reindex`): nothing to find.
            log.warning("%s index %s missing: run `registry reindex`", self.engine,
                        self.alias)
            response = {"hits": {"total": {"value": 0}, "hits": []}}
        page_ids = [int(h["_source"]["practice_id"]) for h in response["hits"]["hits"]]
        hits = page_hits(db.session.connection(), page_ids, parsed)
        return SearchResult(total=response["hits"]["total"]["value"], page=request.page,
                            per_page=request.per_page, hits=hits,
                            facets=facet_values(counts_from_response(response), request))


    def _search(self, body: dict) -> dict:
        """One round trip (_msearch): the facet counts as a size-0 request, which the
        engine's shard request cache keeps until the next refresh (i.e. the next write), and
        the page of hits; answered as one search response."""
        counts = {"query": body["query"], "aggs": body["aggs"], "size": 0,
                  "track_total_hits": False}
        page = {k: v for k, v in body.items() if k != "aggs"}
        lines = [{"index": self.alias, "request_cache": True}, counts,
                 {"index": self.alias}, page]
        answers = self.client.request("POST", "/_msearch", ndjson(lines), bulk=True)
        answers = answers["responses"]
        for answer in answers:
            if "error" in answer:
                status = answer.get("status", 400)
                if status >= 500 or status == 429:
                    raise EngineUnavailable(f"search failed: {answer['error']}")
                error = answer["error"]
                raise EngineRequestError(status, error.get("type") if isinstance(error, dict)
                                         else str(error), str(error))
        return {"hits": answers[1]["hits"], "aggregations": answers[0].get("aggregations")}


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
    fixed = fixed_values(source, locale)
    if fixed is not None:
        return {c: dict(fixed).get(c, c) for c in codes}
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


_sort_key = functools.lru_cache(maxsize=16_384)(collation_key)  # labels repeat endlessly

# Facets listed in their declared order; the others most frequent first, then by label.
DECLARED_ORDER = {source: {code: i for i, (code, _, _) in enumerate(values)}
                  for source, values in FIXED_VALUES.items()}


def facet_values(counts: dict[str, dict[str, int]],
                 request: SearchRequest) -> dict[str, list[FacetValue]]:
    """Labelled values with a count, as the SQL backend lists them: selected values always
    listed (count 0 included), except years, listed only with results."""
    facets = {}
    ranged = request.founded_from is not None or request.founded_to is not None
    for facet in FACETS:
        found = dict(counts.get(facet.name, {}))
        if facet.source == "year":  # years in the range are selected; only years with results
            selected = {v for v in found if ranged
                        and (request.founded_from is None or int(v) >= request.founded_from)
                        and (request.founded_to is None or int(v) <= request.founded_to)}
        else:
            selected = set(request.filters.get(facet.name) or [])
            for value in selected:
                found.setdefault(value, 0)
        found = {v: n for v, n in found.items() if n or v in selected}
        labels = _labels(facet, set(found), request.locale)
        if facet.source.startswith("vocabulary:") or facet.source in ("province", "commune"):
            found = {v: n for v, n in found.items() if v in labels}  # unknown codes: unlisted
        if facet.source == "year":
            ordered = sorted(found, key=int, reverse=True)
        elif facet.source in DECLARED_ORDER:
            order = DECLARED_ORDER[facet.source]
            ordered = sorted(found, key=lambda v: (order.get(v, len(order)), v))
        else:
            ordered = sorted(found, key=lambda v: (-found[v],
                                                   _sort_key(labels.get(v, v)), v))
        facets[facet.name] = [FacetValue(v, labels.get(v, v), found[v], v in selected)
                              for v in ordered]
    return facets


def _after_commit(session: Session) -> None:
    """Send the practices this transaction changed to the index of the current app."""
    if not has_app_context() or not configured_engine(current_app.config):
        return
    ids = session.info.pop("changed_practices", None)
    if not ids:
        return
    from registry.search import get_backend
    backend = get_backend()
    if isinstance(backend, EngineBackend):
        backend.sync(ids)


def install_sync(app: Flask) -> None:
    """Update the index after every commit (idempotent); registry.search.init_app calls it
    when an engine is configured, so writes made before any search are indexed too."""
    with app.app_context():
        factory = db.session.session_factory
        if not event.contains(factory, "after_commit", _after_commit):
            event.listen(factory, "after_commit", _after_commit)


def create_backend(app: Flask) -> EngineBackend:
    """The backend registry.search.get_backend() creates when an engine URL is set."""
    install_sync(app)
    engine = configured_engine(app.config)
    from registry.search.elastic import ElasticsearchBackend
    from registry.search.opensearch import OpenSearchBackend
    return {"elasticsearch": ElasticsearchBackend,
            "opensearch": OpenSearchBackend}[engine](app)
