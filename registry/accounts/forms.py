"""Forms of the account pages: they check the shape of the input, services check the rest."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from registry.accounts.passwords import MIN_LENGTH

TOO_SHORT = f"Mật khẩu phải có ít nhất {MIN_LENGTH} ký tự."


class LoginForm(FlaskForm):
    email = EmailField("Thư điện tử", validators=[
        InputRequired("Cần nhập thư điện tử."), Length(max=254)])
    password = PasswordField("Mật khẩu", validators=[
        InputRequired("Cần nhập mật khẩu."), Length(max=1000)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Mật khẩu hiện tại", validators=[
        InputRequired("Cần nhập mật khẩu hiện tại.")])
    new_password = PasswordField("Mật khẩu mới", validators=[
        InputRequired("Cần nhập mật khẩu mới."), Length(min=MIN_LENGTH, max=1000,
                                                        message=TOO_SHORT)])
    confirm = PasswordField("Nhập lại mật khẩu mới", validators=[
        InputRequired("Cần nhập lại mật khẩu mới."),
        EqualTo("new_password", "Hai lần nhập mật khẩu mới không khớp.")])


class ResetPasswordForm(FlaskForm):
    password = PasswordField("Mật khẩu tạm thời", validators=[
        InputRequired("Cần nhập mật khẩu tạm thời."), Length(min=MIN_LENGTH, max=1000,
                                                             message=TOO_SHORT)])


class TokenForm(FlaskForm):
    name = StringField("Tên gợi nhớ (ví dụ: hệ thống của tỉnh)", validators=[
        Length(max=100, message="Tên tối đa 100 ký tự.")])


class ConfirmForm(FlaskForm):
    """A form with no fields: just the CSRF token (sign-out, revoke)."""
