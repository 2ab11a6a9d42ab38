"""The one interchange record (a JSONL line): validation of input and the inverse of a Practice.

Pure: the reference data a check needs (vocabularies, communes, old addresses) comes in as a
`Reference` (registry.services.reference builds one from the database); nothing is written.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Protocol

from registry.domain.errors import FieldError, Invalid
from registry.domain.fields import (
    EARLIEST_YEAR, FIELD_LABELS, INDICATORS, LIST_VOCABULARIES, MAX_INTEGER,
    MAX_INTEGER_DIGITS, MAX_ITEMS, MAX_KIND_LABEL, MAX_LENGTH, MEMBER_KEYS, OUTCOME_KEYS,
    PERIOD_YEARS, PHONE_PATTERN, RECORD_KEYS,
)
from registry.domain.workflow import RECOGNITION_LABELS, STATE_BY_CODE
from registry.text import canonical, clean_line

# Keys the JSON API adds to a record; accepted and ignored so a fetched record can be sent back.
IGNORED_KEYS = ("id", "version")
# A kind the vocabulary does not know yet: its label, for the services to add for review.
NEW_KIND = "new_kind"


class Reference(Protocol):
    """What validation looks up: vocabulary terms, communes and pre-2025 addresses."""

    def resolve(self, vocabulary: str, value: str):
        """The term (with .code, .position, .origin, .label_vi) for a code or label, or None."""

    def province_of(self, commune_code: str) -> str | None:
        """The province of a current commune code, or None if there is no such commune."""

    def resolve_address(self, address: str):
        """An old or current address -> .commune_code (or None), .candidates, .problem."""


def json_integer(literal: str):
    """`parse_int` for json.loads: an integer literal too long to be a count stays its text.

    Python refuses to turn more than 4,300 digits into an int (json.loads then raises a bare
    ValueError); kept as text, such a value reaches validation, which names its field.
    """
    return int(literal) if len(literal) <= 40 else literal


def shown(value, limit: int = 40) -> str:
    """A value as messages quote it: short, and never failing on a huge integer."""
    try:
        text = str(value)
    except ValueError:  # an int of more than 4,300 digits
        return "số quá lớn"
    return text if len(text) <= limit else text[:limit] + "…"


def _number_text(value) -> str | None:
    """A JSON/spreadsheet number as text ("70" for 70 or 70.0); None for a huge integer."""
    try:
        return str(int(value)) if float(value).is_integer() else str(value)
    except (ValueError, OverflowError):
        return None


def normalise_code(value, width: int) -> str | None:
    """A unit code as the zero-padded string the registry stores, or None if not a code."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = _number_text(value)
        if value is None:
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith(".0"):  # spreadsheets turn codes into floats
        text = text[:-2]
    if not text.isdigit() or len(text) > width:
        return None
    return text.zfill(width)


_PERIOD = re.compile(r"^(\d{4})(?:-H([12]))?$")
_PHONE = re.compile(PHONE_PATTERN)


class _Checker:
    """Collects field errors while converting values."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def text(self, field: str, value, limit_key: str | None = None, *, line: bool = True,
             required: bool = False) -> str:
        if value is None:
            value = ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = _number_text(value)
            if value is None:
                self.fail(field, "số quá dài")
                return ""
        if not isinstance(value, str):
            self.fail(field, "phải là chuỗi ký tự")
            return ""
        text = clean_line(value) if line else canonical(value).replace("\r\n", "\n").strip()
        limit = MAX_LENGTH.get(limit_key or field)
        if limit and len(text) > limit:
            self.fail(field, f"quá dài ({len(text)} ký tự, tối đa {limit})")
        if required and not text:
            self.fail(field, "không được để trống")
        return text

    def integer(self, field: str, value) -> int | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            self.fail(field, "phải là số nguyên không âm")
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            digits = value.strip().lstrip("0") or "0"
            if len(digits) > MAX_INTEGER_DIGITS:  # before int(): no 4,300-digit conversion
                self.fail(field, f"số quá lớn (tối đa {MAX_INTEGER:,})".replace(",", "."))
                return None
            value = int(digits)
        if not isinstance(value, int) or value < 0:
            self.fail(field, f"“{shown(value)}” không phải số nguyên không âm")
            return None
        if value > MAX_INTEGER:
            self.fail(field, f"số quá lớn (tối đa {MAX_INTEGER:,})".replace(",", "."))
            return None
        return value

    def many(self, field: str, values: list) -> bool:
        """False (with the error) when a list holds more items than MAX_ITEMS allows."""
        limit = MAX_ITEMS.get(field)
        if limit is not None and len(values) > limit:
            self.fail(field, f"quá nhiều mục ({len(values)}, tối đa {limit})")
            return False
        return True

    def day(self, field: str, value) -> str | None:
        if value is None or value == "":
            return None
        if isinstance(value, (int, float, list, dict, bool)):
            self.fail(field, f"ngày “{shown(value)}” không hợp lệ (dùng YYYY-MM-DD hoặc "
                             "dd/mm/yyyy)")
            return None
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            parsed = value
        else:
            parsed = _parse_date(str(value).strip())
            if parsed is None:
                self.fail(field, f"ngày “{shown(value)}” không hợp lệ (dùng YYYY-MM-DD hoặc "
                                 "dd/mm/yyyy)")
                return None
        if parsed > date.today():
            self.fail(field, "ngày ở tương lai")
            return None
        if parsed.year < EARLIEST_YEAR:
            self.fail(field, "năm không hợp lệ")
            return None
        return parsed.isoformat()


def _parse_date(text: str) -> date | None:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _values(value) -> list:
    """A multi-valued field given as a list, or as text separated by ";"."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v for v in (p.strip() for p in value.split(";")) if v]
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _place(raw: dict, ref: Reference, check: _Checker, record: dict) -> None:
    """Commune from its code or an address; the province always follows the commune."""
    address = check.text("address", raw.get("address"))
    code_given = raw.get("commune_code") not in (None, "")
    if code_given:
        code = normalise_code(raw.get("commune_code"), 5)
        if code is None or ref.province_of(code) is None:
            check.fail("commune_code", f"không có xã/phường mã “{shown(raw.get('commune_code'))}”"
                                       " trong danh mục hiện nay")
            return
    elif address:
        resolution = ref.resolve_address(address)
        if resolution.commune_code is None:
            hint = ""
            if resolution.candidates:
                hint = " (có thể là: " + ", ".join(resolution.candidates[:8]) + ")"
            check.fail("address", f"không xác định được xã/phường từ “{address}”: "
                                  f"{resolution.problem}{hint}")
            return
        code = resolution.commune_code
    else:
        check.fail("commune_code", "cần mã xã/phường (commune_code) hoặc địa chỉ (address)")
        return
    province = ref.province_of(code)
    given = raw.get("province_code")
    if given not in (None, ""):
        if normalise_code(given, 2) != province:
            check.fail("province_code", f"mã tỉnh “{shown(given)}” không khớp với xã/phường {code}"
                                        f" (thuộc tỉnh {province})")
            return
    record["commune_code"] = code
    record["province_code"] = province
    if "address" in raw:
        record["address"] = address


def _term_code(ref, vocabulary: str, field: str, value, check: _Checker, *,
               allow_new: bool = False, pending: list | None = None):
    """The code of a vocabulary value, or an error; open kinds may be queued for adding."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = shown(value, 1000)
    if not isinstance(value, str) or not value.strip():
        check.fail(field, "giá trị trống hoặc không hợp lệ")
        return None
    term = ref.resolve(vocabulary, value)
    if term is not None:
        return term
    if allow_new and pending is not None:
        label = clean_line(value)
        if len(label) > MAX_KIND_LABEL:
            check.fail(field, f"quá dài (tối đa {MAX_KIND_LABEL} ký tự)")
            return None
        pending.append(label)
        return None
    check.fail(field, f"“{shown(value, 200)}” không có trong danh mục "
                      f"{FIELD_LABELS.get(field, field)}")
    return None


def _members(raw_members, ref, check: _Checker) -> list[dict]:
    if not isinstance(raw_members, list):
        check.fail("core_members", "phải là danh sách {name, role, phone}")
        return []
    if not check.many("core_members", raw_members):
        return []
    out = []
    for i, member in enumerate(raw_members, 1):
        where = f"core_members[{i}]"
        if not isinstance(member, dict):
            check.fail(where, "phải là một đối tượng {name, role, phone}")
            continue
        for key in member:
            if key not in MEMBER_KEYS:
                check.fail(f"{where}.{key}", "trường không được hỗ trợ")
        name = check.text(f"{where}.name", member.get("name"), "member.name", required=True)
        role = None
        if member.get("role") not in (None, ""):
            term = _term_code(ref, "member_role", f"{where}.role", member["role"], check)
            role = term.code if term is not None else None
        phone = check.text(f"{where}.phone", member.get("phone"), "member.phone")
        if phone and not _PHONE.match(phone):
            check.fail(f"{where}.phone", "số điện thoại chỉ gồm chữ số, dấu cách, + - . ( )")
        out.append({"name": name, "role": role, "phone": phone})
    return out


def validate_outcome(raw, check: _Checker | None = None, where: str = "outcome") -> dict:
    """One results report, clean; raises Invalid when used on its own."""
    own = check is None
    check = check or _Checker()
    out: dict = {}
    if not isinstance(raw, dict):
        check.fail(where, "phải là một đối tượng kết quả")
    else:
        for key in raw:
            if key not in OUTCOME_KEYS:
                check.fail(f"{where}.{key}", "trường không được hỗ trợ")
        period = raw.get("period")
        period = period.strip().upper() if isinstance(period, str) else ""
        match = _PERIOD.match(period)
        if not match or not PERIOD_YEARS[0] <= int(match.group(1)) <= PERIOD_YEARS[1]:
            check.fail(f"{where}.period", f"kỳ báo cáo “{shown(raw.get('period'))}” không "
                                          "hợp lệ (ví dụ 2024-H1, 2024-H2 hoặc 2024; năm "
                                          f"{PERIOD_YEARS[0]}–{PERIOD_YEARS[1]})")
        out["period"] = period
        for key in INDICATORS:
            out[key] = check.integer(f"{where}.{key}", raw.get(key))
        out["narrative"] = check.text(f"{where}.narrative", raw.get("narrative"), "narrative",
                                      line=False)
    if own and check.errors:
        raise Invalid(check.errors, subject="Báo cáo kết quả")
    return out


def _outcomes(raw_outcomes, check: _Checker) -> list[dict]:
    if not isinstance(raw_outcomes, list):
        check.fail("outcomes", "phải là danh sách kết quả theo kỳ")
        return []
    if not check.many("outcomes", raw_outcomes):
        return []
    out = [validate_outcome(o, check, f"outcomes[{i}]") for i, o in enumerate(raw_outcomes, 1)]
    seen = set()
    for i, outcome in enumerate(out, 1):
        if outcome.get("period") in seen:
            check.fail(f"outcomes[{i}].period", f"kỳ {outcome['period']} bị trùng")
        seen.add(outcome.get("period"))
    return sorted(out, key=lambda o: o.get("period", ""))


def validate_record(raw: dict, ref: Reference, *, allow_new_kinds: bool = True,
                    allow_workflow: bool = False) -> dict:
    """A clean record from raw input, or Invalid listing every field at fault.

    Only keys present in `raw` appear in the result (name, kind and place are required), so
    an update leaves out what the input left out. Vocabulary values become codes; with
    `allow_new_kinds` an unknown kind is returned as NEW_KIND (its label) for the services to
    add for review.
    """
    check = _Checker()
    if not isinstance(raw, dict):
        raise Invalid([FieldError("", "mỗi dòng phải là một đối tượng JSON")])
    for key in raw:
        if key not in RECORD_KEYS and key not in IGNORED_KEYS:
            check.fail(key, "trường không được hỗ trợ")
    record: dict = {}
    if "external_id" in raw:
        record["external_id"] = check.text("external_id", raw["external_id"]) or None
    record["name"] = check.text("name", raw.get("name"), required=True)
    for key in ("summary", "description"):
        if key in raw:
            record[key] = check.text(key, raw[key], line=(key == "summary"))
    if "hamlet" in raw:
        record["hamlet"] = check.text("hamlet", raw["hamlet"])
    _place(raw, ref, check, record)
    new_kinds: list[str] = []
    if raw.get("kind") in (None, ""):
        check.fail("kind", "không được để trống")
    else:
        term = _term_code(ref, "kind", "kind", raw["kind"], check,
                          allow_new=allow_new_kinds, pending=new_kinds)
        record["kind"] = kind_value(term) if term is not None else None
    for field in ("setting", "lead_organisation"):
        if field in raw:
            record[field] = None
            if raw[field] not in (None, ""):
                term = _term_code(ref, field, field, raw[field], check)
                record[field] = term.code if term is not None else None
    for field, vocabulary in LIST_VOCABULARIES.items():
        if field in raw:
            values = _values(raw[field])
            if not check.many(field, values):
                continue
            terms = [_term_code(ref, vocabulary, field, v, check) for v in values]
            unique = {t.code: t for t in terms if t is not None}
            record[field] = [t.code for t in sorted(unique.values(),
                                                    key=lambda t: (t.position, t.code))]
    if "founded_on" in raw:
        record["founded_on"] = check.day("founded_on", raw["founded_on"])
    for field in ("participants", "households"):
        if field in raw:
            record[field] = check.integer(field, raw[field])
    if "core_members" in raw:
        record["core_members"] = _members(raw["core_members"] or [], ref, check)
    if "outcomes" in raw:
        record["outcomes"] = _outcomes(raw["outcomes"] or [], check)
    if "replicated_from" in raw:
        record["replicated_from"] = check.text("replicated_from", raw["replicated_from"],
                                               "external_id") or None
    _workflow(raw, check, record, allow_workflow)
    if check.errors:
        raise Invalid(check.errors)
    if new_kinds:
        record["kind"] = None
        record[NEW_KIND] = new_kinds[0]
    return record


def kind_value(term) -> str:
    """Seeded kinds travel as their code; kinds added later as their Vietnamese label, so a
    fresh registry importing the file recreates them with their name, not their code."""
    return term.code if term.origin == "seed" else term.label_vi


def _workflow(raw: dict, check: _Checker, record: dict, allowed: bool) -> None:
    found = {}
    for field, allowed_codes, label in (("status", STATE_BY_CODE, "trạng thái"),
                                        ("recognition_level", RECOGNITION_LABELS,
                                         "cấp công nhận")):
        value = raw.get(field)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or value not in allowed_codes:  # a list is no code
            check.fail(field, f"{label} “{shown(value)}” không hợp lệ (dùng một trong: "
                              + ", ".join(allowed_codes) + ")")
        found[field] = value
    if "recognised_on" in raw:
        found["recognised_on"] = check.day("recognised_on", raw["recognised_on"])
    if allowed:
        record.update(found)


def practice_to_record(practice, *, include_personal: bool) -> dict:
    """The record of a practice, the exact inverse of validate_record (codes, ISO dates).

    Without `include_personal` the key core_members is left out altogether, so importing
    such a record never erases the members a registry holds.
    """
    record = {
        "external_id": practice.external_id,
        "name": practice.name,
        "kind": kind_value(practice.kind),
        "summary": practice.summary or "",
        "description": practice.description or "",
        "commune_code": practice.commune_code,
        "province_code": practice.province_code,
        "address": practice.address_text or "",
        "hamlet": practice.hamlet or "",
        "setting": practice.setting.code if practice.setting else None,
        "forms": [t.code for t in _ordered(practice.forms)],
        "domains": [t.code for t in _ordered(practice.domains)],
        "target_groups": [t.code for t in _ordered(practice.target_groups)],
        "lead_organisation": (practice.lead_organisation.code
                              if practice.lead_organisation else None),
        "founded_on": practice.founded_on.isoformat() if practice.founded_on else None,
        "participants": practice.participants,
        "households": practice.households,
        "core_members": [{"name": m.name, "role": m.role.code if m.role else None,
                          "phone": m.phone or ""}
                         for m in sorted(practice.core_members, key=lambda m: m.position)],
        "outcomes": [outcome_to_dict(o)
                     for o in sorted(practice.outcomes, key=lambda o: o.period)],
        "replicated_from": (practice.replicated_from.external_id
                            if practice.replicated_from_id and practice.replicated_from
                            else None),
        "status": practice.status,
        "recognition_level": practice.recognition_level,
        "recognised_on": practice.recognised_on.isoformat() if practice.recognised_on else None,
    }
    if not include_personal:
        del record["core_members"]
    return record


def outcome_to_dict(outcome) -> dict:
    values = {"period": outcome.period}
    values.update({key: getattr(outcome, key) for key in INDICATORS})
    values["narrative"] = outcome.narrative or ""
    return values


def _ordered(terms):
    return sorted(terms, key=lambda t: (t.position, t.code))


def error_summary(errors: list[FieldError]) -> str:
    """One line in Vietnamese: "tên mô hình (name): quá dài; ..."."""
    parts = []
    for error in errors:
        base = error.field.split("[")[0].split(".")[0]
        label = FIELD_LABELS.get(base, "trường lạ")
        parts.append(f"{label} ({error.field}): {error.message}" if error.field
                     else error.message)
    return "; ".join(parts)
