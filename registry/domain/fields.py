"""The fields of a practice record, declared once: key, Vietnamese label, length limit."""
from __future__ import annotations

from typing import NamedTuple


class Field(NamedTuple):
    key: str
    label: str  # Vietnamese, as messages and the change history name it
    max_length: int | None = None  # characters, matching the column
    workflow: bool = False  # owned by the workflow: taken from input only when allowed


# In the order exports write them.
FIELDS = (
    Field("external_id", "mã tham chiếu", 100),
    Field("name", "tên mô hình", 300),
    Field("kind", "loại mô hình"),
    Field("summary", "tóm tắt", 2000),
    Field("description", "mô tả", 50000),
    Field("commune_code", "mã xã/phường"),
    Field("province_code", "mã tỉnh/thành phố"),
    Field("address", "địa chỉ", 500),
    Field("hamlet", "thôn/xóm/tổ dân phố", 300),
    Field("setting", "loại địa bàn"),
    Field("forms", "hình thức"),
    Field("domains", "lĩnh vực"),
    Field("target_groups", "đối tượng tham gia"),
    Field("lead_organisation", "cơ quan chủ trì"),
    Field("founded_on", "ngày thành lập"),
    Field("participants", "số người tham gia"),
    Field("households", "số hộ tham gia"),
    Field("core_members", "lực lượng nòng cốt"),
    Field("outcomes", "kết quả"),
    Field("replicated_from", "nhân rộng từ mô hình"),
    Field("status", "trạng thái", workflow=True),
    Field("recognition_level", "cấp công nhận", workflow=True),
    Field("recognised_on", "ngày công nhận", workflow=True),
)
RECORD_KEYS = tuple(f.key for f in FIELDS)
WORKFLOW_KEYS = tuple(f.key for f in FIELDS if f.workflow)
FIELD_LABELS = {f.key: f.label for f in FIELDS}

# The indicators of a results report, in the order of the import format (docs/domain.md §5).
INDICATORS = ("tips_reported", "valuable_tips", "disputes_mediated", "offenders_reintegrated",
              "wanted_caught", "surrenders", "crimes_on_area", "traffic_accidents")
MEMBER_KEYS = ("name", "role", "phone")
OUTCOME_KEYS = ("period",) + INDICATORS + ("narrative",)
LIST_VOCABULARIES = {"forms": "form", "domains": "domain", "target_groups": "target_group"}

# Lengths of the parts of members and results (the record's own fields are in FIELDS).
MAX_LENGTH = {f.key: f.max_length for f in FIELDS if f.max_length} | {
    "member.name": 200, "member.phone": 30, "narrative": 10000,
}
MAX_INTEGER = 2_000_000_000
# Digits of the largest integer accepted; longer digit strings are refused before int()
# (Python refuses to convert strings of more than 4,300 digits).
MAX_INTEGER_DIGITS = len(str(MAX_INTEGER))

# Most items a list of a record may hold, counted as sent (before duplicates are merged).
# Forms, domains and target groups are closed vocabularies of 4, 14 and 13 seeded terms:
# 50 leaves room for terms administrators add and for a value written twice.
MAX_ITEMS = {"core_members": 200, "outcomes": 100, "forms": 50, "domains": 50,
             "target_groups": 50}
# Years a results period may name ("2024-H1", "2024").
PERIOD_YEARS = (1990, 2100)
# The earliest founding or recognition date accepted (later than today is refused too).
EARLIEST_YEAR = 1900
# Characters a phone number may contain.
PHONE_PATTERN = r"^[0-9+().\s-]*$"
# Longest label of a kind added by an import.
MAX_KIND_LABEL = 300
