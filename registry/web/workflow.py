"""Workflow pages: an action with its reason, nominating, a nomination's file with reviews,
replicating, commending, the inbox and the administrators' event log. Each page loads,
calls one service inside one unit of work, and redirects; errors come back on the form."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from registry import permissions
from registry.domain.errors import DomainError
from registry.domain.workflow import TRANSITION_BY_ACTION, possibly_inactive
from registry.editing import choices
from registry.extensions import db
from registry.i18n import current_locale
from registry.models.accounts import User
from registry.models.workflow import Commendation, Nomination
from registry.services import inbox as inbox_service, workflow
from registry.services.practices import load_practice
from registry.services.uow import unit_of_work
from registry.web.failures import page_failure

bp = Blueprint("workflow", __name__)

# Steps of a timeline that are not transitions of the table.
OTHER_STEPS = {"nominate": _l("Đề cử điển hình"), "replicate": _l("Nhân rộng từ mô hình khác"),
               "replicated": _l("Được nhân rộng tại địa phương khác"),
               "commend": _l("Ghi nhận khen thưởng")}


# The inbox's sections (registry.services.inbox.SECTIONS), in the interface language.
INBOX_LABELS = {"verify": _l("Mô hình chờ xác minh"),
                "returned": _l("Mô hình bị trả lại để bổ sung"),
                "review": _l("Hồ sơ cần chấm điểm thẩm định"),
                "decide": _l("Đề cử chờ quyết định"),
                "changes": _l("Đề cử được yêu cầu bổ sung"),
                "overdue_reports": _l("Mô hình quá hạn báo cáo kết quả")}


def commendation_label(kind: str) -> str:
    return {"khen_thuong": _("Khen thưởng"), "bieu_duong": _("Biểu dương")}.get(kind, kind)


def action_label(action: str) -> str:
    """The label of a timeline step or action, in the interface language."""
    if action in TRANSITION_BY_ACTION:
        return TRANSITION_BY_ACTION[action].label(current_locale())
    return str(OTHER_STEPS.get(action, action))


class CsrfForm(FlaskForm):
    """Only the CSRF token: the fields are read from request.form and checked by services."""


def _load(loader, *args):
    try:
        return loader(*args)
    except DomainError as error:
        page_failure(error)
        raise


def _version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.strip().isdigit() else None


def _run(render, work):
    """Run `work(uow)` in one unit of work; on a domain error render the page again."""
    form = CsrfForm()
    if not form.validate():
        return render([_("Phiên làm việc đã hết hạn, vui lòng tải lại trang.")], 400)
    try:
        with unit_of_work(current_user, "web") as uow:
            return work(uow)
    except DomainError as error:
        failure = page_failure(error)
        return render([str(failure.message)] + failure.other_errors, failure.status)


# --- one action with its reason ------------------------------------------------------------

@bp.route("/practices/<int:practice_id>/actions/<action>", methods=["GET", "POST"])
@login_required
def practice_action(practice_id: int, action: str):
    transition = TRANSITION_BY_ACTION.get(action)
    if transition is None or transition.subject != "practice":
        abort(404)
    practice = _load(load_practice, practice_id, current_user)

    def render(errors=(), status=200):
        return render_template("workflow/action.html", subject=practice, practice=practice,
                               transition=transition, errors=list(errors),
                               gaps=workflow.submission_gaps(practice)
                               if action == "submit" else [],
                               cancel=url_for("catalogue.detail", practice_id=practice.id)
                               ), status

    if request.method == "GET":
        if action not in workflow.allowed_actions(current_user, practice):
            abort(403 if practice.status in transition.from_states else 409)
        return render()

    def work(uow):
        workflow.perform(uow.user, "practice", practice_id, action, version=_version(),
                         reason=request.form.get("reason", ""), source=uow.source)
        flash(_("Đã thực hiện: %(action)s.", action=transition.label_vi), "success")
        return redirect(url_for("catalogue.detail", practice_id=practice_id) + "#timeline")
    return _run(render, work)


@bp.route("/nominations/<int:nomination_id>/actions/<action>", methods=["POST"])
@login_required
def nomination_action(nomination_id: int, action: str):
    transition = TRANSITION_BY_ACTION.get(action)
    if transition is None or transition.subject != "nomination":
        abort(404)

    def work(uow):
        workflow.perform(uow.user, "nomination", nomination_id, action, version=_version(),
                         reason=request.form.get("reason", ""), payload=request.form.to_dict(),
                         source=uow.source)
        flash(_("Đã thực hiện: %(action)s.", action=transition.label_vi), "success")
        return redirect(url_for("workflow.nomination", nomination_id=nomination_id))
    return _run(lambda errors, status=200: nomination_page(nomination_id, errors, status), work)


@bp.route("/nominations/<int:nomination_id>/reviews", methods=["POST"])
@login_required
def review(nomination_id: int):
    scores = {key.removeprefix("score-"): value for key, value in request.form.items()
              if key.startswith("score-")}

    def work(uow):
        workflow.perform(uow.user, "nomination", nomination_id, "review", version=None,
                         payload={"scores": scores, "comment": request.form.get("comment")},
                         source=uow.source)
        flash(_("Đã gửi phiếu thẩm định."), "success")
        return redirect(url_for("workflow.nomination", nomination_id=nomination_id))
    return _run(lambda errors, status=200: nomination_page(nomination_id, errors, status), work)


# --- a nomination's file -------------------------------------------------------------------

@bp.get("/nominations/<int:nomination_id>")
@login_required
def nomination(nomination_id: int):
    return nomination_page(nomination_id)


def nomination_page(nomination_id: int, errors=(), status: int = 200):
    item = _load(workflow.load_nomination, nomination_id, current_user)
    actions = workflow.allowed_actions(current_user, item)
    view = workflow.visible_reviews(current_user, item)
    return render_template(
        "workflow/nomination.html", nomination=item, practice=item.practice, actions=actions,
        transitions=TRANSITION_BY_ACTION, reviews=view.assignments, see_all=view.see_all,
        means=view.means, criteria=workflow.criteria(), errors=list(errors), form=CsrfForm(),
        events=workflow.nomination_timeline(item.id),
        my_assignment=permissions.open_assignment(current_user, item)), status


# --- nominating, replicating, commending ---------------------------------------------------

@bp.route("/practices/<int:practice_id>/nominate", methods=["GET", "POST"])
@login_required
def nominate(practice_id: int):
    practice = _load(load_practice, practice_id, current_user)
    if not permissions.can_nominate(current_user, practice):
        abort(403)

    def render(errors=(), status=200):
        return render_template("workflow/nominate.html", practice=practice,
                               levels=workflow.open_levels(practice), errors=list(errors),
                               form=CsrfForm()), status
    if request.method == "GET":
        return render()

    def work(uow):
        item = workflow.nominate(uow.user, practice_id, level=request.form.get("level"),
                                 reason=request.form.get("reason", ""),
                                 periods=request.form.getlist("periods"), source=uow.source)
        flash(_("Đã gửi hồ sơ đề cử."), "success")
        return redirect(url_for("workflow.nomination", nomination_id=item.id))
    return _run(render, work)


@bp.route("/practices/<int:practice_id>/replicate", methods=["GET", "POST"])
@login_required
def replicate(practice_id: int):
    practice = _load(load_practice, practice_id, current_user)
    if not permissions.can_create_practice(current_user):
        abort(403)
    places = choices.own_communes(current_user)  # administrators type a commune code

    def render(errors=(), status=200):
        return render_template("workflow/replicate.html", practice=practice, places=places,
                               copyable=workflow.COPYABLE, errors=list(errors),
                               form=CsrfForm()), status
    if request.method == "GET":
        return render()

    def work(uow):
        copied = workflow.replicate(uow.user, practice_id,
                                    commune_code=request.form.get("commune_code", ""),
                                    copy=request.form.getlist("copy"), source=uow.source)
        flash(_("Đã tạo bản nháp mô hình nhân rộng; hãy bổ sung và gửi xác minh."), "success")
        return redirect(url_for("catalogue.detail", practice_id=copied.id))
    return _run(render, work)


@bp.route("/practices/<int:practice_id>/commend", methods=["GET", "POST"])
@login_required
def commend(practice_id: int):
    practice = _load(load_practice, practice_id, current_user)
    if not permissions.allows(current_user, "commend", practice):
        abort(403)

    def render(errors=(), status=200):
        return render_template("workflow/commend.html", practice=practice,
                               kinds=workflow.COMMENDATION_KINDS,
                               levels=workflow.COMMENDATION_LEVELS, errors=list(errors),
                               form=CsrfForm(), today=date.today()), status
    if request.method == "GET":
        return render()

    def work(uow):
        workflow.commend(uow.user, practice_id, kind=request.form.get("kind"),
                         level=request.form.get("level"),
                         decided_on=request.form.get("decided_on", ""),
                         decision_number=request.form.get("decision_number", ""),
                         member_name=request.form.get("member_name", ""),
                         note=request.form.get("note", ""), source=uow.source)
        flash(_("Đã ghi nhận khen thưởng."), "success")
        return redirect(url_for("catalogue.detail", practice_id=practice_id) + "#recognition")
    return _run(render, work)


# --- the inbox and the event log -------------------------------------------------------------

@bp.get("/inbox")
@login_required
def inbox():
    return render_template("workflow/inbox.html", sections=inbox_service.inbox(current_user),
                           labels=INBOX_LABELS)


@bp.get("/events")
@login_required
def events():
    if not permissions.is_admin(current_user):
        abort(403)
    args = request.args

    def day(name):
        try:
            value = date.fromisoformat(args.get(name, ""))
        except ValueError:
            return None
        return datetime.combine(value, time.min, tzinfo=timezone.utc)
    until = day("until")
    actor = db.session.scalar(select(User.id).where(User.email == args.get("actor", "")))
    rows = workflow.list_events(since=day("since"),
                                until=until + timedelta(days=1) if until else None,
                                actor_id=actor, province_code=args.get("province") or None)
    return render_template("workflow/events.html", events=rows, args=args)


def practice_workflow(practice) -> dict:
    """What the model page shows of the workflow (actions, nominations, timeline,
    commendations), for the template."""
    months = current_app.config["REGISTRY_INACTIVE_MONTHS"]
    nominations = list(db.session.scalars(select(Nomination).where(
        Nomination.practice_id == practice.id).order_by(Nomination.id)))
    return {
        "actions": workflow.allowed_actions(current_user, practice),
        "transitions": TRANSITION_BY_ACTION,
        "nominations": [n for n in nominations
                        if permissions.can_view_nomination(current_user, n)],
        "events": workflow.timeline(practice.id),
        "commendations": list(db.session.scalars(select(Commendation).where(
            Commendation.practice_id == practice.id).order_by(Commendation.decided_on))),
        "show_actors": bool(getattr(current_user, "grants", None)),
        "possibly_inactive": possibly_inactive(
            practice.status, inbox_service.activity_dates([practice])[practice.id],
            date.today(), months),
        "inactive_months": months,
    }
