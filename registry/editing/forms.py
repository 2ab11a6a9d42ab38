"""Forms of the editing pages: input shape and translated messages; choices come from views."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField, DateField, FieldList, Form, FormField, HiddenField, IntegerField,
    SelectField, SelectMultipleField, StringField, TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, \
    ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from registry.i18n import current_locale
from registry.domain.fields import INDICATORS
from registry.services.uploads import ACCEPT

# WTForms ships no Vietnamese catalogue: its built-in messages, translated here.
_VI = {
    "This field is required.": "Trường này là bắt buộc.",
    "Not a valid integer value.": "Vui lòng nhập một số nguyên.",
    "Not a valid date value.": "Ngày không hợp lệ (dạng ngày/tháng/năm, ví dụ 15/08/2020).",
    "Not a valid choice.": "Giá trị không có trong danh sách.",
    "Invalid Choice: could not coerce.": "Giá trị không có trong danh sách.",
    "Choices cannot be None.": "Giá trị không có trong danh sách.",
    "'%(value)s' is not a valid choice for this field.":
        "'%(value)s' không có trong danh sách.",
    "'%(value)s' are not valid choices for this field.":
        "'%(value)s' không có trong danh sách.",
    "Invalid input.": "Giá trị không hợp lệ.",
    "Number must be at least %(min)s.": "Số phải lớn hơn hoặc bằng %(min)s.",
    "Number must be at most %(max)s.": "Số phải nhỏ hơn hoặc bằng %(max)s.",
    "Number must be between %(min)s and %(max)s.": "Số phải từ %(min)s đến %(max)s.",
    "Field cannot be longer than %(max)d character.": "Tối đa %(max)d ký tự.",
    "Field cannot be longer than %(max)d characters.": "Tối đa %(max)d ký tự.",
    "Field must be at least %(min)d character long.": "Tối thiểu %(min)d ký tự.",
    "Field must be at least %(min)d characters long.": "Tối thiểu %(min)d ký tự.",
    "Field must be between %(min)d and %(max)d characters long.":
        "Độ dài phải từ %(min)d đến %(max)d ký tự.",
    "The CSRF token is missing.": "Phiên làm việc đã hết hạn, vui lòng tải lại trang.",
    "The CSRF token is invalid.": "Phiên làm việc đã hết hạn, vui lòng tải lại trang.",
    "The CSRF token has expired.": "Phiên làm việc đã hết hạn, vui lòng tải lại trang.",
    "The CSRF tokens do not match.": "Phiên làm việc đã hết hạn, vui lòng tải lại trang.",
}


class VietnameseMessages:
    """A gettext-style object WTForms asks for its built-in messages (English ones as is)."""

    def gettext(self, string: str) -> str:
        return _VI.get(string, string) if current_locale() == "vi" else string

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


_MESSAGES = VietnameseMessages()


class _ViMeta:
    def get_translations(self, form):
        return _MESSAGES


class BaseForm(FlaskForm):
    class Meta(_ViMeta):
        pass


class SubForm(Form):
    class Meta(_ViMeta):
        pass


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"]


class PracticeForm(BaseForm):
    """A model's own fields (docs/domain.md §4); members, results and evidence have their pages."""

    version = HiddenField()
    name = StringField(_l("Tên mô hình"), validators=[
        DataRequired(_l("Vui lòng nhập tên mô hình.")),
        Length(max=300, message=_l("Tên mô hình tối đa %(max)d ký tự."))])
    kind = SelectField(_l("Loại mô hình"), validate_choice=False, validators=[
        DataRequired(_l("Vui lòng chọn loại mô hình."))])
    summary = TextAreaField(_l("Tóm tắt"), validators=[
        Length(max=2000, message=_l("Tóm tắt tối đa %(max)d ký tự."))])
    description = TextAreaField(_l("Mô tả"), validators=[
        Length(max=50000, message=_l("Mô tả tối đa %(max)d ký tự."))])
    province_code = SelectField(_l("Tỉnh, thành phố"), validate_choice=False)
    commune_code = SelectField(_l("Xã, phường, đặc khu"), validate_choice=False, validators=[
        DataRequired(_l("Vui lòng chọn xã, phường, đặc khu."))])
    hamlet = StringField(_l("Thôn, xóm, tổ dân phố hoặc cơ quan, trường học, doanh nghiệp"),
                         validators=[Length(max=300, message=_l("Tối đa %(max)d ký tự."))])
    setting = SelectField(_l("Loại địa bàn"), validate_choice=False)
    forms = MultiCheckboxField(_l("Hình thức"), validate_choice=False)
    domains = MultiCheckboxField(_l("Lĩnh vực"), validate_choice=False)
    target_groups = MultiCheckboxField(_l("Đối tượng tham gia"), validate_choice=False)
    lead_organisation = SelectField(_l("Cơ quan chủ trì"), validate_choice=False)
    founded_on = DateField(_l("Ngày thành lập"), format=DATE_FORMATS, validators=[Optional()])
    participants = IntegerField(_l("Số người tham gia"), validators=[
        Optional(), NumberRange(min=0, max=10_000_000,
                                message=_l("Số người phải từ 0 trở lên."))])
    households = IntegerField(_l("Số hộ tham gia"), validators=[
        Optional(), NumberRange(min=0, max=10_000_000,
                                message=_l("Số hộ phải từ 0 trở lên."))])

    def validate_forms(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Vui lòng chọn ít nhất một hình thức."))

    def set_choices(self, choices: dict) -> None:
        """choices: field name -> list of (value, label); unknown submitted values are errors."""
        for name, options in choices.items():
            getattr(self, name).choices = options

    def check_choices(self) -> bool:
        """Submitted values must be among the offered ones (the choices are data)."""
        ok = True
        for field in (self.kind, self.commune_code, self.setting, self.lead_organisation):
            allowed = {value for value, _ in field.choices or []}
            if field.data and field.data not in allowed:
                field.errors = list(field.errors) + [_l("Giá trị không có trong danh sách.")]
                ok = False
        for field in (self.forms, self.domains, self.target_groups):
            allowed = {value for value, _ in field.choices or []}
            if any(v not in allowed for v in field.data or []):
                field.errors = list(field.errors) + [_l("Có giá trị không có trong danh sách.")]
                ok = False
        return ok


# A Vietnamese phone number: mobile 0[35789]xxxxxxxx or landline 02xxxxxxxxx, +84 allowed.
PHONE = re.compile(r"(?:\+84|84|0)(?:[35789]\d{8}|2\d{9})")
PHONE_SEPARATORS = re.compile(r"[\s.\-()]")


def normalise_phone(value: str) -> str:
    return PHONE_SEPARATORS.sub("", value or "")


class MemberForm(SubForm):
    """One core member row; a row left blank is ignored."""

    name = StringField(_l("Họ và tên"), validators=[
        Length(max=200, message=_l("Họ và tên tối đa %(max)d ký tự."))])
    role = SelectField(_l("Vai trò"), validate_choice=False)
    phone = StringField(_l("Điện thoại"), validators=[
        Length(max=30, message=_l("Số điện thoại tối đa %(max)d ký tự."))])
    remove = BooleanField(_l("Xóa"))

    def is_blank(self) -> bool:
        return not (self.name.data or "").strip() and not (self.phone.data or "").strip()

    def validate_phone(self, field) -> None:
        if field.data and field.data.strip() and not PHONE.fullmatch(
                normalise_phone(field.data)):
            raise ValidationError(_l("Số điện thoại không đúng định dạng Việt Nam "
                                     "(ví dụ 0912 345 678 hoặc +84 912 345 678)."))

    def validate_name(self, field) -> None:
        if not (field.data or "").strip() and (self.phone.data or "").strip() \
                and not self.remove.data:
            raise ValidationError(_l("Vui lòng nhập họ và tên thành viên."))


BLANK_MEMBER_ROWS = 3


class MembersForm(BaseForm):
    """The list of core members, with a few blank rows to add new ones without JavaScript."""

    version = HiddenField()
    members = FieldList(FormField(MemberForm), min_entries=0)

    def set_role_choices(self, choices) -> None:
        for entry in self.members:
            entry.form.role.choices = choices

    def check_choices(self) -> bool:
        ok = True
        for entry in self.members:
            allowed = {value for value, _ in entry.form.role.choices or []}
            if entry.form.role.data and entry.form.role.data not in allowed:
                entry.form.role.errors = list(entry.form.role.errors) + [
                    _l("Giá trị không có trong danh sách.")]
                ok = False
        return ok


PERIOD = r"^(19|20)\d\d(-H[12])?$"


class OutcomeForm(BaseForm):
    """A results report for one period; indicator fields are added below from INDICATORS."""

    version = HiddenField()
    period = StringField(_l("Kỳ báo cáo"), filters=[lambda v: v.strip().upper() if v else v],
                         validators=[
        DataRequired(_l("Vui lòng nhập kỳ báo cáo.")),
        Regexp(PERIOD, message=_l("Kỳ báo cáo phải có dạng NNNN-H1, NNNN-H2 (6 tháng) hoặc "
                                  "NNNN (cả năm), ví dụ 2025-H1."))])
    narrative = TextAreaField(_l("Đánh giá, nhận xét"), validators=[
        Length(max=20000, message=_l("Tối đa %(max)d ký tự."))])

    def indicator_fields(self):
        return [getattr(self, name) for name in INDICATORS]


for _name in INDICATORS:
    setattr(OutcomeForm, _name, IntegerField(_name, validators=[
        Optional(), NumberRange(min=0, max=10_000_000,
                                message=_l("Vui lòng nhập số từ 0 trở lên."))]))


class EvidenceForm(BaseForm):
    """An evidence file: the content is checked by registry.services.uploads."""

    title = StringField(_l("Tên tài liệu"), validators=[
        Length(max=300, message=_l("Tên tài liệu tối đa %(max)d ký tự."))])
    category = SelectField(_l("Loại tài liệu"))
    file = FileField(_l("Tệp (PDF, ảnh JPEG/PNG/WebP, DOCX, XLSX)"), render_kw={"accept": ACCEPT})


class ConfirmForm(BaseForm):
    """A bare form for confirmations (archive, delete): only the CSRF token."""
