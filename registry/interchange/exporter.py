"""Exporting every model to JSONL, CSV or XLSX, streamed in batches."""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from registry import permissions
from registry.extensions import db
from registry.interchange.csv_format import write_csv
from registry.interchange.jsonl_format import write_jsonl
from registry.domain.records import practice_to_record
from registry.interchange.xlsx_format import write_xlsx
from registry.models.practices import CoreMember, Practice
from registry.models.vocab import VOCABULARIES, Term
from registry.vocabularies import VOCABULARY_LABELS, terms_of

FORMATS = ("jsonl", "csv", "xlsx")
BATCH_SIZE = 500


def iter_records(*, include_personal: bool, viewer=None) -> Iterator[dict]:
    """Every model's record in id order; memory stays flat (yield_per batches).

    `viewer` None is the registry itself (the administrators' command line): every model.
    A user (or flask_login's anonymous user) gets the models the "view" rule lets them see,
    with core members only where "view_personal_data" allows (registry.permissions).
    """
    # Terms are referenced by every model: keep them loaded so lookups hit the identity map.
    terms = list(db.session.scalars(select(Term)))
    query = (select(Practice).order_by(Practice.id)
             .options(selectinload(Practice.forms), selectinload(Practice.domains),
                      selectinload(Practice.target_groups), selectinload(Practice.outcomes),
                      selectinload(Practice.replicated_from))
             .execution_options(yield_per=BATCH_SIZE))
    if viewer is not None:
        query = query.where(permissions.practice_clause(permissions.scope(viewer, "view")))
    if include_personal:
        query = query.options(selectinload(Practice.core_members).selectinload(CoreMember.role))
    for practice in db.session.scalars(query):
        personal = include_personal and (
            viewer is None or permissions.can_view_personal_data(viewer, practice))
        yield practice_to_record(practice, include_personal=personal)
    del terms


def vocabulary_rows() -> Iterator[tuple]:
    """(vocabulary, code, Vietnamese label) of every live term: the allowed values."""
    for vocabulary in VOCABULARIES:
        if vocabulary == "indicator":
            continue
        for term in terms_of(vocabulary):
            yield (VOCABULARY_LABELS[vocabulary], term.code, term.label_vi)


def export_file(path, fmt: str, *, include_personal: bool = True, viewer=None) -> int:
    """Write every model (or those `viewer` may see, see iter_records) to `path`."""
    records = iter_records(include_personal=include_personal, viewer=viewer)
    if fmt == "jsonl":
        return write_jsonl(path, records)
    if fmt == "csv":
        return write_csv(path, records, include_personal=include_personal)
    if fmt == "xlsx":
        return write_xlsx(path, records, include_personal=include_personal,
                          vocabulary_rows=list(vocabulary_rows()))
    raise ValueError(f"unknown format {fmt!r}")


def unattached_count() -> int:
    """Models whose members or results an XLSX export cannot carry (they lack external_id)."""
    has_children = or_(Practice.core_members.any(), Practice.outcomes.any())
    return db.session.scalar(select(func.count()).select_from(Practice).where(
        Practice.external_id.is_(None), has_children))


def write_template(path) -> None:
    """A blank XLSX to fill in: the three sheets with their headers and the allowed values."""
    write_xlsx(path, [], vocabulary_rows=list(vocabulary_rows()))
