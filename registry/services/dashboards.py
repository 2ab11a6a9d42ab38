"""Committee dashboards: coverage, results trends, overdue reports and nominations in an area."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import func, or_, select

from registry import permissions
from registry.domain.fields import INDICATORS
from registry.domain.workflow import (
    NOMINATION_STATES, PUBLIC_STATES, last_activity, months_before, possibly_inactive,
)
from registry.extensions import db
from registry.models.places import Commune, Province
from registry.models.practices import OutcomeReport, Practice, practice_domains
from registry.models.vocab import Term
from registry.models.workflow import Nomination


@dataclass(frozen=True)
class DashboardArea:
    """The units a dashboard covers: None for the whole country."""

    communes: frozenset[str] | None
    provinces: frozenset[str] | None

    @property
    def national(self) -> bool:
        return self.communes is None

    def commune_clause(self):
        if self.national:
            return None
        return or_(Commune.code.in_(sorted(self.communes)),
                   Commune.province_code.in_(sorted(self.provinces)))

    def practice_clause(self):
        if self.national:
            return None
        return or_(Practice.commune_code.in_(sorted(self.communes)),
                   Practice.province_code.in_(sorted(self.provinces)))


def area_of(user) -> DashboardArea | None:
    """The area whose dashboards `user` may open (registry.permissions "dashboards"); None:
    no right at all."""
    which = permissions.scope(user, "dashboards")
    if which.empty:
        return None
    if which.everything:
        return DashboardArea(None, None)
    communes: set[str] = set()
    provinces: set[str] = set()
    for area in which.areas:
        communes |= area.communes
        provinces |= area.provinces
    return DashboardArea(frozenset(communes), frozenset(provinces))


@dataclass
class Table:
    """One dashboard table: what the page shows and the CSV/XLSX downloads carry."""

    name: str
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)


def _where(query, clause):
    return query if clause is None else query.where(clause)


def _domain_term(domain: str | None) -> Term | None:
    if not domain:
        return None
    return db.session.scalar(select(Term).where(Term.vocabulary == "domain",
                                                Term.code == domain))


def _periods(practices) -> dict[int, list[str]]:
    """The reported periods of the models a subquery selects (its first column is the id),
    read in one query."""
    periods: dict[int, list[str]] = defaultdict(list)
    ids = select(practices.c[0]).scalar_subquery()
    for pid, period in db.session.execute(
            select(OutcomeReport.practice_id, OutcomeReport.period)
            .where(OutcomeReport.practice_id.in_(ids))):
        periods[pid].append(period)
    return periods


def active_communes(area: DashboardArea, *, domain: str | None = None,
                    today: date | None = None) -> set[str]:
    """Communes with at least one active model: public (registered, nominated, approved),
    not "có thể ngừng hoạt động" (registry.domain.workflow.possibly_inactive); in `domain`
    when given (a domain term code)."""
    today = today or date.today()
    months = current_app.config["REGISTRY_INACTIVE_MONTHS"]
    query = _where(select(Practice.id, Practice.commune_code, Practice.created_at)
                   .where(Practice.status.in_(PUBLIC_STATES)), area.practice_clause())
    if domain:
        term = _domain_term(domain)
        if term is None:
            return set()
        query = query.where(Practice.id.in_(select(practice_domains.c.practice_id)
                                            .where(practice_domains.c.term_id == term.id)))
    rows = db.session.execute(query).all()
    periods = _periods(query.subquery())
    covered = set()
    for pid, commune, created_at in rows:
        if commune in covered:
            continue
        seen = last_activity(periods[pid], created_at.date() if created_at else None)
        if not possibly_inactive("registered", seen, today, months):
            covered.add(commune)
    return covered


@dataclass
class Coverage:
    communes: int
    covered: int
    provinces: Table
    uncovered: Table

    @property
    def percent(self) -> float:
        return round(100 * self.covered / self.communes, 1) if self.communes else 0.0


def coverage(area: DashboardArea, *, domain: str | None = None, labels: dict,
             today: date | None = None) -> Coverage:
    """Communes of the area with an active model, per province, and those without any."""
    covered = active_communes(area, domain=domain, today=today)
    communes = db.session.execute(_where(
        select(Commune.code, Commune.name, Commune.province_code, Province.name)
        .join(Province, Province.code == Commune.province_code)
        .order_by(Province.sort_key, Commune.sort_key), area.commune_clause())).all()
    per_province: dict[str, list] = {}
    uncovered = Table("uncovered", labels["uncovered"],
                      [labels["province"], labels["commune_code"], labels["commune"]])
    for code, name, province_code, province_name in communes:
        entry = per_province.setdefault(province_code, [province_code, province_name, 0, 0])
        entry[2] += 1
        if code in covered:
            entry[3] += 1
        else:
            uncovered.rows.append([province_name, code, name])
    provinces = Table("provinces", labels["provinces"],
                      [labels["province_code"], labels["province"], labels["communes"],
                       labels["covered"], labels["percent"]])
    for code, name, total, hit in per_province.values():
        provinces.rows.append([code, name, total, hit,
                               round(100 * hit / total, 1) if total else 0.0])
    return Coverage(len(communes), sum(1 for c in communes if c[0] in covered), provinces,
                    uncovered)


def results_trends(area: DashboardArea, *, indicator_labels: dict, title: str,
                   period_label: str) -> Table:
    """Sums of each indicator per results period over the area's public models."""
    columns = [func.sum(getattr(OutcomeReport, key)) for key in INDICATORS]
    query = _where(select(OutcomeReport.period, *columns)
                   .join(Practice, Practice.id == OutcomeReport.practice_id)
                   .where(Practice.status.in_(PUBLIC_STATES))
                   .group_by(OutcomeReport.period).order_by(OutcomeReport.period),
                   area.practice_clause())
    table = Table("trends", title, [period_label] + [indicator_labels[k] for k in INDICATORS])
    for period, *sums in db.session.execute(query):
        table.rows.append([period] + [int(v) if v is not None else None for v in sums])
    return table


def overdue_reports(area: DashboardArea, *, labels: dict, today: date | None = None) -> Table:
    """Public models of the area whose last results period ended more than
    REGISTRY_INACTIVE_MONTHS months ago (or, without reports, registered that long ago)."""
    today = today or date.today()
    months = current_app.config["REGISTRY_INACTIVE_MONTHS"]
    query = _where(
        select(Practice.id, Practice.name, Practice.created_at, Commune.name, Province.name)
        .join(Commune, Commune.code == Practice.commune_code)
        .join(Province, Province.code == Practice.province_code)
        .where(Practice.status.in_(PUBLIC_STATES))
        .order_by(Province.sort_key, Commune.sort_key, Practice.name_sort_key),
        area.practice_clause())
    practices = db.session.execute(query).all()
    periods = _periods(query.subquery())
    table = Table("overdue", labels["overdue"],
                  [labels["id"], labels["name"], labels["province"], labels["commune"],
                   labels["last_report"]])
    cutoff = months_before(today, months)
    for pid, name, created_at, commune, province in practices:
        seen = last_activity(periods[pid], created_at.date() if created_at else None)
        if seen is not None and seen < cutoff:
            latest = max(periods[pid]) if periods[pid] else ""
            table.rows.append([pid, name, province, commune, latest])
    return table


def nominations_by_state(area: DashboardArea, *, labels: dict, state_label) -> Table:
    """How many nominations of the area's models are in each state (every state listed)."""
    query = _where(select(Nomination.state, func.count())
                   .join(Practice, Practice.id == Nomination.practice_id)
                   .group_by(Nomination.state), area.practice_clause())
    counts = Counter(dict(db.session.execute(query).all()))
    table = Table("nominations", labels["nominations"], [labels["state"], labels["count"]])
    for state in NOMINATION_STATES:
        table.rows.append([state_label(state.code), counts.get(state.code, 0)])
    return table
