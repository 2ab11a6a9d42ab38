"""Forms of the account pages: they check the shape of the input, services check the rest."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from registry.accounts.passwords import MIN_LENGTH

try:  # WTForms 3.3+: choices as SelectChoice (tuples are deprecated there)
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    def SelectChoice(value, label):  # noqa: N802
        return (value, label)

# Length() fills in %(min)d.
TOO_SHORT = _l("Mật khẩu phải có ít nhất %(min)d ký tự.")


class LoginForm(FlaskForm):
    email = EmailField(_l("Thư điện tử"), validators=[
        InputRequired(_l("Cần nhập thư điện tử.")), Length(max=254)])
    password = PasswordField(_l("Mật khẩu"), validators=[
        InputRequired(_l("Cần nhập mật khẩu.")), Length(max=1000)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Mật khẩu hiện tại"), validators=[
        InputRequired(_l("Cần nhập mật khẩu hiện tại."))])
    new_password = PasswordField(_l("Mật khẩu mới"), validators=[
        InputRequired(_l("Cần nhập mật khẩu mới.")), Length(min=MIN_LENGTH, max=1000,
                                                        message=TOO_SHORT)])
    confirm = PasswordField(_l("Nhập lại mật khẩu mới"), validators=[
        InputRequired(_l("Cần nhập lại mật khẩu mới.")),
        EqualTo("new_password", _l("Hai lần nhập mật khẩu mới không khớp."))])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("Mật khẩu tạm thời"), validators=[
        InputRequired(_l("Cần nhập mật khẩu tạm thời.")), Length(min=MIN_LENGTH, max=1000,
                                                             message=TOO_SHORT)])


class TokenForm(FlaskForm):
    name = StringField(_l("Tên gợi nhớ (ví dụ: hệ thống của tỉnh)"), validators=[
        Length(max=100, message=_l("Tên tối đa 100 ký tự."))])


class ConfirmForm(FlaskForm):
    """A form with no fields: just the CSRF token (sign-out, revoke)."""


class MailPreferenceForm(FlaskForm):
    mail = RadioField(_l("Nhận thư"), choices=[
        SelectChoice("immediate", _l("ngay khi có việc")),
        SelectChoice("digest", _l("một thư tổng hợp mỗi ngày"))],
        validators=[InputRequired(_l("Chọn cách nhận thư."))])
