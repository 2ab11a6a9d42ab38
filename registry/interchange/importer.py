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
from registry.domain.errors import FieldError, Invalid
from registry.domain.records import error_summary
from registry.interchange.xlsx_format import read_xlsx
from registry.models.places import Commune
from registry.models.practices import Practice
from registry.search.changes import record_changes
from registry.services import savepoint
from registry.services.practices import upsert_by_external_id
from registry.services.reference import check_record
from registry.services.uow import unit_of_work
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

    Rows are checked and saved one by one in savepoints, so a bad row is reported with its
    line and the good rows around it are kept.

    The caller handles ImportFileError (the file as a whole is unreadable).
    """
    read = reader_for(path)
    if not Path(path).is_file():
        raise ImportFileError(f"không tìm thấy tệp “{path}”")
    session = db.session()
    report = ImportReport(dry_run=dry_run)
    rows = _RowImporter(session, report, user)
    saved_expire, saved_suspend = session.expire_on_commit, session.info.get(
        "suspend_change_log", False)
    # Objects stay loaded across batch commits (vocabulary terms are reused, not re-read);
    # the change log is written once per batch instead of once per row.
    session.expire_on_commit = False
    session.info["suspend_change_log"] = True
    # Communes stay in the identity map: validation reads them for every row.
    communes = list(session.scalars(select(Commune)))
    try:
        chunks = _chunks(read(path), batch_size)
        if dry_run:  # one transaction, rolled back: later rows see earlier ones, as for real
            with unit_of_work(user, "import", dry_run=True):
                for chunk in chunks:
                    rows.run(chunk)
                    if on_progress:
                        on_progress(report)
        else:  # one transaction per batch
            for chunk in chunks:
                with unit_of_work(user, "import"):
                    rows.run(chunk)
                    rows.log_changes()
                if on_progress:
                    on_progress(report)
    finally:
        del communes
        session.expire_on_commit = saved_expire
        session.info["suspend_change_log"] = saved_suspend
    return report


class _RowImporter:
    """Imports the rows of a batch, each in a savepoint: a bad row is reported and undone."""

    def __init__(self, session, report: ImportReport, user) -> None:
        self.session = session
        self.report = report
        self.user = user
        self.vocab = VocabularyIndex()
        self.kind_count = _kind_count(self.vocab)
        self.changed_ids: set[int] = set()

    def run(self, chunk) -> None:
        known = _existing(self.session, chunk)
        for row in chunk:
            self.run_row(row, known)

    def run_row(self, row, known: dict) -> None:
        report = self.report
        if row.error:
            report.rejected.append(Rejection(row.location, [FieldError("", row.error)]))
            return
        try:
            with savepoint(self.session):
                record = check_record(row.raw, vocab=self.vocab, allow_workflow=True)
                practice, outcome = upsert_by_external_id(
                    record, user=self.user, vocab=self.vocab, source="import", known=known,
                    bulk=True)
        except Invalid as exc:
            report.rejected.append(Rejection(row.location, _located(exc.errors, row.refs)))
            self._refresh_if_rolled_back()
            return
        except SQLAlchemyError as exc:
            message = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
            report.rejected.append(Rejection(row.location, [FieldError(
                "", f"không ghi được vào cơ sở dữ liệu: {message}")]))
            self._refresh_if_rolled_back()
            return
        if _kind_count(self.vocab) != self.kind_count:
            report.new_kinds.append(practice.kind.label_vi)
            self.kind_count = _kind_count(self.vocab)
        setattr(report, outcome, getattr(report, outcome) + 1)
        if outcome != "unchanged":
            self.changed_ids.add(practice.id)

    def _refresh_if_rolled_back(self) -> None:
        """A kind added inside a row that was then rolled back is gone: reload the terms."""
        if _kind_count(self.vocab) != self.kind_count:
            self.vocab = VocabularyIndex()
            self.kind_count = _kind_count(self.vocab)

    def log_changes(self) -> None:
        """The batch's models in the search change log, once, in the batch's transaction."""
        self.session.info["suspend_change_log"] = False
        record_changes(self.session, self.changed_ids)
        self.session.info["suspend_change_log"] = True
        self.changed_ids.clear()


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
