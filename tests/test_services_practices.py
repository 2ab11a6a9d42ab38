"""The write path: records in and out, revisions, versions, conflicts, archive, results reports."""
from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import func, select

from registry.extensions import db
from registry.domain.records import Invalid, practice_to_record, validate_record
from registry.models.practices import Practice
from registry.models.revisions import Revision
from registry.models.vocab import Term
from registry.services import savepoint
from registry.services.practices import (
    StaleVersion, add_outcome_report, archive_practice, create_practices, save_practice,
    upsert_by_external_id,
)
from registry.services.reference import DatabaseReference
from registry.vocabularies import VocabularyIndex

RAW = {
    "external_id": "svc-1", "name": "Tổ hoà giải Thôn Đông", "kind": "to-hoa-giai",
    "commune_code": "70", "setting": "Khu dan cu nong thon", "forms": "tự hoà giải",
    "founded_on": "2020-01-31", "participants": 12,
    "core_members": [{"name": "Bùi Thị Mai", "role": "thanh-vien", "phone": "0911000111"}],
    "outcomes": [{"period": "2024-h1", "tips_reported": 1}],
}


def revisions() -> int:
    return db.session.scalar(select(func.count()).select_from(Revision))


def create(**overrides):
    record = validate_record({**RAW, **overrides}, DatabaseReference())
    return save_practice(record, source="cli")


def test_validate_record_canonicalises_and_uses_codes(app_ctx):
    decomposed = unicodedata.normalize("NFD", "Tổ hoà giải Thôn Đông")
    record = validate_record({**RAW, "name": decomposed}, DatabaseReference())
    assert record["name"] == "Tổ hòa giải Thôn Đông"  # NFC, new tone placement
    assert record["commune_code"] == "00070" and record["province_code"] == "01"
    assert record["setting"] == "nong-thon" and record["forms"] == ["tu-hoa-giai"]
    assert record["outcomes"][0]["period"] == "2024-H1"
    assert record["core_members"][0]["role"] == "thanh-vien"


def test_validate_record_collects_every_error(app_ctx):
    with pytest.raises(Invalid) as caught:
        validate_record({"name": "", "kind": "to-hoa-giai", "commune_code": "1",
                         "forms": ["bay"], "households": 1.5}, DatabaseReference())
    fields = {e.field for e in caught.value.errors}
    assert fields == {"name", "commune_code", "forms", "households"}


def test_closed_kinds_when_new_kinds_are_not_allowed(app_ctx):
    with pytest.raises(Invalid) as caught:
        validate_record({**RAW, "kind": "Loại lạ"}, DatabaseReference(), allow_new_kinds=False)
    assert caught.value.errors[0].field == "kind"
    assert db.session.scalar(select(func.count()).select_from(Term).where(
        Term.origin != "seed")) == 0


def test_workflow_keys_are_ignored_unless_allowed(app_ctx):
    vocab = VocabularyIndex()
    assert "status" not in validate_record({**RAW, "status": "approved", "id": 5},
                                           DatabaseReference(vocab))
    assert validate_record({**RAW, "status": "approved"}, DatabaseReference(vocab),
                           allow_workflow=True)["status"] == "approved"
    with pytest.raises(Invalid):
        validate_record({**RAW, "status": "vĩnh viễn"}, DatabaseReference(vocab))


def test_record_round_trip_is_exact(app_ctx):
    practice, outcome = create()
    assert outcome == "created" and practice.version == 1
    record = practice_to_record(practice, include_personal=True)
    assert validate_record(record, DatabaseReference(), allow_workflow=True) == record
    public = practice_to_record(practice, include_personal=False)
    assert "core_members" not in public


def test_create_writes_a_revision_and_unchanged_writes_nothing(app_ctx):
    practice, _ = create()
    assert revisions() == 1
    record = validate_record(practice_to_record(practice, include_personal=True),
                             DatabaseReference())
    same, outcome = save_practice(record, source="cli", practice=practice)
    assert outcome == "unchanged" and same.version == 1 and revisions() == 1


def test_update_records_old_and_new_and_bumps_version(app_ctx):
    practice, _ = create()
    record = validate_record({**RAW, "name": "Tên mới",
                              "core_members": [{"name": "Bùi Thị Mai", "phone": "0911999999"}]},
                             DatabaseReference())
    practice, outcome = save_practice(record, source="web", practice=practice)
    db.session.flush()
    assert outcome == "updated" and practice.version == 2
    revision = db.session.scalars(select(Revision).order_by(Revision.id.desc())).first()
    changes = {c["field"]: c for c in revision.changes}
    assert set(changes) == {"name", "core_members"}
    assert changes["name"]["old"] == "Tổ hòa giải Thôn Đông" and changes["name"]["new"] == "Tên mới"
    assert changes["core_members"]["new"][0]["phone"] == "0911999999"


def test_member_only_change_bumps_version(app_ctx):
    practice, _ = create()
    record = validate_record({**RAW, "core_members": []}, DatabaseReference())
    practice, outcome = save_practice(record, source="web", practice=practice)
    assert outcome == "updated" and practice.version == 2 and practice.core_members == []


def test_stale_version_is_refused_and_nothing_changes(app_ctx):
    practice, _ = create()
    record = validate_record({**RAW, "name": "Sửa muộn"}, DatabaseReference())
    with pytest.raises(StaleVersion) as caught:
        save_practice(record, source="web", practice=practice, expected_version=0)
    assert "người khác" in str(caught.value)
    assert practice.name == "Tổ hòa giải Thôn Đông" and revisions() == 1
    save_practice(record, source="web", practice=practice, expected_version=1)
    assert practice.name == "Sửa muộn"


def test_upsert_and_status_on_creation(app_ctx):
    vocab = VocabularyIndex()
    record = validate_record(RAW, DatabaseReference(vocab))
    practice, outcome = upsert_by_external_id(record, vocab=vocab, status="draft")
    assert outcome == "created" and practice.status == "draft"
    again, outcome = upsert_by_external_id(record, vocab=vocab, status="registered")
    assert again is practice and outcome == "unchanged" and practice.status == "draft"


def test_archive_keeps_the_model_with_a_revision(app_ctx):
    practice, _ = create()
    archive_practice(practice, source="web")
    assert practice.status == "archived" and practice.version == 2
    last = db.session.scalars(select(Revision).order_by(Revision.id.desc())).first()
    assert last.action == "archive" and last.changes[0]["old"] == "registered"


def test_add_outcome_report_validates_and_refuses_duplicates(app_ctx):
    practice, _ = create()
    report = add_outcome_report(practice, {"period": "2024", "surrenders": 2}, source="api")
    assert report.surrenders == 2
    assert sorted(o.period for o in practice.outcomes) == ["2024", "2024-H1"]
    with pytest.raises(Invalid) as caught:
        add_outcome_report(practice, {"period": "2024-H1"}, source="api")
    assert "đã có báo cáo" in caught.value.errors[0].message
    with pytest.raises(Invalid) as caught:
        add_outcome_report(practice, {"period": "quý 3", "wanted_caught": -1}, source="api")
    assert {e.field for e in caught.value.errors} == {"outcome.period", "outcome.wanted_caught"}


def test_savepoint_is_nested_even_as_the_first_statement(app_ctx):
    from registry.models.practices import Practice
    db.session.commit()  # a fresh transaction: the SAVEPOINT comes first (SQLite's trap)
    with savepoint():
        create(external_id="inner")
    with pytest.raises(RuntimeError):
        with savepoint():
            create(external_id="dropped")
            raise RuntimeError
    assert list(db.session.scalars(select(Practice.external_id))) == ["inner"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Practice)) == 0


def test_bulk_creation_writes_the_same_as_the_unit_of_work(app_ctx):
    vocab = VocabularyIndex()
    ref = DatabaseReference(vocab)
    plain, _ = save_practice(validate_record({**RAW, "external_id": "a"}, ref), source="cli")
    [bulk_id] = create_practices([validate_record({**RAW, "external_id": "b"}, ref)],
                                 source="cli", vocab=vocab)
    db.session.flush()
    db.session.expire_all()
    bulk = db.session.get(Practice, bulk_id)
    first, second = (practice_to_record(p, include_personal=True) for p in (plain, bulk))
    assert {**first, "external_id": "b"} == second
    assert len(second["core_members"]) == 1 and second["outcomes"][0]["tips_reported"] == 1
    changes = [r.changes for r in db.session.scalars(select(Revision).order_by(Revision.id))]
    assert [{**c, "new": "b"} if c["field"] == "external_id" else c for c in changes[0]] \
        == changes[1]
