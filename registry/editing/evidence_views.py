"""Evidence pages: upload (checked by content), download to entitled users, delete."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from registry.services import uploads
from registry.editing.forms import ConfirmForm, EvidenceForm
from registry.editing.views import bp, load_practice
from registry.extensions import db
from registry.models.practices import Evidence, Practice
from registry.services.evidence import CATEGORIES, delete_evidence, store_evidence
from registry.services.uow import unit_of_work
from registry.web.failures import FORM_ERROR_MESSAGE, PageFailure


@bp.route("/practices/<int:practice_id>/evidence/new", methods=["GET", "POST"])
@login_required
def upload_evidence(practice_id: int):
    practice = load_practice(practice_id, "edit")
    form = EvidenceForm()
    form.category.choices = list(CATEGORIES)
    if request.method == "GET":
        return render_upload(form, practice)
    if not form.validate():
        return render_upload(form, practice, PageFailure(FORM_ERROR_MESSAGE, 400))
    try:
        checked = uploads.check_upload(request.files.get("file"))
    except uploads.UploadError as error:
        form.file.errors = list(form.file.errors) + [str(error)]
        return render_upload(form, practice, PageFailure(FORM_ERROR_MESSAGE, 400))
    with unit_of_work(current_user, "web") as uow:
        store_evidence(practice, checked, user=uow.user, title=form.title.data or "",
                       category=form.category.data, source=uow.source)
    flash(_("Đã tải lên tài liệu."), "success")
    return redirect(url_for("catalogue.detail", practice_id=practice.id) + "#evidence")


def render_upload(form, practice, failure: PageFailure | None = None):
    return render_template("editing/evidence_form.html", form=form, practice=practice,
                           failure=failure,
                           limit=uploads.format_size(uploads.max_upload_bytes())), \
        failure.status if failure else 200


@bp.errorhandler(413)
def upload_too_large(error):
    limit = uploads.format_size(uploads.max_upload_bytes())
    return render_template("editing/message.html", title=_("Tệp quá lớn"),
                           message=_("Tệp quá lớn: tối đa %(limit)s.", limit=limit)), 413


def load_evidence(practice_id: int, evidence_id: int, action: str
                  ) -> tuple[Practice, Evidence]:
    practice = load_practice(practice_id, action)
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or evidence.practice_id != practice.id:
        abort(404)
    return practice, evidence


@bp.get("/practices/<int:practice_id>/evidence/<int:evidence_id>")
@login_required
def download_evidence(practice_id: int, evidence_id: int):
    practice, evidence = load_evidence(practice_id, evidence_id, "view_personal_data")
    try:
        path = uploads.stored_path(evidence.stored_name or "")
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=evidence.content_type, conditional=True,
                         max_age=0)
    response.headers["Content-Disposition"] = uploads.content_disposition(
        uploads.download_name(evidence.original_filename, evidence.content_type))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/practices/<int:practice_id>/evidence/<int:evidence_id>/delete",
          methods=["GET", "POST"])
@login_required
def remove_evidence(practice_id: int, evidence_id: int):
    practice, evidence = load_evidence(practice_id, evidence_id, "edit")
    form = ConfirmForm()
    if request.method == "POST" and form.validate():
        with unit_of_work(current_user, "web") as uow:
            delete_evidence(evidence, user=uow.user, source=uow.source)
        flash(_("Đã xóa tài liệu."), "success")
        return redirect(url_for("catalogue.detail", practice_id=practice.id) + "#evidence")
    return render_template(
        "editing/confirm.html", form=form, practice=practice, title=_("Xóa tài liệu"),
        question=_("Xóa tài liệu “%(title)s” khỏi mô hình “%(name)s”?", title=evidence.title,
                   name=practice.name),
        button=_("Xóa tài liệu")), 400 if request.method == "POST" else 200
