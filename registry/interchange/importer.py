"""Importing a JSONL, CSV or XLSX file: each row all-or-nothing, upserted by external_id."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from registry.extensions import db
from registry.interchange.csv_format import read_csv
from registry.interchange.jsonl_format import read_jsonl
from registry.interchange.layout import ImportFileError
from registry.interchange.records import FieldError, RecordError, error_summary, validate_record
from registry.interchange.xlsx_format import read_xlsx
from registry.models.places import Commune
from registry.models.practices import Practice
from registry.search.changes import record_changes
from registry.services import ensure_transaction, savepoint
from registry.services.practices import upsert_by_external_id
from registry.vocabularies import VocabularyIndex

READERS = {".jsonl": read_jsonl, ".ndjson": read_jsonl, ".csv": read_csv, ".xlsx": read_xlsx}
BATCH_SIZE = 500


@dataclass
class Rejection:
    location: str
    errors: list[FieldError]

    def describe(self) -> str:
        return f"{self.location}: {error_summary(self.errors)}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    new_kinds: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.rejected)

    def summary(self) -> str:
        text = (f"tạo mới: {self.created}, cập nhật: {self.updated}, "
                f"không đổi: {self.unchanged}, bị từ chối: {len(self.rejected)}")
        if self.dry_run:
            text += " (chạy thử: không ghi gì vào cơ sở dữ liệu)"
        return text


def reader_for(path) -> callable:
    suffix = Path(path).suffix.lower()
    if suffix not in READERS:
        raise ImportFileError(f"không hỗ trợ định dạng “{suffix or Path(path).name}”: "
                              "dùng .jsonl, .csv hoặc .xlsx")
    return READERS[suffix]


def _located(errors: list[FieldError], refs: dict | None) -> list[FieldError]:
    """Point errors of members/results at their own sheet rows (XLSX)."""
    if not refs:
        return errors
    out = []
    for error in errors:
        prefix = error.field.split(".")[0]
        where = refs.get(prefix)
        out.append(FieldError(error.field, f"{error.message} [{where}]") if where else error)
    return out


def import_file(path, *, dry_run: bool = False, user=None, batch_size: int = BATCH_SIZE,
                on_progress=None) -> ImportReport:
    """Import every row; commits every `batch_size` rows unless `dry_run` (then rolls back).

    The caller handles ImportFileError (the file as a whole is unreadable).
    """
    read = reader_for(path)
    if not Path(path).is_file():
        raise ImportFileError(f"không tìm thấy tệp “{path}”")
    session = db.session()
    report = ImportReport(dry_run=dry_run)
    vocab = VocabularyIndex()
    kind_count = _kind_count(vocab)
    saved_expire, saved_suspend = session.expire_on_commit, session.info.get(
        "suspend_change_log", False)
    # Objects stay loaded across batch commits (vocabulary terms are reused, not re-read);
    # the change log is written once per batch instead of once per row.
    session.expire_on_commit = False
    session.info["suspend_change_log"] = True
    changed_ids: set[int] = set()
    # Communes stay in the identity map: the province derivation on flush reads them.
    communes = list(session.scalars(select(Commune)))
    try:
        ensure_transaction(session)
        for chunk in _chunks(read(path), batch_size):
            known = _existing(session, chunk)
            for row in chunk:
                if row.error:
                    report.rejected.append(Rejection(row.location, [FieldError("", row.error)]))
                    continue
                try:
                    with savepoint(session):
                        record = validate_record(row.raw, vocab, allow_workflow=True)
                        practice, outcome = upsert_by_external_id(
                            record, user=user, vocab=vocab, source="import", known=known,
                            bulk=True)
                except RecordError as exc:
                    report.rejected.append(Rejection(row.location,
                                                     _located(exc.errors, row.refs)))
                    vocab, kind_count = _refresh_if_rolled_back(vocab, kind_count)
                    continue
                except SQLAlchemyError as exc:
                    message = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
                    report.rejected.append(Rejection(row.location, [FieldError(
                        "", f"không ghi được vào cơ sở dữ liệu: {message}")]))
                    vocab, kind_count = _refresh_if_rolled_back(vocab, kind_count)
                    continue
                if _kind_count(vocab) != kind_count:
                    report.new_kinds.append(practice.kind.label_vi)
                    kind_count = _kind_count(vocab)
                setattr(report, outcome, getattr(report, outcome) + 1)
                if outcome != "unchanged":
                    changed_ids.add(practice.id)
            _end_batch(session, changed_ids, dry_run)
            if on_progress:
                on_progress(report)
        _end_batch(session, changed_ids, dry_run, final=True)
    except BaseException:
        session.rollback()
        raise
    finally:
        del communes
        session.expire_on_commit = saved_expire
        session.info["suspend_change_log"] = saved_suspend
    return report


def _chunks(rows, size: int):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _existing(session, chunk) -> dict:
    """external_id -> practice for the chunk's rows, loaded with everything a diff reads."""
    ids = {str(r.raw.get("external_id")).strip() for r in chunk
           if r.raw and r.raw.get("external_id") not in (None, "")}
    if not ids:
        return {}
    query = (select(Practice).where(Practice.external_id.in_(ids))
             .options(selectinload(Practice.forms), selectinload(Practice.domains),
                      selectinload(Practice.target_groups), selectinload(Practice.outcomes),
                      selectinload(Practice.core_members), selectinload(Practice.replicated_from)))
    return {p.external_id: p for p in session.scalars(query)}


def _kind_count(vocab: VocabularyIndex) -> int:
    return sum(1 for t in vocab.by_id.values() if t.vocabulary == "kind")


def _refresh_if_rolled_back(vocab: VocabularyIndex, kind_count: int):
    """A kind added inside a row that was then rolled back is gone: reload the terms."""
    if _kind_count(vocab) == kind_count:
        return vocab, kind_count
    vocab = VocabularyIndex()
    return vocab, _kind_count(vocab)


def _end_batch(session, changed_ids: set[int], dry_run: bool, final: bool = False) -> None:
    if dry_run:
        if final:
            session.rollback()
        return
    session.info["suspend_change_log"] = False
    record_changes(session, changed_ids)
    session.info["suspend_change_log"] = True
    changed_ids.clear()
    session.commit()
    if not final:
        ensure_transaction(session)
