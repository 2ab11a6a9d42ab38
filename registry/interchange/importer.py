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
from registry.services.practices import create_practices, upsert_by_external_id
from registry.services.reference import check_record
from registry.services.uow import unit_of_work
from registry.vocabularies import VocabularyIndex

READERS = {".jsonl": read_jsonl, ".ndjson": read_jsonl, ".csv": read_csv, ".xlsx": read_xlsx}
BATCH_SIZE = 2000


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

    Each row is checked on its own, so a bad row is reported with its line and the good
    rows around it are kept; the new models of a batch are written together.

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
    """Imports the rows of a batch: validated in Python first, new models created together.

    A row is all-or-nothing without a savepoint of its own: validation (the domain's) runs
    before anything is written, and the new models of a batch are then written by
    registry.services.practices.create_practices in a few statements. Only rows that must
    see an earlier row of the batch (an update, the same external_id twice, a replication of
    a model created just before) go one by one through upsert_by_external_id in a savepoint.
    Should the batch's statements fail all the same (a key taken meanwhile by another
    writer), the batch's new rows are redone one by one, so the bad row is named and the
    others kept.
    """

    def __init__(self, session, report: ImportReport, user) -> None:
        self.session = session
        self.report = report
        self.user = user
        self.vocab = VocabularyIndex()
        self.kind_count = _kind_count(self.vocab)
        self.changed_ids: set[int] = set()
        self.pending: list[tuple] = []  # (row, record) of new models not yet written
        self.pending_ids: set[str] = set()

    def run(self, chunk) -> None:
        known = _existing(self.session, chunk)
        for row in chunk:
            self.run_row(row, known)
        self.write_pending()

    def run_row(self, row, known: dict) -> None:
        if row.error:
            self.reject(row, [FieldError("", row.error)])
            return
        try:
            record = check_record(row.raw, vocab=self.vocab, allow_workflow=True)
        except Invalid as exc:
            self.reject(row, _located(exc.errors, row.refs))
            return
        self.note_new_kind(record)
        external_id = record.get("external_id")
        if external_id in known or external_id in self.pending_ids \
                or record.get("replicated_from") in self.pending_ids:
            self.write_pending()  # the row must see what earlier rows did
            self.save_one(row, record, known)
            return
        self.pending.append((row, record))
        if external_id:
            self.pending_ids.add(external_id)

    def write_pending(self) -> None:
        """Create the batch's new models together; rows refused by the database go singly."""
        pending, self.pending, self.pending_ids = self.pending, [], set()
        if not pending:
            return
        try:
            with savepoint(self.session):
                results = create_practices([record for _, record in pending], user=self.user,
                                           source="import", vocab=self.vocab)
        except SQLAlchemyError:
            for row, record in pending:
                self.save_one(row, record, {})
            return
        for (row, _), result in zip(pending, results):
            if isinstance(result, Invalid):
                self.reject(row, _located(result.errors, row.refs))
            else:
                self.report.created += 1
                self.changed_ids.add(result)

    def save_one(self, row, record: dict, known: dict) -> None:
        try:
            with savepoint(self.session):
                practice, outcome = upsert_by_external_id(
                    record, user=self.user, vocab=self.vocab, source="import", known=known)
        except Invalid as exc:
            self.reject(row, _located(exc.errors, row.refs))
            return
        except SQLAlchemyError as exc:
            message = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
            self.reject(row, [FieldError("", f"không ghi được vào cơ sở dữ liệu: {message}")])
            return
        setattr(self.report, outcome, getattr(self.report, outcome) + 1)
        if outcome != "unchanged":
            self.changed_ids.add(practice.id)

    def reject(self, row, errors: list[FieldError]) -> None:
        self.report.rejected.append(Rejection(row.location, errors))

    def note_new_kind(self, record: dict) -> None:
        """Validation added the record's kind to the vocabulary (for review): report it."""
        count = _kind_count(self.vocab)
        if count != self.kind_count:
            self.report.new_kinds.append(record["kind"])
            self.kind_count = count

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
    """Terms known to the index: only kinds are ever added by an import (open vocabulary)."""
    return len(vocab.by_id)
