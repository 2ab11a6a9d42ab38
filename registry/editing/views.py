"""Editing pages: load, authorise (registry.permissions), validate, call one service, respond."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from registry import permissions
from registry.domain.errors import DomainError
from registry.domain.fields import INDICATORS
from registry.domain.records import outcome_to_dict
from registry.domain.workflow import DRAFT_STATES
from registry.editing import choices
from registry.editing.forms import (
    BLANK_MEMBER_ROWS, ConfirmForm, MembersForm, OutcomeForm, PracticeForm,
)
from registry.models.practices import Practice
from registry.services import practices as service
from registry.services.reference import check_record
from registry.services.uow import unit_of_work
from registry.web.failures import (
    CONFLICT_MESSAGE, FORM_ERROR_MESSAGE, PageFailure, page_failure,
)

bp = Blueprint("editing", __name__)


def load_practice(practice_id: int, action: str) -> Practice:
    """The practice, or 404 if the user may not see it, 403 if they may not `action` it."""
    try:
        return service.load_practice(practice_id, current_user, action)
    except DomainError as error:
        page_failure(error)
        raise


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


@bp.route("/practices/new", methods=["GET", "POST"])
@login_required
def new_practice():
    if not permissions.can_create_practice(current_user):
        abort(403)
    return practice_form_page(None)


@bp.route("/practices/<int:practice_id>/edit", methods=["GET", "POST"])
@login_required
def edit_practice(practice_id: int):
    return practice_form_page(load_practice(practice_id, "edit"))


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
        return render_practice_form(form, practice, PageFailure(CONFLICT_MESSAGE, 409))
    valid = form.validate()
    valid = form.check_choices() and valid
    if not valid:
        return render_practice_form(form, practice, PageFailure(FORM_ERROR_MESSAGE, 400))
    try:
        with unit_of_work(current_user, "web") as uow:
            record = check_record(practice_raw(form), allow_new_kinds=False)
            service.authorise_place(uow.user, record, practice)
            saved, outcome = service.save_practice(
                record, user=uow.user, source=uow.source, practice=practice,
                expected_version=int(form.version.data) if practice else None,
                submit=request.form.get("action") == "submit")
    except DomainError as error:
        return render_practice_form(form, practice, page_failure(
            error, lambda f: practice_field(form, f)))
    if request.form.get("action") == "submit" and saved.status == "submitted":
        flash(_("Đã gửi mô hình để xác minh. Ủy ban và ban chỉ đạo phụ trách sẽ xem xét."),
              "success")
    else:
        flash({"created": _("Đã tạo mô hình."), "updated": _("Đã lưu thay đổi."),
               "unchanged": _("Không có thay đổi nào để lưu.")}[outcome], "success")
    return redirect(url_for("catalogue.detail", practice_id=saved.id))


def render_practice_form(form, practice, failure: PageFailure | None = None):
    return render_template("editing/practice_form.html", form=form, practice=practice,
                           failure=failure,
                           choose_place=choices.may_choose_any_place(current_user),
                           draft_states=DRAFT_STATES), failure.status if failure else 200


@bp.route("/practices/<int:practice_id>/archive", methods=["GET", "POST"])
@login_required
def archive(practice_id: int):
    practice = load_practice(practice_id, "archive")
    form = ConfirmForm()
    if request.method == "POST" and form.validate():
        with unit_of_work(current_user, "web") as uow:
            service.archive_practice(practice, user=uow.user, source=uow.source)
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
    practice = load_practice(practice_id, "edit")
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
        return render_members(form, practice, PageFailure(CONFLICT_MESSAGE, 409))
    valid = form.validate()
    valid = form.check_choices() and valid
    if not valid:
        return render_members(form, practice, PageFailure(FORM_ERROR_MESSAGE, 400))
    kept = [entry.form for entry in form.members
            if not entry.form.remove.data and not entry.form.is_blank()]
    raw = base_raw(practice) | {"core_members": [
        {"name": row.name.data.strip(), "role": row.role.data or None,
         "phone": (row.phone.data or "").strip()} for row in kept]}
    try:
        with unit_of_work(current_user, "web") as uow:
            service.save_practice(check_record(raw, allow_new_kinds=False), user=uow.user,
                                  source=uow.source, practice=practice,
                                  expected_version=int(form.version.data))
    except DomainError as error:
        return render_members(form, practice, page_failure(
            error, lambda f: _member_field(f, kept)))
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


def render_members(form, practice, failure: PageFailure | None = None):
    return render_template("editing/members.html", form=form, practice=practice,
                           failure=failure), failure.status if failure else 200


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
    practice = load_practice(practice_id, "edit")
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
        return render_outcome(form, practice, existing, PageFailure(CONFLICT_MESSAGE, 409))
    if request.method == "GET":
        return render_outcome(form, practice, existing)
    if not form.validate():
        return render_outcome(form, practice, existing, PageFailure(FORM_ERROR_MESSAGE, 400))
    try:
        # A period reported by someone else meanwhile is a Conflict (a duplicate key).
        with unit_of_work(current_user, "web") as uow:
            if existing is None:
                service.add_outcome_report(practice, outcome_raw(form), user=uow.user,
                                           source=uow.source)
            else:
                reports = [outcome_raw(form) if o.period == period else outcome_to_dict(o)
                           for o in practice.outcomes]
                service.save_practice(
                    check_record(base_raw(practice) | {"outcomes": reports},
                                 allow_new_kinds=False),
                    user=uow.user, source=uow.source, practice=practice,
                    expected_version=int(form.version.data))
    except DomainError as error:
        return render_outcome(form, practice, existing, page_failure(
            error, lambda f: outcome_field(form, f)))
    flash(_("Đã lưu báo cáo kết quả."), "success")
    return redirect(url_for("catalogue.detail", practice_id=practice.id) + "#outcomes")


def render_outcome(form, practice, existing, failure: PageFailure | None = None):
    return render_template("editing/outcome_form.html", form=form, practice=practice,
                           existing=existing, labels=indicator_labels(),
                           failure=failure), failure.status if failure else 200
