"""Evidence files of a model: store and delete, tied to the transaction (flush, never commit).

A stored file is written only after every check passed; if the transaction then rolls back
(or ends without a commit) the file is removed again. A deleted row's file is removed only
once the deletion is committed.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session

from registry.services import uploads
from registry.extensions import db
from registry.models.practices import Evidence, Practice
from registry.models.revisions import Revision

CATEGORIES = (
    ("decision", _l("Quyết định thành lập, công nhận")),
    ("regulation", _l("Quy chế hoạt động")),
    ("photo", _l("Hình ảnh")),
    ("report", _l("Báo cáo, sơ kết, tổng kết")),
    ("other", _l("Tài liệu khác")),
)
CATEGORY_LABELS = dict(CATEGORIES)

_WRITTEN = "evidence_files_written"
_TO_DELETE = "evidence_files_to_delete"


def store_evidence(practice: Practice, upload: uploads.CheckedUpload, *, user, title: str,
                   category: str = "other", source: str = "web") -> Evidence:
    """Write the checked file under a random name and add its row and a revision (flush)."""
    if category not in CATEGORY_LABELS:
        category = "other"
    title = (title or "").strip()[:300] or upload.original_filename[:300]
    stored_name = uploads.new_stored_name()
    evidence = Evidence(practice=practice, title=title, category=category,
                        original_filename=upload.original_filename[:255],
                        stored_name=stored_name, content_type=upload.content_type,
                        size_bytes=upload.size, sha256=upload.sha256,
                        uploaded_by_id=getattr(user, "id", None))
    db.session.add(evidence)
    db.session.add(Revision(practice_id=practice.id, user_id=getattr(user, "id", None),
                            action="add_evidence", source=source,
                            changes=[{"field": "evidence", "old": None, "new": title}]))
    db.session.flush()
    # The file goes to disk last: a failed flush leaves nothing behind.
    db.session.info.setdefault(_WRITTEN, []).append(stored_name)
    uploads.write_file(stored_name, upload.data)
    return evidence


def delete_evidence(evidence: Evidence, *, user, source: str = "web") -> None:
    """Remove the row and log a revision; the file goes once the deletion is committed."""
    db.session.add(Revision(practice_id=evidence.practice_id,
                            user_id=getattr(user, "id", None), action="delete_evidence",
                            source=source,
                            changes=[{"field": "evidence", "old": evidence.title,
                                      "new": None}]))
    if evidence.stored_name:
        db.session.info.setdefault(_TO_DELETE, []).append(evidence.stored_name)
    db.session.delete(evidence)
    db.session.flush()


def _after_commit(session: Session) -> None:
    for name in session.info.pop(_TO_DELETE, []):
        uploads.remove_file(name)
    session.info.pop(_WRITTEN, None)


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return
    # Reached without a commit (rollback or close): undo the files written meanwhile.
    for name in session.info.pop(_WRITTEN, []):
        uploads.remove_file(name)
    session.info.pop(_TO_DELETE, None)


def install(session_factory) -> None:
    """Tie evidence files to the transactions of every session the factory makes."""
    if not event.contains(session_factory, "after_commit", _after_commit):
        event.listen(session_factory, "after_commit", _after_commit)
        event.listen(session_factory, "after_transaction_end", _after_transaction_end)
