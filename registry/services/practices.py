"""The single write path for models: load with a permission, create, update, archive, add
results; flush, never commit (the caller's unit of work commits, registry.services.uow)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import insert, select

from registry import permissions
from registry.domain.errors import FieldError, Forbidden, Invalid, NotFound, StaleVersion
from registry.domain.fields import RECORD_KEYS
from registry.domain.records import outcome_to_dict, practice_to_record, validate_outcome
from registry.text import collation_key
from registry.domain.workflow import status_after_save
from registry.extensions import db
from registry.domain.fields import INDICATORS
from registry.models.practices import (
    CoreMember, OutcomeReport, Practice, practice_domains, practice_forms,
    practice_target_groups, utcnow,
)
from registry.models.revisions import Revision
from registry.vocabularies import VocabularyIndex

_EMPTY = (None, "", [])
_PLAIN = ("external_id", "name", "summary", "description", "hamlet", "participants",
          "households", "status", "recognition_level")
_TERMS = {"kind": "kind", "setting": "setting", "lead_organisation": "lead_organisation"}
_TERM_LISTS = {"forms": "form", "domains": "domain", "target_groups": "target_group"}
_LINK_TABLES = {"forms": practice_forms, "domains": practice_domains,
                "target_groups": practice_target_groups}


# What a refusal says, per action of registry.permissions.POLICY.
FORBIDDEN_MESSAGES = {
    "edit": "Bạn không có quyền sửa mô hình này.",
    "archive": "Bạn không có quyền lưu trữ mô hình này.",
    "view_personal_data": "Bạn không có quyền xem dữ liệu cá nhân của mô hình này.",
}


def load_practice(practice_id: int, user, action: str = "view", options=()) -> Practice:
    """The practice, if `user` may see it (else NotFound: drafts stay hidden) and may do
    `action` to it (else Forbidden)."""
    practice = db.session.get(Practice, practice_id, options=options)
    if practice is None or not permissions.can_view_practice(user, practice):
        raise NotFound()
    if action != "view" and not permissions.allows(user, action, practice):
        raise Forbidden(FORBIDDEN_MESSAGES.get(action, Forbidden().message))
    return practice


def authorise_place(user, record: dict, practice: Practice | None = None) -> None:
    """Creating in, or moving a model to, a commune needs the right to register there."""
    commune = record.get("commune_code")
    if practice is not None and commune == practice.commune_code:
        return
    if not permissions.can_create_practice(user, commune, record.get("province_code")):
        raise Forbidden("Bạn không có quyền đăng ký mô hình tại xã, phường này.",
                        fields={"commune_code": "Ngoài địa bàn được giao cho bạn."})


def _user_id(user):
    return getattr(user, "id", None) if user is not None else None


def save_practice(record: dict, *, user=None, source: str, practice: Practice | None = None,
                  expected_version: int | None = None, status: str | None = None,
                  vocab: VocabularyIndex | None = None, is_demo: bool = False,
                  submit: bool | None = None) -> tuple[Practice, str]:
    """Create (practice None) or update a practice from a validated record.

    Keys missing from `record` are left as they are. `submit` (pages and API): the state
    follows registry.domain.workflow.status_after_save; `status` sets one (imports, demo). Returns the practice and "created",
    "updated" or "unchanged"; "unchanged" writes nothing (no revision, version kept).
    Many new practices at once (imports): create_practices, which writes the same rows.
    """
    if practice is not None and expected_version is not None \
            and int(expected_version) != practice.version:
        raise StaleVersion(int(expected_version), practice.version)
    if submit is not None:
        status = status_after_save(practice.status if practice else None, submit)
    before = practice_to_record(practice, include_personal=True) if practice else {}
    target = dict(before)
    target.update({k: v for k, v in record.items() if k in RECORD_KEYS})
    if status is not None:
        target["status"] = status
    if practice is None:
        changed = _filled(target)
    else:
        changed = [k for k in RECORD_KEYS if k in target and target[k] != before.get(k)]
        if not changed:
            return practice, "unchanged"
    source_practice = _replication_source(target, practice) if "replicated_from" in changed \
        else None
    vocab = vocab or VocabularyIndex()
    created = practice is None
    if created:
        practice = Practice(created_by_id=_user_id(user), is_demo=is_demo)
        db.session.add(practice)
    _apply(practice, target, changed, vocab, source_practice)
    practice.updated_at = utcnow()  # an UPDATE even when only members/results changed
    db.session.flush()
    db.session.add(Revision(**_revision(practice.id, user, source, before, target, changed)))
    db.session.flush()
    if submit and status == "submitted":  # sent for verification with the save itself
        from registry.services.workflow import record_submission
        record_submission(user, practice, before.get("status"), source)
    return practice, "created" if created else "updated"


def _filled(target: dict) -> list[str]:
    """The keys a new practice's revision lists: those given a value."""
    return [k for k in RECORD_KEYS if target.get(k) not in _EMPTY]


def _revision(practice_id: int, user, source: str, before: dict, target: dict,
              changed: list[str]) -> dict:
    return {"practice_id": practice_id, "user_id": _user_id(user), "source": source,
            "action": "create" if not before else "update",
            "changes": [{"field": k, "old": before.get(k), "new": target.get(k)}
                        for k in changed]}


def create_practices(records: list[dict], *, user=None, source: str,
                     vocab: VocabularyIndex | None = None, status: str | None = None,
                     is_demo: bool = False) -> list[int | Invalid]:
    """Create a practice per validated record, as save_practice(record) would, in a few
    executemany statements (INSERT ... RETURNING for the practices) instead of one flush each.

    Returns, per record in order, the new id or the Invalid that refused it (a replication
    source that does not exist); the others are written. Records must have no external_id
    already taken (the caller looked them up). The caller logs the ids in the search change
    log (registry.search.changes.record_changes): Core statements fire no flush event.
    """
    vocab = vocab or VocabularyIndex()
    sources = _replication_ids(r.get("replicated_from") for r in records)
    now = utcnow()
    results: list[int | Invalid] = []
    rows, targets = [], []
    for record in records:
        target = {k: v for k, v in record.items() if k in RECORD_KEYS}
        if status is not None:
            target["status"] = status
        source_id = None
        if target.get("replicated_from"):
            source_id = sources.get(target["replicated_from"])
            if source_id is None:
                results.append(Invalid([FieldError(
                    "replicated_from", "không có mô hình với mã tham chiếu "
                                       f"“{target['replicated_from']}”")]))
                continue
        try:
            rows.append(_practice_row(target, vocab, source_id, user, is_demo, now))
        except Invalid as exc:
            results.append(exc)
            continue
        targets.append(target)
        results.append(None)  # the id, once inserted
    if not rows:
        return results
    table = Practice.__table__
    ids = list(db.session.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
    children: dict = {}
    revisions = []
    for practice_id, target in zip(ids, targets):
        for child_table, child_rows in _child_rows(practice_id, target, vocab):
            if child_rows:  # an empty parameter list would insert one row of defaults
                children.setdefault(child_table, []).extend(child_rows)
        revisions.append(_revision(practice_id, user, source, {}, target, _filled(target)))
    for child_table, child_rows in children.items():
        db.session.execute(insert(child_table), child_rows)
    db.session.execute(insert(Revision.__table__), revisions)
    new_ids = iter(ids)
    return [next(new_ids) if result is None else result for result in results]


def _replication_ids(external_ids) -> dict[str, int]:
    wanted = sorted({e for e in external_ids if e})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        found.update(db.session.execute(
            select(Practice.external_id, Practice.id)
            .where(Practice.external_id.in_(wanted[start:start + 500]))).all())
    return found


def _practice_row(target: dict, vocab: VocabularyIndex, source_id: int | None, user,
                  is_demo: bool, now) -> dict:
    """The practice table's columns for a new practice (what _apply sets on an object)."""
    def term_id(key):
        term = _term(vocab, _TERMS[key], target.get(key))
        return term.id if term is not None else None

    def day(key):
        return date.fromisoformat(target[key]) if target.get(key) else None

    row = {key: (target.get(key) if target.get(key) is not None
                 or key in ("external_id", "participants", "households") else "")
           for key in _PLAIN}
    row.update(
        status=target.get("status") or "registered",
        recognition_level=target.get("recognition_level") or "none",
        name_sort_key=collation_key(target.get("name")), address_text=target.get("address") or "",
        commune_code=target["commune_code"], province_code=target["province_code"],
        kind_id=term_id("kind"), setting_id=term_id("setting"),
        lead_organisation_id=term_id("lead_organisation"),
        founded_on=day("founded_on"), recognised_on=day("recognised_on"),
        replicated_from_id=source_id, replicated_on=None, is_demo=is_demo,
        created_by_id=_user_id(user), created_at=now, updated_at=now, version=1)
    return row


def _child_rows(practice_id: int, target: dict, vocab: VocabularyIndex):
    """(table, rows) of a new practice's links, members and results."""
    for key, table in _LINK_TABLES.items():
        yield table, [{"practice_id": practice_id,
                       "term_id": _term(vocab, _TERM_LISTS[key], c).id}
                      for c in target.get(key) or []]
    yield CoreMember.__table__, [
        {"practice_id": practice_id, "position": i, "name": m["name"],
         "phone": m.get("phone") or "",
         "role_id": getattr(_term(vocab, "member_role", m.get("role")), "id", None)}
        for i, m in enumerate(target.get("core_members") or [])]
    yield OutcomeReport.__table__, [
        {"practice_id": practice_id, "period": o["period"], "narrative": o.get("narrative") or "",
         "created_at": utcnow(), **{key: o.get(key) for key in INDICATORS}}
        for o in target.get("outcomes") or []]


def _replication_source(target: dict, practice: Practice | None) -> Practice | None:
    external_id = target.get("replicated_from")
    if not external_id:
        return None
    source = db.session.scalar(select(Practice).where(Practice.external_id == external_id))
    if source is None:
        raise Invalid([FieldError("replicated_from",
                                      f"không có mô hình với mã tham chiếu “{external_id}”")])
    if practice is not None and source.id == practice.id:
        raise Invalid([FieldError("replicated_from", "mô hình không thể nhân rộng từ"
                                                         " chính nó")])
    return source


def _term(vocab: VocabularyIndex, vocabulary: str, code):
    if code in _EMPTY:
        return None
    term = vocab.resolve(vocabulary, code)
    if term is None:
        raise Invalid([FieldError(vocabulary, f"“{code}” không có trong danh mục")])
    return term


def _apply(practice: Practice, target: dict, changed: list[str], vocab: VocabularyIndex,
           source_practice: Practice | None) -> None:
    for key in changed:
        value = target.get(key)
        if key in _PLAIN:
            setattr(practice, key, value if value is not None or key in (
                "external_id", "participants", "households") else "")
        elif key == "address":
            practice.address_text = value or ""
        elif key in ("commune_code", "province_code"):
            practice.commune_code = target["commune_code"]
            practice.province_code = target["province_code"]
        elif key in _TERMS:
            setattr(practice, key, _term(vocab, _TERMS[key], value))
        elif key in _TERM_LISTS:
            setattr(practice, key, [_term(vocab, _TERM_LISTS[key], c) for c in value or []])
        elif key in ("founded_on", "recognised_on"):
            setattr(practice, key, date.fromisoformat(value) if value else None)
        elif key == "core_members":
            practice.core_members = [
                CoreMember(position=i, name=m["name"], phone=m.get("phone") or "",
                           role=_term(vocab, "member_role", m.get("role")))
                for i, m in enumerate(value or [])]
        elif key == "outcomes":
            _apply_outcomes(practice, value or [])
        elif key == "replicated_from":
            practice.replicated_from = source_practice
    if practice.status is None:
        practice.status = "registered"
    if practice.recognition_level is None:
        practice.recognition_level = "none"


def _apply_outcomes(practice: Practice, outcomes: list[dict]) -> None:
    """Update reports in place by period (the period is unique per practice)."""
    wanted = {o["period"]: o for o in outcomes}
    for report in list(practice.outcomes):
        if report.period not in wanted:
            practice.outcomes.remove(report)
    existing = {r.period: r for r in practice.outcomes}
    for period, values in wanted.items():
        report = existing.get(period)
        if report is None:
            report = OutcomeReport(period=period)
            practice.outcomes.append(report)
        for key in INDICATORS:
            setattr(report, key, values.get(key))
        report.narrative = values.get("narrative") or ""


def upsert_by_external_id(record: dict, *, user=None, source: str = "import",
                          vocab: VocabularyIndex | None = None, status: str | None = None,
                          known: dict | None = None,
                          is_demo: bool = False) -> tuple[Practice, str]:
    """Update the practice with the record's external_id, or create it (always when none).

    `known` (external_id -> practice, optional) is a lookup the caller prefetched; it is
    kept up to date with practices created here.
    """
    external_id = record.get("external_id")
    practice = None
    if external_id:
        if known is not None and external_id in known:
            practice = known[external_id]
        else:
            practice = db.session.scalar(
                select(Practice).where(Practice.external_id == external_id))
    practice, outcome = save_practice(record, user=user, source=source, practice=practice,
                                      vocab=vocab, status=status if practice is None else None,
                                      is_demo=is_demo)
    if known is not None and external_id:
        known[external_id] = practice
    return practice, outcome


def archive_practice(practice: Practice, *, user=None, source: str) -> Practice:
    """Move a practice to the archive (kept, no longer listed) with a revision."""
    if practice.status == "archived":
        return practice
    old = practice.status
    practice.status = "archived"
    practice.updated_at = utcnow()
    db.session.add(Revision(practice_id=practice.id, user_id=_user_id(user), source=source,
                            action="archive",
                            changes=[{"field": "status", "old": old, "new": "archived"}]))
    db.session.flush()
    return practice


def add_outcome_report(practice: Practice, outcome: dict, *, user=None,
                       source: str) -> OutcomeReport:
    """Add one period's results report; a period already reported is refused."""
    clean = validate_outcome(outcome)
    if any(r.period == clean["period"] for r in practice.outcomes):
        raise Invalid([FieldError("period", f"kỳ {clean['period']} đã có báo cáo kết quả")])
    report = OutcomeReport(period=clean["period"], narrative=clean["narrative"],
                           **{key: clean[key] for key in INDICATORS})
    practice.outcomes.append(report)
    practice.updated_at = utcnow()
    db.session.flush()
    db.session.add(Revision(practice_id=practice.id, user_id=_user_id(user), source=source,
                            action="add_outcome",
                            changes=[{"field": "outcomes", "old": None,
                                      "new": outcome_to_dict(report)}]))
    db.session.flush()
    return report
