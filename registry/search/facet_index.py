"""Per facet value, the set of practice ids (a roaring bitmap), kept in step with the database.

Counts are exact: a facet's count for a value is |matches ∩ other facets' selections ∩ value|,
computed by intersection, so each facet ignores its own selection (OR within a facet, AND
across facets).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

import numpy as np
from flask import current_app, has_app_context

from pyroaring import BitMap
from sqlalchemy import select

from registry.models.places import Commune, Province
from registry.models.practices import (
    OutcomeReport, Practice, practice_domains, practice_forms, practice_target_groups,
)
from registry.models.vocab import Term
from registry.search.base import FACETS, FIXED_VALUES, FacetValue, SearchRequest, fixed_values
from registry.text import collation_key
from registry.domain.workflow import PUBLIC_STATES, last_activity, months_before

CHUNK = 500
LINKS = {"form": practice_forms, "domain": practice_domains,
         "target_group": practice_target_groups}
COLUMNS = {"status": Practice.status, "province": Practice.province_code,
           "commune": Practice.commune_code, "recognition": Practice.recognition_level}
TERM_COLUMNS = {"kind": Practice.kind_id, "setting": Practice.setting_id,
                "lead_organisation": Practice.lead_organisation_id}


class FacetIndex:
    """Bitmaps of practice ids per facet value, plus what sorting needs per practice."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.all = BitMap()
        self.values: dict[str, dict[str, BitMap]] = defaultdict(lambda: defaultdict(BitMap))
        self.source_of: dict[int, int] = {}  # visible replication -> the model it copies
        self.replication_count: dict[int, int] = defaultdict(int)
        self.replicated = BitMap()
        self.terms: dict[int, tuple[str, str, str, str]] = {}
        self.provinces: dict[str, str] = {}
        self.communes: dict[str, tuple[str, str]] = {}
        self.communes_of: dict[str, list[str]] = defaultdict(list)
        self.label_keys: dict[str, str] = {}
        self.activity: dict[int, int] = {}  # id -> ordinal of its last results period's end
        self._inactive: tuple[int, BitMap] | None = None

    # --- keeping in step --------------------------------------------------------------------
    def _load_reference(self, conn) -> None:
        self.terms = {tid: (vocabulary, code, vi, en) for tid, vocabulary, code, vi, en in
                      conn.execute(select(Term.id, Term.vocabulary, Term.code, Term.label_vi,
                                          Term.label_en))}
        if not self.provinces:
            self.provinces = dict(conn.execute(select(Province.code, Province.name)
                                                .order_by(Province.sort_key)).all())
            self.communes_of.clear()
            for code, name, province in conn.execute(
                    select(Commune.code, Commune.name, Commune.province_code)
                    .order_by(Commune.sort_key, Commune.code)):
                self.communes[code] = (name, province)
                self.communes_of[province].append(code)

    def build(self, conn) -> None:
        """Everything from the database."""
        self.clear()
        self._load_reference(conn)
        self._load(conn, None)

    def apply(self, conn, changed: BitMap) -> None:
        """Bring the given practice ids up to date (created, edited or deleted)."""
        self._load_reference(conn)
        for facet in self.values.values():
            for bitmap in facet.values():
                bitmap.difference_update(changed)
        self.all.difference_update(changed)
        for pid in changed:
            self.activity.pop(pid, None)
        self._inactive = None
        touched = set()
        for pid in changed:
            source = self.source_of.pop(pid, None)
            if source is not None:
                self.replication_count[source] -= 1
                touched.add(source)
        ids = list(changed)
        for start in range(0, len(ids), CHUNK):
            touched |= self._load(conn, ids[start:start + CHUNK])
        self._refresh_replicated(touched)

    def _refresh_replicated(self, ids) -> None:
        for pid in ids:
            if self.replication_count.get(pid, 0) > 0:
                self.replicated.add(pid)
            else:
                self.replication_count.pop(pid, None)
                self.replicated.discard(pid)

    def _load(self, conn, ids) -> set[int]:
        query = select(Practice.id, Practice.founded_on, Practice.replicated_from_id,
                       Practice.created_at, *COLUMNS.values(), *TERM_COLUMNS.values())
        if ids is not None:
            query = query.where(Practice.id.in_(ids))
        values = self.values
        touched = set()
        adds: dict[tuple[str, str], list[int]] = defaultdict(list)
        created_on: dict[int, object] = {}
        for row in conn.execute(query):
            pid, founded, source, created = row[0], row[1], row[2], row[3]
            rest = row[4:]
            created_on[pid] = created.date() if created else None
            for name, value in zip(COLUMNS, rest[:len(COLUMNS)]):
                adds[(name, value)].append(pid)
            for name, term_id in zip(TERM_COLUMNS, rest[len(COLUMNS):]):
                if term_id is not None and term_id in self.terms:
                    adds[(name, self.terms[term_id][1])].append(pid)
            if founded is not None:
                adds[("founded_year", str(founded.year))].append(pid)
            status = rest[0]
            if source is not None and status in PUBLIC_STATES:
                self.source_of[pid] = source
                self.replication_count[source] += 1
                touched.add(source)
            adds[("", "")].append(pid)
        for facet, table in LINKS.items():
            link = select(table.c.practice_id, table.c.term_id)
            if ids is not None:
                link = link.where(table.c.practice_id.in_(ids))
            for pid, term_id in conn.execute(link):
                if term_id in self.terms:
                    adds[(facet, self.terms[term_id][1])].append(pid)
        reports = select(OutcomeReport.practice_id, OutcomeReport.period)
        if ids is not None:
            reports = reports.where(OutcomeReport.practice_id.in_(ids))
        periods: dict[int, list[str]] = defaultdict(list)
        for pid, period in conn.execute(reports):
            periods[pid].append(period)
        for pid, created in created_on.items():
            day = last_activity(periods.get(pid, ()), created)
            self.activity[pid] = day.toordinal() if day else 0
        for (facet, value), pids in adds.items():
            if facet == "":
                self.all.update(pids)
            else:
                values[facet][value].update(pids)
        if ids is None:
            self._refresh_replicated(list(touched))
        return touched

    def _sort_key(self, label: str) -> str:
        key = self.label_keys.get(label)
        if key is None:
            key = self.label_keys[label] = collation_key(label)
        return key

    # --- answering ----------------------------------------------------------------------------
    def public(self) -> BitMap:
        return BitMap.union(BitMap(), *(self.values["status"].get(s, BitMap())
                                        for s in PUBLIC_STATES))

    def inactive(self) -> BitMap:
        """Public models whose last activity is before today's cutoff (cached per cutoff)."""
        months = current_app.config.get("REGISTRY_INACTIVE_MONTHS", 18) \
            if has_app_context() else 18
        cutoff = months_before(date.today(), months).toordinal()
        if self._inactive is None or self._inactive[0] != cutoff:
            ids = np.fromiter(self.activity.keys(), dtype=np.int64, count=len(self.activity))
            days = np.fromiter(self.activity.values(), dtype=np.int64,
                               count=len(self.activity))
            self._inactive = (cutoff, BitMap(ids[days < cutoff].tolist()) & self.public())
        return self._inactive[1]

    def visible(self, scope) -> BitMap:
        """Ids in a permissions.Scope (the models a viewer may see), as a bitmap."""
        if scope.everything:
            return BitMap(self.all)
        result = BitMap()
        for area in scope.areas:
            ids = self.all if area.states is None else BitMap.union(
                BitMap(), *(self.values["status"].get(s, BitMap()) for s in area.states))
            if area.units is not None:
                ids = ids & BitMap.union(
                    BitMap(), *(self.values["commune"].get(c, BitMap()) for c in area.communes),
                    *(self.values["province"].get(p, BitMap()) for p in area.provinces))
            result |= ids
        return result

    def value_bitmap(self, facet: str, value: str) -> BitMap:
        if facet == "activity":
            inactive = self.inactive()
            return inactive if value == "possibly_inactive" else self.public() - inactive
        if facet == "has_replications":
            yes = self.replicated & self.all
            return yes if value == "yes" else self.all - yes
        return self.values[facet].get(value) or BitMap()

    def selections(self, request: SearchRequest) -> dict[str, BitMap]:
        """Per facet with a selection, the ids of any selected value (OR within a facet)."""
        chosen: dict[str, BitMap] = {}
        for facet, codes in request.filters.items():
            if codes:
                chosen[facet] = BitMap.union(*(self.value_bitmap(facet, c) for c in codes)) \
                    if len(codes) > 1 else BitMap(self.value_bitmap(facet, codes[0]))
        if request.founded_from is not None or request.founded_to is not None:
            low = request.founded_from if request.founded_from is not None else -1
            high = request.founded_to if request.founded_to is not None else 10 ** 6
            years = [bm for year, bm in self.values["founded_year"].items()
                     if low <= int(year) <= high]
            chosen["founded_year"] = BitMap.union(*years) if years else BitMap()
        return chosen

    def facet_values(self, facet, request: SearchRequest) -> list[tuple[str, str]]:
        """(code, label) of the values offered for a facet."""
        en = request.locale == "en"
        selected = request.filters.get(facet.name, [])
        if facet.source == "province":
            return [(code, name) for code, name in self.provinces.items()]
        if facet.source == "commune":
            codes = [c for p in request.filters.get("province", [])
                     for c in self.communes_of.get(p, [])]
            codes += [c for c in selected if c not in codes]
            return [(c, self.communes.get(c, (c, ""))[0]) for c in codes]
        fixed = fixed_values(facet.source, request.locale)
        if fixed is not None:
            return fixed
        if facet.source == "year":
            return [(year, year) for year in sorted(self.values["founded_year"], reverse=True)]
        vocabulary = facet.source.split(":", 1)[1]
        return [(code, (label_en or label_vi) if en else label_vi)
                for vocab, code, label_vi, label_en in self.terms.values()
                if vocab == vocabulary]

    def counts(self, base: BitMap, chosen: dict[str, BitMap],
               request: SearchRequest) -> dict[str, list[FacetValue]]:
        """Every facet's values with exact counts; each facet ignores its own selection."""
        everything = BitMap(base)
        for bitmap in chosen.values():
            everything &= bitmap
        result: dict[str, list[FacetValue]] = {}
        for facet in FACETS:
            scope = everything
            if facet.name in chosen:
                scope = BitMap(base)
                for other, bitmap in chosen.items():
                    if other != facet.name:
                        scope &= bitmap
            selected = set(request.filters.get(facet.name, []))
            entries = []
            for code, label in self.facet_values(facet, request):
                if facet.source == "year":
                    is_selected = "founded_year" in chosen and _in_range(int(code), request)
                else:
                    is_selected = code in selected
                count = scope.intersection_cardinality(self.value_bitmap(facet.name, code))
                if count or (is_selected and facet.source != "year"):
                    entries.append(FacetValue(code, label, count, is_selected))
            if facet.source != "year" and facet.source not in FIXED_VALUES:
                entries.sort(key=lambda v: (-v.count, self._sort_key(v.label)))
            result[facet.name] = entries
        return result


def _in_range(year: int, request: SearchRequest) -> bool:
    return ((request.founded_from is None or year >= request.founded_from)
            and (request.founded_to is None or year <= request.founded_to))
