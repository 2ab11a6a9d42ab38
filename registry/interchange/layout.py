"""The CSV and XLSX layout: sheet names, columns with machine names and Vietnamese labels."""
from __future__ import annotations

import json
from typing import NamedTuple

from registry.domain.records import FIELD_LABELS, LIST_VOCABULARIES, RECORD_KEYS
from registry.domain.fields import INDICATORS
from registry.text import match_key

MODELS_SHEET, MEMBERS_SHEET, OUTCOMES_SHEET, VOCABULARY_SHEET = (
    "mo_hinh", "thanh_vien", "ket_qua", "danh_muc")
NESTED = ("core_members", "outcomes")
# XLSX keeps members and results on their own sheets; CSV carries them as JSON in a cell.
XLSX_MODEL_COLUMNS = tuple(k for k in RECORD_KEYS if k not in NESTED)
CSV_MODEL_COLUMNS = tuple(RECORD_KEYS)
MEMBER_COLUMNS = ("external_id", "name", "role", "phone")
OUTCOME_COLUMNS = ("external_id", "period") + INDICATORS + ("narrative",)
MEMBER_LABELS = {"external_id": "mã tham chiếu mô hình", "name": "họ và tên",
                 "role": "vai trò", "phone": "số điện thoại"}
OUTCOME_LABELS = {
    "external_id": "mã tham chiếu mô hình", "period": "kỳ báo cáo",
    "tips_reported": "tin báo, tố giác của nhân dân", "valuable_tips": "tin có giá trị",
    "disputes_mediated": "vụ việc hòa giải thành",
    "offenders_reintegrated": "người vi phạm được giáo dục, cảm hóa",
    "wanted_caught": "đối tượng truy nã bị bắt", "surrenders": "đối tượng ra đầu thú",
    "crimes_on_area": "vụ phạm pháp hình sự trên địa bàn",
    "traffic_accidents": "vụ tai nạn giao thông", "narrative": "nhận xét, đánh giá",
}
MODEL_LABELS = dict(FIELD_LABELS)
MODEL_LABELS["core_members"] = "lực lượng nòng cốt (JSON)"
MODEL_LABELS["outcomes"] = "kết quả theo kỳ (JSON)"
SEPARATOR = "; "


class SourceRow(NamedTuple):
    """One model read from a file: where it is, its raw dict, or why it could not be read."""

    location: str
    raw: dict | None
    error: str | None = None
    refs: dict | None = None  # "core_members[2]" -> "thanh_vien dòng 7" (XLSX)


class ImportFileError(Exception):
    """The file as a whole cannot be read (wrong sheets, unknown columns, bad encoding)."""


def map_header(cells, columns, labels: dict, where: str) -> list:
    """Column keys for a header row written with machine names or Vietnamese labels."""
    by_label = {match_key(labels[c]): c for c in columns}
    keys, unknown = [], []
    for cell in cells:
        text = "" if cell is None else str(cell).strip()
        if not text:
            keys.append(None)
            continue
        key = text if text in columns else by_label.get(match_key(text))
        if key is None:
            unknown.append(text)
        keys.append(key)
    if unknown:
        raise ImportFileError(f"{where}: cột không được hỗ trợ: " + ", ".join(unknown)
                              + ". Các cột hợp lệ: " + ", ".join(columns))
    if not any(keys):
        raise ImportFileError(f"{where}: thiếu dòng tiêu đề (tên cột)")
    return keys


def is_label_row(cells, keys, labels: dict) -> bool:
    """Is this the row of Vietnamese labels written under the machine names?"""
    seen = False
    for cell, key in zip(cells, keys):
        if cell in (None, "") or key is None:
            continue
        if match_key(str(cell)) != match_key(labels[key]):
            return False
        seen = True
    return seen


def to_cell(key: str, value, *, csv: bool = False):
    """A record value as a cell: lists joined by ";", nested lists as JSON (CSV)."""
    if key in NESTED:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if key in LIST_VOCABULARIES:
        return SEPARATOR.join(value or [])
    if value is None:
        return "" if csv else None
    return value


def from_cells(keys, cells) -> dict:
    """A raw record from a row; empty trailing cells are read as empty values."""
    raw = {}
    for key, cell in zip(keys, cells):
        if key is None:
            continue
        if isinstance(cell, float) and cell.is_integer():
            cell = int(cell)
        raw[key] = "" if cell is None else cell
    for key in keys:
        if key is not None and key not in raw:
            raw[key] = ""
    return raw


def empty_row(cells) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)
