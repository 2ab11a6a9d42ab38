"""Sign-in, sign-out, password change, the profile with API tokens, administrator resets."""
from __future__ import annotations

from flask import (
    Blueprint, abort, flash, redirect, render_template, request, session, url_for,
)
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry import permissions
from registry.accounts import ratelimit, sessions
from registry.accounts.forms import (
    ChangePasswordForm, ConfirmForm, LoginForm, MailPreferenceForm, ResetPasswordForm,
    TokenForm,
)
from registry.accounts.redirects import local_path
from registry.accounts.services import (
    ROLE_LABELS, AccountError, authenticate, change_password, normalise_email, reset_password,
    unit_label,
)
from registry.accounts.tokens import create_token, revoke_token
from registry.extensions import db
from registry.models.accounts import ApiToken, User
from registry.services.mail import set_mail_preference
from registry.services.uow import unit_of_work

bp = Blueprint("auth", __name__)

# Endpoints a user who must change their password may still reach.
OPEN_WHILE_MUST_CHANGE = {"auth.change_password", "auth.logout", "static", "health.healthz"}


def safe_next(target: str | None) -> str:
    """Only local paths are followed after sign-in (no open redirect, see redirects.py)."""
    return local_path(target) or url_for("catalogue.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("auth/login.html", form=form, error=None), status
    email = normalise_email(form.email.data)
    address = request.remote_addr or ""
    if ratelimit.is_limited(email, address):
        return render_template("auth/login.html", form=form,
                               error=ratelimit.limited_message()), 429
    with unit_of_work(source="web"):  # a failed attempt, or a rehashed password
        user = authenticate(email, form.password.data)
        if user is None:
            ratelimit.record_failure(email, address)
    if user is None:
        return render_template("auth/login.html", form=form,
                               error=_("Thư điện tử hoặc mật khẩu không đúng.")), 401
    language = session.get("lang")
    session.clear()  # nothing from before the sign-in carries over, but the language
    if language:
        session["lang"] = language
    login_user(user)
    sessions.start(user)
    if user.must_change_password:
        flash(_("Mật khẩu của bạn do quản trị đặt tạm thời: vui lòng đổi mật khẩu mới."), "info")
        return redirect(url_for("auth.change_password"))
    return redirect(safe_next(request.args.get("next")))


@bp.post("/logout")
def logout():
    if ConfirmForm().validate_on_submit():
        if current_user.is_authenticated:
            with unit_of_work(current_user, "web"):
                sessions.end_all(current_user)  # a cookie kept from before no longer signs in
        logout_user()
        session.clear()
        flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("catalogue.index"))


@bp.route("/account/password", methods=["GET", "POST"], endpoint="change_password")
@login_required
def change_password_view():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            with unit_of_work(current_user, "web"):
                revoked = change_password(current_user, form.current_password.data,
                                          form.new_password.data)
        except AccountError as exc:
            getattr(form, exc.field).errors.append(exc.message)
        else:
            sessions.start(current_user)  # other sessions ended; this one goes on
            flash(_("Đã đổi mật khẩu.") if not revoked else
                  ngettext("Đã đổi mật khẩu; %(num)d mã truy cập API cũ đã bị thu hồi.",
                           "Đã đổi mật khẩu; %(num)d mã truy cập API cũ đã bị thu hồi.",
                           revoked), "info")
            return redirect(url_for("auth.profile"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status


def _render_profile(new_token: str | None = None, token_form: TokenForm | None = None,
                    status: int = 200, mail_form: MailPreferenceForm | None = None):
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == current_user.id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    grants = [(ROLE_LABELS.get(g.role, g.role), unit_label(g.unit))
              for g in sorted(current_user.grants, key=lambda g: (g.role, g.unit))]
    return render_template("auth/profile.html", grants=grants, tokens=list(tokens),
                           token_form=token_form or TokenForm(formdata=None),
                           confirm_form=ConfirmForm(), new_token=new_token,
                           mail_form=mail_form or MailPreferenceForm(
                               formdata=None,
                               mail="digest" if current_user.mail_digest else "immediate"),
                           ), status


@bp.get("/account")
@login_required
def profile():
    return _render_profile()


@bp.post("/account/mail")
@login_required
def mail_preference_view():
    form = MailPreferenceForm()
    if not form.validate_on_submit():
        return _render_profile(mail_form=form, status=400)
    with unit_of_work(current_user, "web"):
        set_mail_preference(current_user, form.mail.data == "digest")
    flash(_("Đã lưu cách nhận thư."), "info")
    return redirect(url_for("auth.profile"))


@bp.post("/account/tokens")
@login_required
def create_token_view():
    form = TokenForm()
    if not form.validate_on_submit():
        return _render_profile(token_form=form, status=400)
    try:
        with unit_of_work(current_user, "web"):
            _token, plain = create_token(current_user, form.name.data)
    except AccountError as exc:
        form.name.errors.append(exc.message)
        return _render_profile(token_form=form, status=400)
    # Rendered, not flashed: the session cookie is signed, not encrypted.
    return _render_profile(new_token=plain)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token_view(token_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        with unit_of_work(current_user, "web"):
            revoke_token(current_user, token_id)
    except AccountError:
        abort(404)
    flash(_("Đã thu hồi mã truy cập."), "info")
    return redirect(url_for("auth.profile"))


@bp.get("/users")
@login_required
def users():
    if not permissions.can_manage_users(current_user):
        abort(403)
    people = db.session.scalars(select(User).options(selectinload(User.grants))
                                .order_by(User.email)).all()
    return render_template("auth/users.html", people=people, role_labels=ROLE_LABELS,
                           unit_label=unit_label, form=ResetPasswordForm(formdata=None))


@bp.post("/users/<int:user_id>/reset-password")
@login_required
def reset_password_view(user_id: int):
    if not permissions.can_manage_users(current_user):
        abort(403)
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            with unit_of_work(current_user, "web"):
                reset_password(user, form.password.data)
        except AccountError as exc:
            form.password.errors.append(exc.message)
        else:
            flash(_("Đã đặt mật khẩu tạm thời cho %(email)s; người dùng phải đổi mật khẩu "
                    "ở lần đăng nhập tới.", email=user.email), "info")
            return redirect(url_for("auth.users"))
    return render_template("auth/reset.html", person=user, form=form), 400


def enforce_password_change():
    """Before each request: a user with a temporary password may only change it."""
    endpoint = request.endpoint or ""
    if endpoint in OPEN_WHILE_MUST_CHANGE or endpoint.startswith("api."):
        return None  # checked first: static files need no user lookup
    if current_user.is_authenticated and current_user.must_change_password:
        flash(_("Vui lòng đổi mật khẩu tạm thời trước khi tiếp tục."), "info")
        return redirect(url_for("auth.change_password"))
    return None
