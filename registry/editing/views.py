"""Editing pages: load, authorise (registry.permissions), validate, call one service, respond."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from registry import permissions
from registry.editing import choices
from registry.editing.forms import (
    BLANK_MEMBER_ROWS, ConfirmForm, MembersForm, OutcomeForm, PracticeForm,
)
from registry.extensions import db
from registry.interchange.records import RecordError, outcome_to_dict, validate_record
from registry.models.places import Commune
from registry.models.practices import INDICATORS, Practice
from registry.services.practices import (
    ConcurrentEditError, add_outcome_report, archive_practice, save_practice,
)
from registry.vocabularies import VocabularyIndex

bp = Blueprint("editing", __name__)

CONFLICT_MESSAGE = _l("Mô hình đã được người khác thay đổi trong lúc bạn sửa. "
                      "Vui lòng tải lại trang và nhập lại thay đổi.")
FORM_ERROR_MESSAGE = _l("Chưa lưu được: vui lòng sửa các mục báo lỗi bên dưới.")
# Statuses from which the editor may still save a draft or send the model for verification.
DRAFT_STATES = ("draft", "returned")


def load_practice(practice_id: int, can) -> Practice:
    """The practice, or 404 if the user may not see it, 403 if they may not do this."""
    practice = db.session.get(Practice, practice_id)
    if practice is None or not permissions.can_view_practice(current_user, practice):
        abort(404)
    if not can(current_user, practice):
        abort(403)
    return practice


def apply_record_errors(error: RecordError, locate, fallback: list) -> None:
    """Put each field error of the write path next to its form field (first letter up);
    `locate(record_field)` finds the form field, errors it cannot place go to `fallback`."""
    for item in error.errors:
        message = item.message[:1].upper() + item.message[1:]
        field = locate(item.field)
        if field is not None:
            field.errors = list(field.errors) + [message]
        else:
            fallback.append(message)


def practice_field(form, record_field: str):
    """name / core_members[2].phone -> the form field named like the record key, if any."""
    fields = form._fields
    base = record_field.split("[")[0].split(".")[-1] if "." in record_field \
        else record_field.split("[")[0]
    return fields.get(record_field) or fields.get(base)


def fill_practice_form(form: PracticeForm, practice: Practice) -> None:
    form.version.data = str(practice.version)
    form.name.data = practice.name
    form.kind.data = practice.kind.code
    form.summary.data = practice.summary
    form.description.data = practice.description
    form.province_code.data = practice.province_code
    form.commune_code.data = practice.commune_code
    form.hamlet.data = practice.hamlet
    form.setting.data = practice.setting.code if practice.setting else ""
    form.lead_organisation.data = (practice.lead_organisation.code
                                   if practice.lead_organisation else "")
    form.forms.data = [t.code for t in practice.forms]
    form.domains.data = [t.code for t in practice.domains]
    form.target_groups.data = [t.code for t in practice.target_groups]
    form.founded_on.data = practice.founded_on
    form.participants.data = practice.participants
    form.households.data = practice.households


def practice_raw(form: PracticeForm) -> dict:
    """The interchange record the form stands for (validated again by validate_record)."""
    return {
        "name": form.name.data, "kind": form.kind.data, "summary": form.summary.data or "",
        "description": form.description.data or "", "commune_code": form.commune_code.data,
        "hamlet": form.hamlet.data or "", "setting": form.setting.data or None,
        "forms": form.forms.data or [], "domains": form.domains.data or [],
        "target_groups": form.target_groups.data or [],
        "lead_organisation": form.lead_organisation.data or None,
        "founded_on": form.founded_on.data.isoformat() if form.founded_on.data else None,
        "participants": form.participants.data, "households": form.households.data,
    }


def base_raw(practice: Practice) -> dict:
    """The required keys of a record for updates that change one part (members, results)."""
    return {"name": practice.name, "kind": practice.kind.code,
            "commune_code": practice.commune_code}


def chosen_status(practice: Practice | None, action: str) -> str | None:
    if practice is None:
        return "submitted" if action == "submit" else "draft"
    if practice.status in DRAFT_STATES and action == "submit":
        return "submitted"
    return None


@bp.route("/practices/new", methods=["GET", "POST"])
@login_required
def new_practice():
    if not permissions.can_create_practice(current_user):
        abort(403)
    return practice_form_page(None)


@bp.route("/practices/<int:practice_id>/edit", methods=["GET", "POST"])
@login_required
def edit_practice(practice_id: int):
    return practice_form_page(load_practice(practice_id, permissions.can_edit_practice))


def practice_form_page(practice: Practice | None):
    form = PracticeForm()
    if request.method == "GET":
        if practice is not None:
            fill_practice_form(form, practice)
        else:
            form.province_code.data = request.args.get("province", "")
    province = form.province_code.data or (practice.province_code if practice else None)
    form.set_choices(choices.vocabulary_choices() | choices.place_choices(current_user,
                                                                          province))
    if request.method == "GET" or request.form.get("action") == "province":
        if practice is None and len(form.commune_code.choices) == 1:
            form.commune_code.data = form.commune_code.choices[0][0]  # the officer's commune
        return render_practice_form(form, practice)
    if practice is not None and form.version.data != str(practice.version):
        return render_practice_form(form, practice, CONFLICT_MESSAGE, 409)
    valid = form.validate()
    valid = form.check_choices() and valid
    if not valid:
        return render_practice_form(form, practice, FORM_ERROR_MESSAGE, 400)
    commune = db.session.get(Commune, form.commune_code.data)
    if (practice is None or commune.code != practice.commune_code) and \
            not permissions.can_create_practice(current_user, commune.code,
                                                commune.province_code):
        abort(403)
    other_errors: list[str] = []
    try:
        record = validate_record(practice_raw(form), VocabularyIndex(), allow_new_kinds=False)
        saved, outcome = save_practice(
            record, user=current_user, source="web", practice=practice,
            expected_version=int(form.version.data) if practice else None,
            status=chosen_status(practice, request.form.get("action", "")))
        db.session.commit()
    except RecordError as error:
        db.session.rollback()
        apply_record_errors(error, lambda f: practice_field(form, f), other_errors)
        return render_practice_form(form, practice, FORM_ERROR_MESSAGE, 400, other_errors)
    except (ConcurrentEditError, StaleDataError):
        db.session.rollback()
        return render_practice_form(form, practice, CONFLICT_MESSAGE, 409)
    flash({"created": _("Đã tạo mô hình."), "updated": _("Đã lưu thay đổi."),
           "unchanged": _("Không có thay đổi nào để lưu.")}[outcome], "success")
    return redirect(url_for("catalogue.detail", practice_id=saved.id))


def render_practice_form(form, practice, message=None, status=200, other_errors=()):
    return render_template("editing/practice_form.html", form=form, practice=practice,
                           message=message, other_errors=list(other_errors),
                           conflict=message is CONFLICT_MESSAGE,
                           choose_place=choices.may_choose_any_place(current_user),
                           draft_states=DRAFT_STATES), status


@bp.route("/practices/<int:practice_id>/archive", methods=["GET", "POST"])
@login_required
def archive(practice_id: int):
    practice = load_practice(practice_id, permissions.can_archive_practice)
    form = ConfirmForm()
    if request.method == "POST" and form.validate():
        archive_practice(practice, user=current_user, source="web")
        db.session.commit()
        flash(_("Đã chuyển mô hình vào lưu trữ."), "success")
        return redirect(url_for("catalogue.detail", practice_id=practice.id))
    return render_template(
        "editing/confirm.html", form=form, practice=practice, title=_("Lưu trữ mô hình"),
        question=_("Chuyển mô hình “%(name)s” vào lưu trữ? Mô hình sẽ không còn hiển "
                   "thị trong danh mục; quản trị viên có thể khôi phục.", name=practice.name),
        button=_("Lưu trữ")), 400 if request.method == "POST" else 200


@bp.route("/practices/<int:practice_id>/members", methods=["GET", "POST"])
@login_required
def members(practice_id: int):
    practice = load_practice(practice_id, permissions.can_edit_practice)
    if request.method == "GET":
        form = MembersForm(data={"version": str(practice.version), "members": [
            {"name": m.name, "role": m.role.code if m.role else "", "phone": m.phone}
            for m in practice.core_members]})
        for _row in range(BLANK_MEMBER_ROWS):
            form.members.append_entry()
    else:
        form = MembersForm()
    form.set_role_choices(choices.term_choices("member_role", blank=True))
    if request.method == "GET":
        return render_members(form, practice)
    if form.version.data != str(practice.version):
        return render_members(form, practice, CONFLICT_MESSAGE, 409)
    valid = form.validate()
    valid = form.check_choices() and valid
    if not valid:
        return render_members(form, practice, FORM_ERROR_MESSAGE, 400)
    kept = [entry.form for entry in form.members
            if not entry.form.remove.data and not entry.form.is_blank()]
    raw = base_raw(practice) | {"core_members": [
        {"name": row.name.data.strip(), "role": row.role.data or None,
         "phone": (row.phone.data or "").strip()} for row in kept]}
    other_errors: list[str] = []
    try:
        record = validate_record(raw, VocabularyIndex(), allow_new_kinds=False)
        save_practice(record, user=current_user, source="web", practice=practice,
                      expected_version=int(form.version.data))
        db.session.commit()
    except RecordError as error:
        db.session.rollback()
        apply_record_errors(error, lambda f: _member_field(f, kept), other_errors)
        return render_members(form, practice, FORM_ERROR_MESSAGE, 400, other_errors)
    except (ConcurrentEditError, StaleDataError):
        db.session.rollback()
        return render_members(form, practice, CONFLICT_MESSAGE, 409)
    flash(_("Đã lưu danh sách lực lượng nòng cốt."), "success")
    return redirect(url_for("catalogue.detail", practice_id=practice.id) + "#members")


def _member_field(field: str, rows: list):
    """core_members[3].phone -> the phone field of the third member row that was sent."""
    row = _row_of(field, rows)
    return getattr(row, field.rsplit(".", 1)[-1], None) if row else None


def _row_of(field: str, rows: list):
    """core_members[3].phone -> the third row that was sent (the record counts from 1)."""
    if not field.startswith("core_members["):
        return None
    try:
        index = int(field[len("core_members["):field.index("]")]) - 1
    except ValueError:
        return None
    return rows[index] if 0 <= index < len(rows) else None


def render_members(form, practice, message=None, status=200, other_errors=()):
    return render_template("editing/members.html", form=form, practice=practice,
                           message=message, other_errors=list(other_errors)), status


def indicator_labels() -> dict[str, str]:
    labels = dict(choices.term_choices("indicator"))
    return {key: labels.get(key, key)[:1].upper() + labels.get(key, key)[1:]
            for key in INDICATORS}


def outcome_raw(form: OutcomeForm) -> dict:
    raw = {"period": (form.period.data or "").strip().upper(),
           "narrative": form.narrative.data or ""}
    raw.update({key: getattr(form, key).data for key in INDICATORS})
    return raw


def outcome_field(form: OutcomeForm, field: str):
    """outcome.period / outcomes[2].tips_reported / period -> the form field."""
    return getattr(form, field.rsplit(".", 1)[-1], None) if field else None


@bp.route("/practices/<int:practice_id>/outcomes/new", methods=["GET", "POST"])
@bp.route("/practices/<int:practice_id>/outcomes/<period>/edit", methods=["GET", "POST"])
@login_required
def outcome(practice_id: int, period: str | None = None):
    practice = load_practice(practice_id, permissions.can_edit_practice)
    existing = next((o for o in practice.outcomes if o.period == period), None)
    if period is not None and existing is None:
        abort(404)
    form = OutcomeForm(data=outcome_to_dict(existing) if existing and
                       request.method == "GET" else None)
    if existing is not None:
        form.period.data = existing.period  # the period of a report is fixed once saved
    if request.method == "GET":
        form.version.data = str(practice.version)
    elif existing is not None and form.version.data != str(practice.version):
        return render_outcome(form, practice, existing, CONFLICT_MESSAGE, 409)
    if request.method == "GET" or not form.validate():
        status = 400 if request.method == "POST" else 200
        return render_outcome(form, practice, existing,
                              FORM_ERROR_MESSAGE if status == 400 else None, status)
    other_errors: list[str] = []
    try:
        if existing is None:
            add_outcome_report(practice, outcome_raw(form), user=current_user, source="web")
        else:
            reports = [outcome_raw(form) if o.period == period else outcome_to_dict(o)
                       for o in practice.outcomes]
            record = validate_record(base_raw(practice) | {"outcomes": reports},
                                     VocabularyIndex(), allow_new_kinds=False)
            save_practice(record, user=current_user, source="web", practice=practice,
                          expected_version=int(form.version.data))
        db.session.commit()
    except RecordError as error:
        db.session.rollback()
        apply_record_errors(error, lambda f: outcome_field(form, f), other_errors)
        return render_outcome(form, practice, existing, FORM_ERROR_MESSAGE, 400, other_errors)
    except (ConcurrentEditError, StaleDataError, IntegrityError):
        # IntegrityError: the same period was reported by someone else meanwhile.
        db.session.rollback()
        return render_outcome(form, practice, existing, CONFLICT_MESSAGE, 409)
    flash(_("Đã lưu báo cáo kết quả."), "success")
    return redirect(url_for("catalogue.detail", practice_id=practice.id) + "#outcomes")


def render_outcome(form, practice, existing, message=None, status=200, other_errors=()):
    return render_template("editing/outcome_form.html", form=form, practice=practice,
                           existing=existing, labels=indicator_labels(), message=message,
                           other_errors=list(other_errors)), status
