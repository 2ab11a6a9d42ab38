"""XLSX: sheets mo_hinh (models), thanh_vien (core members), ket_qua (results), danh_muc."""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from registry.interchange.layout import (
    MEMBER_COLUMNS, MEMBER_LABELS, MEMBERS_SHEET, MODEL_LABELS, MODELS_SHEET, OUTCOME_COLUMNS,
    OUTCOME_LABELS, OUTCOMES_SHEET, VOCABULARY_SHEET, XLSX_MODEL_COLUMNS, ImportFileError,
    SourceRow, empty_row, from_cells, is_label_row, map_header, to_cell,
)

SHEETS = (MODELS_SHEET, MEMBERS_SHEET, OUTCOMES_SHEET, VOCABULARY_SHEET)
VOCABULARY_COLUMNS = ("vocabulary", "code", "label_vi")
VOCABULARY_LABELS = {"vocabulary": "danh mục", "code": "mã", "label_vi": "tên tiếng Việt"}


def _rows(sheet, columns, labels):
    """(row number, raw dict) of a sheet whose first row names the columns."""
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return
    keys = map_header(header, columns, labels, f"trang tính “{sheet.title}”")
    for number, cells in enumerate(rows, 2):
        if empty_row(cells) or (number == 2 and is_label_row(cells, keys, labels)):
            continue
        yield number, from_cells(keys, cells)


def _children(sheet, columns, labels, field: str) -> dict:
    """external_id -> [(row number, child dict)] of a members or results sheet."""
    found: dict = {}
    if sheet is None:
        return found
    for number, raw in _rows(sheet, columns, labels):
        external_id = str(raw.pop("external_id", "") or "").strip()
        found.setdefault(external_id, []).append((number, raw))
    return found


def read_xlsx(path) -> Iterator[SourceRow]:
    """Yield each model row with its members and results attached from the other sheets.

    Members and results are read first (keyed by the model's external_id); models stream.
    """
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise ImportFileError(f"không đọc được tệp XLSX: {exc}") from exc
    try:
        names = book.sheetnames
        unknown = [n for n in names if n not in SHEETS]
        if MODELS_SHEET not in names or unknown:
            raise ImportFileError(
                "tệp XLSX phải có trang tính “mo_hinh” (mô hình) và có thể có “thanh_vien” "
                "(lực lượng nòng cốt), “ket_qua” (kết quả), “danh_muc”; tìm thấy: "
                + ", ".join(f"“{n}”" for n in names))
        members = _children(book[MEMBERS_SHEET] if MEMBERS_SHEET in names else None,
                            MEMBER_COLUMNS, MEMBER_LABELS, "core_members")
        outcomes = _children(book[OUTCOMES_SHEET] if OUTCOMES_SHEET in names else None,
                             OUTCOME_COLUMNS, OUTCOME_LABELS, "outcomes")
        used = set()
        for number, raw in _rows(book[MODELS_SHEET], XLSX_MODEL_COLUMNS, MODEL_LABELS):
            external_id = str(raw.get("external_id") or "").strip()
            refs = {}
            if external_id:
                for field, sheet, children in (("core_members", MEMBERS_SHEET, members),
                                               ("outcomes", OUTCOMES_SHEET, outcomes)):
                    if external_id in children:
                        used.add((field, external_id))
                        raw[field] = [child for _, child in children[external_id]]
                        for i, (row, _) in enumerate(children[external_id], 1):
                            refs[f"{field}[{i}]"] = f"{sheet} dòng {row}"
            yield SourceRow(f"{MODELS_SHEET} dòng {number}", raw, None, refs)
        for field, sheet, children in (("core_members", MEMBERS_SHEET, members),
                                       ("outcomes", OUTCOMES_SHEET, outcomes)):
            for external_id, rows in children.items():
                if (field, external_id) in used:
                    continue
                for row, _ in rows:
                    yield SourceRow(f"{sheet} dòng {row}", None,
                                    f"không có mô hình với mã tham chiếu “{external_id}” "
                                    "trong trang tính mo_hinh" if external_id else
                                    "thiếu mã tham chiếu mô hình (external_id)")
    finally:
        book.close()


def _sheet(book, title, columns, labels):
    sheet = book.create_sheet(title)
    sheet.append(list(columns))
    sheet.append([labels[c] for c in columns])
    return sheet


def write_xlsx(path, records: Iterable[dict], *, include_personal: bool = True,
               vocabulary_rows: Iterable[tuple] = ()) -> int:
    """Write records streaming (write-only workbook); row 1 machine names, row 2 labels."""
    book = Workbook(write_only=True)
    models = _sheet(book, MODELS_SHEET, XLSX_MODEL_COLUMNS, MODEL_LABELS)
    members = _sheet(book, MEMBERS_SHEET, MEMBER_COLUMNS, MEMBER_LABELS)
    outcomes = _sheet(book, OUTCOMES_SHEET, OUTCOME_COLUMNS, OUTCOME_LABELS)
    vocabulary = _sheet(book, VOCABULARY_SHEET, VOCABULARY_COLUMNS, VOCABULARY_LABELS)
    count = 0
    for record in records:
        models.append([to_cell(c, record.get(c)) for c in XLSX_MODEL_COLUMNS])
        external_id = record.get("external_id")
        if not external_id:
            count += 1  # members and results attach by external_id: JSONL/CSV carry them
            continue
        if include_personal:
            for member in record.get("core_members") or []:
                members.append([external_id] + [to_cell(c, member.get(c))
                                                for c in MEMBER_COLUMNS[1:]])
        for outcome in record.get("outcomes") or []:
            outcomes.append([external_id] + [to_cell(c, outcome.get(c))
                                             for c in OUTCOME_COLUMNS[1:]])
        count += 1
    for row in vocabulary_rows:
        vocabulary.append(list(row))
    book.save(path)
    return count
