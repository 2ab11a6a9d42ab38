"""The SQL search backend: full-text in the database, exact facet counts from in-process bitmaps.

Each process keeps, per facet value, a bitmap of practice ids (facet_index) and, per query
atom, the bitmaps of practices whose name or body contains it (asked from SQLite FTS5 or
PostgreSQL tsvector once, then cached). Before answering, it replays the change log
(registry.search.changes) so a write committed by any process shows in the next response.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from pyroaring import BitMap
from sqlalchemy import func, select, text

from registry import permissions
from registry.extensions import db
from registry.models.practices import Practice
from registry.models.search_log import SearchChange
from registry.models.vocab import Abbreviation
from registry.search import documents
from registry.search.base import SearchRequest, SearchResult
from registry.search.changes import current_generation
from registry.search.facet_index import FacetIndex
from registry.search.hits import page_hits
from registry.search.query import Atom, ParsedQuery, parse_query
from registry.text import fold

REBUILD_AFTER = 20_000  # changed practices beyond which a full rebuild is cheaper
RECHECK_ATOMS_UP_TO = 2_000  # beyond this many changes the atom cache is dropped instead
ATOM_CACHE_SIZE = 2_048  # at most ~30 KB each at 100,000 models


class SqlSearchBackend:
    """The default backend; one instance per process (app.extensions["search"])."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.generation: int | None = None
        self.facets = FacetIndex()
        self.atoms: OrderedDict[Atom, tuple[BitMap, BitMap]] = OrderedDict()
        self.ranks: dict[str, np.ndarray] = {}
        self.abbreviations: dict[str, str] = {}

    # --- keeping in step with the database ---------------------------------------------------
    def _rebuild(self, conn) -> None:
        self.facets.build(conn)
        self.atoms.clear()
        self.ranks.clear()
        self.abbreviations = {fold(short): expansion for short, expansion in
                              conn.execute(select(Abbreviation.short, Abbreviation.expansion))}

    def sync(self) -> None:
        """Replay the change log since the last answer (or rebuild when that is cheaper)."""
        try:
            self._sync()
        except BaseException:
            self.generation = None  # half-applied: rebuild from scratch next time
            raise

    def _sync(self) -> None:
        session = db.session
        conn = session.connection()
        generation = current_generation(session)
        if self.generation is None or generation < self.generation:
            self._rebuild(conn)
        elif generation > self.generation and self._log_has_gap(conn, generation):
            self._rebuild(conn)  # the log was pruned past what this process has seen
        elif generation > self.generation:
            changed = BitMap(conn.execute(
                select(SearchChange.practice_id).distinct()
                .where(SearchChange.generation > self.generation,
                       SearchChange.generation <= generation)).scalars())
            if len(changed) > REBUILD_AFTER:
                self._rebuild(conn)
            else:
                self.facets.apply(conn, changed)
                self._recheck_atoms(conn, changed)
                self.ranks.clear()
        self.generation = generation

    def _log_has_gap(self, conn, generation: int) -> bool:
        """Generations are consecutive (each is one committed transaction); a missing one
        means log rows were deleted, so replaying would miss changes."""
        first = conn.execute(select(func.min(SearchChange.generation)).where(
            SearchChange.generation > self.generation)).scalar()
        return first != self.generation + 1

    def _recheck_atoms(self, conn, changed: BitMap) -> None:
        if not self.atoms:
            return
        if len(changed) > RECHECK_ATOMS_UP_TO:
            self.atoms.clear()
            return
        rows = documents.read_rows(conn, list(changed))
        words = {pid: {column: value.split() for column, value in row.items()}
                 for pid, row in rows.items()}
        for atom, (in_name, anywhere) in self.atoms.items():
            in_name.difference_update(changed)
            anywhere.difference_update(changed)
            for pid, columns in words.items():
                name_hit = atom.matches(columns[f"name_{atom.field}"])
                if name_hit:
                    in_name.add(pid)
                if name_hit or atom.matches(columns[f"body_{atom.field}"]):
                    anywhere.add(pid)

    # --- text matching ------------------------------------------------------------------------
    def _ids(self, conn, atom: Atom, part: str) -> BitMap:
        column = f"{part}_{atom.field}"
        if conn.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT rowid FROM practice_text WHERE practice_text "
                                     "MATCH :expr"), {"expr": atom.fts5(column)})
        else:
            rows = conn.execute(text(f"SELECT practice_id FROM practice_text WHERE {column}_tsv "
                                     "@@ to_tsquery('simple', :q)"), {"q": atom.tsquery()})
        return BitMap(rows.scalars())

    def atom_sets(self, conn, atom: Atom) -> tuple[BitMap, BitMap]:
        """(ids with the atom in the name, ids with it anywhere), cached per process."""
        cached = self.atoms.get(atom)
        if cached is not None:
            self.atoms.move_to_end(atom)
            return cached
        in_name = self._ids(conn, atom, "name")
        anywhere = in_name | self._ids(conn, atom, "body")
        self.atoms[atom] = (in_name, anywhere)
        if len(self.atoms) > ATOM_CACHE_SIZE:
            self.atoms.popitem(last=False)
        return in_name, anywhere

    def _term_sets(self, conn, atoms, which: int) -> BitMap:
        sets = [self.atom_sets(conn, atom)[which] for atom in atoms]
        return BitMap.union(*sets) if len(sets) > 1 else BitMap(sets[0])

    def _text_matches(self, conn, parsed: ParsedQuery) -> BitMap:
        result = None
        for term in sorted(parsed.terms, key=lambda t: len(t.alternatives)):
            ids = self._term_sets(conn, term.alternatives, 1)
            result = ids if result is None else result & ids
            if not result:
                break
        return result

    # --- ordering -------------------------------------------------------------------------------
    def _rank(self, conn, sort: str) -> np.ndarray:
        """rank[id] = position of the practice in the given order (computed after changes)."""
        if sort not in self.ranks:
            if sort == "replicated":
                ids = np.frombuffer(self.facets.all.to_array(), dtype=np.uint32)
                counts = np.array([self.facets.replication_count.get(int(i), 0) for i in ids],
                                  dtype=np.int64) if self.facets.replication_count else \
                    np.zeros(len(ids), dtype=np.int64)
                ordered = ids[np.lexsort((ids, -counts))]
            else:
                order = ((Practice.created_at.desc(), Practice.id) if sort == "newest"
                         else (Practice.name_sort_key, Practice.id))
                ordered = np.fromiter(conn.execute(select(Practice.id).order_by(*order))
                                      .scalars(), dtype=np.int64)
            size = int(ordered.max()) + 1 if len(ordered) else 1
            rank = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
            rank[ordered] = np.arange(len(ordered), dtype=np.int64)
            self.ranks[sort] = rank
        return self.ranks[sort]

    def _page_by_rank(self, conn, ids_set: BitMap, sort: str, start: int, stop: int) -> list:
        if start >= len(ids_set):
            return []
        rank = self._rank(conn, sort)
        ids = np.frombuffer(ids_set.to_array(), dtype=np.uint32).astype(np.int64)
        if int(ids.max()) >= len(rank):
            rank = np.concatenate([rank, np.full(int(ids.max()) + 1 - len(rank),
                                                 np.iinfo(np.int64).max, dtype=np.int64)])
        keys = rank[ids]  # unranked ids (written since) tie at the end, ordered by id
        stop = min(stop, len(ids))
        if stop < len(ids):
            chosen = np.argpartition(keys, stop - 1)[:stop]
        else:
            chosen = np.arange(len(ids))
        chosen = chosen[np.lexsort((ids[chosen], keys[chosen]))]
        return ids[chosen[start:stop]].tolist()

    def _page_by_relevance(self, conn, matches: BitMap, parsed: ParsedQuery, start: int,
                           stop: int) -> list:
        """Order by score, then id: every term in the name (1000), each pair of neighbouring
        typed words found side by side in the name (50) or anywhere (20), exact spellings (1)."""
        if parsed.empty or start >= len(matches):
            return list(matches[start:stop])
        in_name = exact = None
        for term in parsed.terms:
            names = self._term_sets(conn, term.alternatives, 0)
            in_name = names if in_name is None else in_name & names
            spelled = self._term_sets(conn, term.exact, 1)
            exact = spelled if exact is None else exact & spelled
        ids = np.frombuffer(matches.to_array(), dtype=np.uint32).astype(np.int64)
        score = np.zeros(len(ids), dtype=np.int64)

        def add(weight: int, bitmap: BitMap) -> None:
            found = bitmap & matches
            if found:
                members = np.frombuffer(found.to_array(), dtype=np.uint32)
                score[np.searchsorted(ids, members)] += weight

        add(1000, in_name)
        add(1, exact)
        for pair in parsed.bigrams():
            pair_in_name, pair_anywhere = self.atom_sets(conn, pair)
            add(50, pair_in_name)
            add(20, pair_anywhere)
        keys = -score * (int(ids[-1]) + 1) + ids  # score descending, then id ascending
        stop = min(stop, len(ids))
        chosen = np.argpartition(keys, stop - 1)[:stop] if stop < len(ids) else \
            np.arange(len(ids))
        chosen = chosen[np.argsort(keys[chosen], kind="stable")]
        return ids[chosen[start:stop]].tolist()

    # --- the interface --------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResult:
        with self.lock:
            self.sync()
            conn = db.session.connection()
            parsed = parse_query(request.q, self.abbreviations)
            base = self.facets.visible(permissions.scope(request.viewer, "view"))
            if not parsed.empty:
                base &= self._text_matches(conn, parsed)
            chosen = self.facets.selections(request)
            matches = BitMap(base)
            for bitmap in chosen.values():
                matches &= bitmap
            facets = self.facets.counts(base, chosen, request)
            start = (request.page - 1) * request.per_page
            stop = start + request.per_page
            if request.sort in ("newest", "name", "replicated"):
                page_ids = self._page_by_rank(conn, matches, request.sort, start, stop)
            else:
                page_ids = self._page_by_relevance(conn, matches, parsed, start, stop)
            hits = page_hits(conn, page_ids, parsed)
        return SearchResult(total=len(matches), page=request.page, per_page=request.per_page,
                            hits=hits, facets=facets)

    def index(self, practice_ids) -> None:
        """Rewrite these practices' words now (flushes already do it; this is for repairs)."""
        documents.refresh_text(db.session.connection(), practice_ids)

    def reindex_all(self, progress=None) -> int:
        """Rebuild practice_text from the practices; the caller commits.
        `progress(done, total)` is called after each batch."""
        with self.lock:
            count = documents.rebuild_all(db.session.connection(), progress=progress)
            self.generation = None
            return count
