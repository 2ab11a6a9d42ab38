"""The one executor of the workflow: every action on a model or a nomination runs the same way.

load (with the version the caller saw) → policy (who may) → transition allowed in this state?
→ guard → apply → append the event → queue mail; the caller's unit of work commits once.
The actions are the data of registry.domain.workflow.TRANSITIONS; nominating, replicating and
commending create something new and have their own functions below, with the same steps.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from registry import permissions
from registry.domain.errors import (
    Conflict, FieldError, Forbidden, Invalid, NotAllowedInState, NotFound, StaleVersion,
)
from registry.domain.workflow import (
    NOMINATION_LEVELS, OPEN_NOMINATION_STATES, PUBLIC_STATES, TRANSITION_BY_ACTION,
    TRANSITIONS, Transition, practice_state_after_nomination, state_label,
)
from registry.extensions import db
from registry.models.accounts import User
from registry.models.practices import Practice, utcnow
from registry.models.workflow import Commendation, Event, Nomination, ReviewAssignment
from registry.services import mail
from registry.services.practices import load_practice
from registry.vocabularies import SEED_DIR

COMMENDATION_KINDS = {"khen_thuong": "Khen thưởng", "bieu_duong": "Biểu dương"}
COMMENDATION_LEVELS = {"commune": "Cấp xã", "province": "Cấp tỉnh", "national": "Cấp trung ương"}
LEVEL_LABELS = {"province": "cấp tỉnh", "national": "cấp trung ương"}
# Fields a replication may copy from its source (the rest are the new model's own).
COPYABLE = ("summary", "description", "forms", "domains", "target_groups", "setting",
            "lead_organisation")


def criteria() -> dict:
    """The review criteria and their 1–5 scale (seed/criteria.json), read once."""
    cached = current_app.extensions.get("workflow.criteria")
    if cached is None:
        cached = json.loads((SEED_DIR / "criteria.json").read_text(encoding="utf-8"))
        current_app.extensions["workflow.criteria"] = cached
    return cached


# --- who may, what now ---------------------------------------------------------------------

def who_allows(user, transition: Transition, subject) -> bool:
    """The transition's rule (registry.permissions) for this user and subject."""
    if transition.subject == "practice":
        if transition.who == "recognition":
            return permissions.can_withdraw_recognition(user, subject)
        return permissions.allows(user, transition.who, subject)
    if transition.who == "decide":
        return permissions.can_decide(user, subject)
    if transition.who == "review":
        return permissions.can_review(user, subject)
    return permissions.can_nominate(user, subject.practice)


def state_of(subject) -> str:
    return subject.status if isinstance(subject, Practice) else subject.state


def allowed_actions(user, subject) -> list[str]:
    """What this user may do to this model or nomination now (buttons, API `actions`)."""
    kind = "practice" if isinstance(subject, Practice) else "nomination"
    state = state_of(subject)
    actions = [t.action for t in TRANSITIONS if t.subject == kind and state in t.from_states
               and who_allows(user, t, subject)
               and (t.action != "escalate" or can_escalate(subject))]
    if kind == "practice":
        if state in ("registered", "nominated", "approved") and can_nominate_somewhere(
                user, subject):
            actions.append("nominate")
        if state in PUBLIC_STATES and permissions.allows(user, "commend", subject):
            actions.append("commend")
        if state == "approved" and can_replicate_somewhere(user, subject):
            actions.append("replicate")
    return actions


def can_replicate_somewhere(user, practice) -> bool:
    """May register a model in a commune other than the source's (replicate refuses the
    source's own commune): not an officer whose only commune is the model's."""
    return any(area.units is None or area.units - {practice.commune_code}
               for area in permissions.scope(user, "create").areas)


def can_escalate(nomination) -> bool:
    """Only a province nomination goes up, once, while the national level is still open."""
    return nomination.level == "province" and "national" in open_levels(nomination.practice)


def can_nominate_somewhere(user, practice) -> bool:
    return permissions.can_nominate(user, practice) and bool(open_levels(practice))


def open_levels(practice) -> list[str]:
    """Levels at which the model can still be nominated (not recognised there, none open)."""
    taken = set(db.session.scalars(select(Nomination.level).where(
        Nomination.practice_id == practice.id, Nomination.state.in_(OPEN_NOMINATION_STATES))))
    recognised = {"province": ("province",), "national": ("province", "national")}.get(
        practice.recognition_level, ())
    return [level for level in NOMINATION_LEVELS if level not in taken
            and level not in recognised]


# Actions that change neither the model nor the nomination (a reviewer's own row): the
# version may be left out, as POST …/reviewers and …/reviews do.
VERSION_OPTIONAL = ("assign_reviewer", "review", "decline_review")


# --- the executor --------------------------------------------------------------------------

@dataclass
class Step:
    """What an action changed, for the event and the mail."""

    from_state: str | None
    to_state: str | None
    data: dict = field(default_factory=dict)


def load_nomination(nomination_id: int, user) -> Nomination:
    nomination = db.session.get(Nomination, nomination_id)
    if nomination is None or not permissions.can_view_practice(user, nomination.practice) \
            or not permissions.can_view_nomination(user, nomination):
        raise NotFound("Không tìm thấy hồ sơ đề cử.")
    return nomination


def perform(user, kind: str, subject_id: int, action: str, *, version, reason: str = "",
            payload: dict | None = None, source: str = "web"):
    """Run one action of TRANSITIONS on a model ("practice") or a nomination; returns the
    subject. Raises NotFound, Forbidden, StaleVersion, NotAllowedInState or Invalid."""
    transition = TRANSITION_BY_ACTION.get(action)
    if transition is None or transition.subject != kind:
        raise NotFound(f"Không có thao tác “{action}”.")
    subject = load_practice(subject_id, user) if kind == "practice" \
        else load_nomination(subject_id, user)
    lock(subject)
    if not who_allows(user, transition, subject):
        raise Forbidden(f"Bạn không có quyền thực hiện “{transition.label_vi}”.")
    state = state_of(subject)
    if state not in transition.from_states:
        raise NotAllowedInState(transition.label_vi, state, allowed_actions(user, subject),
                                kind)
    if version is not None or action not in VERSION_OPTIONAL:
        check_version(subject, version)
    reason = (reason or "").strip()
    if transition.needs_reason and not reason:
        raise Invalid([FieldError("reason", "cần nêu lý do")], "Thao tác")
    if len(reason) > 5000:
        raise Invalid([FieldError("reason", "quá dài (tối đa 5000 ký tự)")], "Thao tác")
    step = APPLY[action](user, subject, reason, payload or {})
    practice = subject if kind == "practice" else subject.practice
    practice.updated_at = utcnow()
    append_event(user, practice, action, step, reason,
                 nomination=subject if kind == "nomination" else None, source=source)
    tell(user, transition, subject, practice, reason, step)
    db.session.flush()
    return subject


def lock(subject) -> None:
    """Take the subject's row lock before checking anything, and re-read it: concurrent
    actions on one model or nomination queue here (PostgreSQL; SQLite writes one at a time)
    and the checks see the winner's row. Without it, approving (which writes the model,
    then the nomination) and rejecting (the nomination, then the model) at once deadlocked
    on PostgreSQL instead of refusing the second."""
    model = type(subject)
    db.session.execute(select(model.id).where(model.id == subject.id).with_for_update())
    db.session.refresh(subject)


def check_version(subject, version) -> None:
    """The version the client read must be the subject's. A JSON number without a fraction
    (3.0) is an integer, as JSON Schema counts it."""
    if isinstance(version, float) and version.is_integer():
        version = int(version)
    if version is None or isinstance(version, bool) or not isinstance(version, int):
        raise Invalid([FieldError("version", "cần số phiên bản (số nguyên) nhận được khi đọc")],
                      "Thao tác")
    if version != subject.version:
        raise StaleVersion(version, subject.version)


def append_event(user, practice, action: str, step: Step, reason: str, *, nomination=None,
                 source: str = "web") -> Event:
    event = Event(actor_id=getattr(user, "id", None), practice_id=practice.id,
                  nomination_id=getattr(nomination, "id", None), action=action,
                  from_state=step.from_state, to_state=step.to_state, reason=reason,
                  province_code=practice.province_code, commune_code=practice.commune_code,
                  data={**step.data, "source": source}, demo=bool(practice.is_demo))
    db.session.add(event)
    return event


def record_submission(user, practice, before: str | None, source: str) -> None:
    """A save that sends the model for verification (a form's "Gửi xác minh", an API POST)
    is the "submit" step too: on the timeline, and the covering committees are told."""
    step = Step(before, "submitted")
    append_event(user, practice, "submit", step, "", source=source)
    tell(user, TRANSITION_BY_ACTION["submit"], practice, practice, "", step)


# --- applying each action ------------------------------------------------------------------

def _set_status(practice, status: str) -> Step:
    before = practice.status
    practice.status = status
    return Step(before, status)


def submission_gaps(practice) -> list[str]:
    """What a draft still lacks before it can be sent for verification (Vietnamese)."""
    gaps = []
    if not (practice.summary or "").strip():
        gaps.append("tóm tắt")
    if not practice.forms:
        gaps.append("hình thức")
    if not practice.domains:
        gaps.append("lĩnh vực")
    return gaps


def _submit(user, practice, reason, payload) -> Step:
    gaps = submission_gaps(practice)
    if gaps:
        raise Invalid([FieldError("practice", "còn thiếu: " + ", ".join(gaps))], "Mô hình")
    return _set_status(practice, "submitted")


def _archive(user, practice, reason, payload) -> Step:
    step = _set_status(practice, "archived")
    step.data["archived_from"] = step.from_state
    return step


def _restore(user, practice, reason, payload) -> Step:
    last = db.session.scalar(select(Event.from_state).where(
        Event.practice_id == practice.id, Event.action == "archive")
        .order_by(Event.id.desc()).limit(1))
    if last in (None, "archived"):
        last = "registered" if practice.recognition_level == "none" else "approved"
    opened = _open_count(practice)
    return _set_status(practice, practice_state_after_nomination(last, opened))


def _withdraw_recognition(user, practice, reason, payload) -> Step:
    practice.recognition_level = "none"
    practice.recognised_on = None
    return _set_status(practice, practice_state_after_nomination("registered",
                                                                 _open_count(practice)))


def _open_count(practice) -> int:
    return db.session.scalar(select(func.count()).select_from(Nomination).where(
        Nomination.practice_id == practice.id, Nomination.state.in_(OPEN_NOMINATION_STATES)))


def _nomination_state(nomination, state: str) -> Step:
    before = nomination.state
    nomination.state = state
    return Step(before, state)


def _follow_nominations(practice) -> None:
    db.session.flush()
    practice.status = practice_state_after_nomination(practice.status, _open_count(practice))


def _assign(user, nomination, reason, payload) -> Step:
    email = str(payload.get("reviewer") or "").strip().lower()
    reviewer = db.session.scalar(select(User).where(func.lower(User.email) == email)) \
        if email else None
    if reviewer is None or not reviewer.active:
        raise Invalid([FieldError("reviewer", "không có tài khoản đang hoạt động với thư này")],
                      "Phân công")
    if not permissions.may_be_assigned(reviewer, nomination.practice):
        message = ("người thẩm định có vai trò tại chính xã, phường của mô hình (xung đột lợi "
                   "ích)" if permissions.reviewer_conflict(reviewer, nomination.practice) else
                   "không phải người thẩm định của địa bàn này")
        raise Invalid([FieldError("reviewer", message)], "Phân công")
    if any(a.reviewer_id == reviewer.id for a in nomination.current_assignments()):
        raise Conflict("Người này đã được phân công ở vòng thẩm định này.", code="duplicate",
                       fields={"reviewer": "Đã được phân công."})
    due = _due_date(payload.get("due"))
    nomination.assignments.append(ReviewAssignment(
        round=nomination.round, reviewer_id=reviewer.id, assigned_by_id=user.id, due_on=due))
    return Step(nomination.state, nomination.state,
                {"reviewer": reviewer.name, "reviewer_id": reviewer.id,
                 "due": due.isoformat()})


def _due_date(value) -> date:
    if value in (None, ""):
        return date.today() + timedelta(days=current_app.config["REGISTRY_REVIEW_DAYS"])
    try:
        due = date.fromisoformat(str(value))
    except ValueError:
        raise Invalid([FieldError("due", "ngày không hợp lệ (YYYY-MM-DD)")],
                      "Phân công") from None
    if due < date.today():
        raise Invalid([FieldError("due", "hạn thẩm định đã qua")], "Phân công")
    return due


def _review(user, nomination, reason, payload) -> Step:
    assignment = permissions.open_assignment(user, nomination)
    scale = criteria()["scale"]
    raw = payload.get("scores")
    errors = []
    scores = {}
    if not isinstance(raw, dict):
        errors.append(FieldError("scores", "phải là bảng điểm theo từng tiêu chí"))
        raw = {}
    codes = [c["code"] for c in criteria()["criteria"]]
    for key in raw:
        if key not in codes:
            errors.append(FieldError(f"scores.{key}", "không có tiêu chí này"))
    for code in codes:
        value = raw.get(code)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) \
                or not scale["min"] <= value <= scale["max"]:
            errors.append(FieldError(f"scores.{code}",
                                     f"chấm từ {scale['min']} đến {scale['max']}"))
        else:
            scores[code] = value
    comment = str(payload.get("comment") or reason or "").strip()
    if len(comment) > 10000:
        errors.append(FieldError("comment", "quá dài (tối đa 10000 ký tự)"))
    if errors:
        raise Invalid(errors, "Phiếu thẩm định")
    assignment.scores = scores
    assignment.comment = comment
    assignment.state = "submitted"
    assignment.submitted_at = utcnow()
    return Step(nomination.state, nomination.state, {"round": nomination.round})


def _decline(user, nomination, reason, payload) -> Step:
    assignment = permissions.open_assignment(user, nomination)
    assignment.state = "declined"
    assignment.comment = reason
    return Step(nomination.state, nomination.state, {"round": nomination.round})


def _decide(state: str):
    def apply(user, nomination, reason, payload) -> Step:
        if state == "approved":
            required = current_app.config["REGISTRY_REVIEWERS_REQUIRED"]
            current = [a for a in nomination.current_assignments() if a.state != "declined"]
            done = [a for a in current if a.state == "submitted"]
            if len(done) < required or len(done) < len(current):
                raise Invalid([FieldError("reviews", f"cần đủ phiếu thẩm định (ít nhất "
                                          f"{required}; đã có {len(done)}/{len(current)})")],
                              "Quyết định")
        step = _nomination_state(nomination, state)
        nomination.decided_at = utcnow()
        nomination.decided_by_id = user.id
        nomination.decision_reason = reason
        practice = nomination.practice
        if state == "approved":
            order = ("none", "commune", "province", "national")
            if order.index(nomination.level) > order.index(practice.recognition_level):
                practice.recognition_level = nomination.level
            practice.recognised_on = date.today()
            practice.status = "approved"
        _follow_nominations(practice)
        step.data["round"] = nomination.round
        return step
    return apply


def _resubmit(user, nomination, reason, payload) -> Step:
    step = _nomination_state(nomination, "review")
    nomination.round += 1
    step.data["round"] = nomination.round
    return step


def _escalate(user, nomination, reason, payload) -> Step:
    if nomination.level != "province":
        raise NotAllowedInState("Đề cử lên cấp trung ương", nomination.state,
                                allowed_actions(user, nomination), "nomination")
    practice = nomination.practice
    if "national" not in open_levels(practice):
        raise Conflict("Mô hình đã có đề cử hoặc đã được công nhận ở cấp trung ương.",
                       code="duplicate_nomination")
    national = Nomination(practice=practice, level="national", decision_unit="national",
                          reason=reason, periods=list(nomination.periods),
                          nominated_by_id=user.id, escalated_from_id=nomination.id)
    db.session.add(national)
    db.session.flush()
    append_event(user, practice, "nominate", Step(None, "review", {"level": "national"}),
                 reason, nomination=national)
    _follow_nominations(practice)
    return Step(nomination.state, nomination.state, {"national_nomination": national.id})


def _withdraw(user, nomination, reason, payload) -> Step:
    step = _nomination_state(nomination, "withdrawn")
    _follow_nominations(nomination.practice)
    return step


APPLY = {
    "submit": _submit,
    "verify": lambda user, p, reason, payload: _set_status(p, "registered"),
    "return": lambda user, p, reason, payload: _set_status(p, "returned"),
    "archive": _archive,
    "restore": _restore,
    "withdraw_recognition": _withdraw_recognition,
    "assign_reviewer": _assign,
    "review": _review,
    "decline_review": _decline,
    "approve": _decide("approved"),
    "reject": _decide("rejected"),
    "request_changes": _decide("changes_requested"),
    "resubmit": _resubmit,
    "escalate": _escalate,
    "withdraw": _withdraw,
}


# --- creating: a nomination, a replication, a commendation ---------------------------------

def _is_choice(value, choices) -> bool:
    """Whether a value sent by a client is one of `choices`: a string, never a JSON object
    or list (unhashable: `in` a set or dict would raise instead of answering no)."""
    return isinstance(value, str) and value in choices


def nominate(user, practice_id: int, *, level: str, reason: str, periods,
             source: str = "web") -> Nomination:
    """Put a registered model forward at province or national level, with the reports it
    rests on. One open nomination per model and level."""
    practice = load_practice(practice_id, user)
    if not permissions.can_nominate(user, practice):
        raise Forbidden("Chỉ cán bộ của xã, phường hoặc Ban Chỉ đạo có địa bàn được đề cử mô "
                        "hình này.")
    if practice.status not in ("registered", "nominated", "approved"):
        raise NotAllowedInState("Đề cử điển hình", practice.status,
                                allowed_actions(user, practice))
    errors = []
    if not _is_choice(level, NOMINATION_LEVELS):
        errors.append(FieldError("level", "cấp đề cử là province hoặc national"))
    reason = str(reason or "").strip()
    if not reason:
        errors.append(FieldError("reason", "cần nêu lý do đề cử"))
    known = {o.period for o in practice.outcomes}
    if not isinstance(periods, list) or not periods:
        errors.append(FieldError("periods", "chọn ít nhất một kỳ báo cáo kết quả làm căn cứ"))
        periods = []
    elif not all(isinstance(p, str) for p in periods):
        errors.append(FieldError("periods", "mỗi kỳ là một chuỗi như \"2024-H1\""))
        periods = []
    unknown = [p for p in periods if p not in known]
    if unknown:
        errors.append(FieldError("periods", "mô hình không có báo cáo kỳ: "
                                 + ", ".join(map(str, unknown))))
    if errors:
        raise Invalid(errors, "Hồ sơ đề cử")
    if level not in open_levels(practice):
        raise Conflict(f"Mô hình đã có đề cử đang mở hoặc đã được công nhận "
                       f"{LEVEL_LABELS[level]}.", code="duplicate_nomination",
                       fields={"level": "Đã có đề cử hoặc công nhận ở cấp này."})
    nomination = Nomination(practice=practice, level=level,
                            decision_unit=permissions.decision_unit(level,
                                                                    practice.province_code),
                            reason=reason, periods=sorted(periods),
                            nominated_by_id=getattr(user, "id", None))
    db.session.add(nomination)
    db.session.flush()
    before = practice.status
    _follow_nominations(practice)
    practice.updated_at = utcnow()
    step = Step(None, "review", {"level": level, "practice_from": before,
                                 "practice_to": practice.status})
    append_event(user, practice, "nominate", step, reason, nomination=nomination,
                 source=source)
    mail.queue_mail(mail.committee_of(nomination.decision_unit),
                    f"Đề cử mới cần thẩm định: {practice.name}",
                    f"Mô hình “{practice.name}” được đề cử điển hình {LEVEL_LABELS[level]}.\n"
                    f"Lý do: {reason}\nHãy phân công người thẩm định.",
                    mail.nomination_path(nomination.id), actor=user)
    db.session.flush()
    return nomination


def replicate(user, source_id: int, *, commune_code: str, copy=(), source: str = "web"):
    """A locality adopts an approved model: a new draft of its own commune, linked to the
    source, with the chosen fields copied (members and results are its own)."""
    from registry.services.practices import authorise_place, save_practice
    from registry.services.reference import check_record
    original = load_practice(source_id, user)
    if original.status != "approved":
        raise NotAllowedInState("Nhân rộng", original.status,
                                allowed_actions(user, original))
    copy = list(copy or [])
    unknown = [f for f in copy if not _is_choice(f, COPYABLE)]
    if unknown:
        raise Invalid([FieldError("copy", "không sao chép được: " + ", ".join(map(str, unknown))
                                  + " (được: " + ", ".join(COPYABLE) + ")")], "Nhân rộng")
    from registry.domain.records import practice_to_record
    base = practice_to_record(original, include_personal=False)
    raw = {"name": original.name, "kind": base["kind"], "commune_code": commune_code,
           **{key: base[key] for key in copy}}
    record = check_record(raw, allow_new_kinds=False)
    authorise_place(user, record)
    if record["commune_code"] == original.commune_code:
        raise Invalid([FieldError("commune_code", "nhân rộng ở xã, phường khác với mô hình "
                                  "gốc")], "Nhân rộng")
    copied, _ = save_practice(record, user=user, source=source, submit=False)
    copied.replicated_from = original
    copied.replicated_on = date.today()
    db.session.flush()
    append_event(user, copied, "replicate", Step(None, copied.status,
                                                 {"source_id": original.id}), "",
                 source=source)
    append_event(user, original, "replicated", Step(original.status, original.status,
                                                    {"replication_id": copied.id,
                                                     "commune_code": copied.commune_code}),
                 "", source=source)
    mail.queue_mail(mail.officers_of(original), f"Mô hình được nhân rộng: {original.name}",
                    f"“{original.name}” được nhân rộng tại {copied.commune.name}, "
                    f"{copied.province.name}.",
                    mail.practice_path(original.id), actor=user)
    db.session.flush()
    return copied


def commend(user, practice_id: int, *, kind: str, level: str, decided_on, decision_number: str,
            member_name: str = "", note: str = "", source: str = "web") -> Commendation:
    """Record a commendation of a model or one of its members."""
    practice = load_practice(practice_id, user)
    if not permissions.allows(user, "commend", practice):
        raise Forbidden("Chỉ Ban Chỉ đạo có địa bàn được ghi nhận khen thưởng.")
    if practice.status not in PUBLIC_STATES:
        raise NotAllowedInState("Khen thưởng", practice.status,
                                allowed_actions(user, practice))
    errors = []
    if not _is_choice(kind, COMMENDATION_KINDS):
        errors.append(FieldError("kind", "là khen_thuong hoặc bieu_duong"))
    if not _is_choice(level, COMMENDATION_LEVELS):
        errors.append(FieldError("level", "là commune, province hoặc national"))
    try:
        day = decided_on if isinstance(decided_on, date) else date.fromisoformat(
            str(decided_on))
        if day > date.today():
            errors.append(FieldError("decided_on", "ngày ở tương lai"))
    except ValueError:
        day = None
        errors.append(FieldError("decided_on", "ngày không hợp lệ (YYYY-MM-DD)"))
    texts = {"decision_number": (decision_number, 100), "member_name": (member_name, 200),
             "note": (note, 2000)}
    for name, (value, limit) in texts.items():
        if value is not None and not isinstance(value, str):
            errors.append(FieldError(name, "phải là một chuỗi"))
            texts[name] = ("", limit)
        elif len(value or "") > limit:
            errors.append(FieldError(name, f"quá dài (tối đa {limit} ký tự)"))
    decision_number, member_name, note = (texts[key][0] for key in texts)
    if not str(decision_number or "").strip() and "decision_number" not in {
            e.field for e in errors}:
        errors.append(FieldError("decision_number", "cần số quyết định"))
    if errors:
        raise Invalid(errors, "Khen thưởng")
    commendation = Commendation(
        practice_id=practice.id, kind=kind, level=level, decided_on=day,
        decision_number=str(decision_number).strip(), member_name=str(member_name or "").strip(),
        note=str(note or "").strip(), recorded_by_id=getattr(user, "id", None))
    db.session.add(commendation)
    practice.updated_at = utcnow()
    append_event(user, practice, "commend", Step(practice.status, practice.status,
                                                 {"kind": kind, "level": level,
                                                  "decision_number": commendation.decision_number}),
                 note, source=source)
    db.session.flush()
    return commendation


# --- who is told -----------------------------------------------------------------------------

def tell(user, transition: Transition, subject, practice, reason: str, step: Step) -> None:
    """Queue the mail an action causes (registry.services.mail)."""
    action = transition.action
    if isinstance(subject, Nomination):
        path = mail.nomination_path(subject.id)
        if action in ("approve", "reject", "request_changes"):
            recipients = mail.officers_of(practice) + [subject.nominated_by]
        elif action == "assign_reviewer":
            recipients = [db.session.get(User, step.data["reviewer_id"])]
        elif action == "escalate":
            recipients = mail.committee_of("national")
        else:
            recipients = mail.committee_of(subject.decision_unit)
    else:
        path = mail.practice_path(practice.id)
        recipients = (mail.committees_covering(practice) if action == "submit"
                      else mail.officers_of(practice))
    what = transition.label_vi
    body = f"Mô hình “{practice.name}”: {what}."
    if step.to_state and step.to_state != step.from_state and isinstance(subject, Practice):
        body += f"\nTrạng thái mới: {state_label(step.to_state)}."
    if reason:
        body += f"\nLý do / ý kiến: {reason}"
    mail.queue_mail(recipients, f"{what}: {practice.name}", body, path, actor=user)


# --- reviews as each person may see them ------------------------------------------------------

@dataclass
class ReviewsView:
    """The assignments a user may see (blind review: all only for the committee, or for a
    reviewer once their own is sent) and, for those who see all, the current round's mean
    score per criterion (rounded to 2 places; None without a score)."""

    see_all: bool
    assignments: list
    means: dict


def visible_reviews(user, nomination) -> ReviewsView:
    see_all = permissions.can_see_all_scores(user, nomination)
    user_id = getattr(user, "id", None)
    shown = [a for a in nomination.assignments if see_all or a.reviewer_id == user_id]
    means = {}
    if see_all:
        done = [a for a in nomination.current_assignments() if a.state == "submitted"]
        for criterion in criteria()["criteria"]:
            values = [a.scores[criterion["code"]] for a in done
                      if a.scores.get(criterion["code"]) is not None]
            means[criterion["code"]] = round(sum(values) / len(values), 2) if values else None
    return ReviewsView(see_all, shown, means)


# --- the timeline ----------------------------------------------------------------------------

def timeline(practice_id: int) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.practice_id == practice_id)
                                   .order_by(Event.at, Event.id)))


def nomination_timeline(nomination_id: int) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.nomination_id == nomination_id)
                                   .order_by(Event.at, Event.id)))


def list_events(*, since: datetime | None = None, until: datetime | None = None,
                actor_id: int | None = None, province_code: str | None = None,
                limit: int = 200) -> list[Event]:
    """Administrators' view of the event log, by date, actor or place."""
    query = select(Event).order_by(Event.at.desc(), Event.id.desc()).limit(limit)
    if since:
        query = query.where(Event.at >= since)
    if until:
        query = query.where(Event.at < until)
    if actor_id:
        query = query.where(Event.actor_id == actor_id)
    if province_code:
        query = query.where(Event.province_code == province_code)
    return list(db.session.scalars(query))
