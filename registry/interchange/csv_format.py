"""CSV: one file holding the models sheet; members and results as JSON in their cells."""
from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from registry.domain.records import json_integer
from registry.interchange.layout import (
    CSV_MODEL_COLUMNS, MODEL_LABELS, NESTED, ImportFileError, SourceRow, empty_row,
    from_cells, is_label_row, map_header, to_cell,
)

csv.field_size_limit(10_000_000)


def read_csv(path) -> Iterator[SourceRow]:
    """Yield each data row; the header row holds machine names or Vietnamese labels."""
    try:
        handle = open(path, encoding="utf-8-sig", newline="")
        with handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise ImportFileError("tệp CSV trống")
            keys = map_header(header, CSV_MODEL_COLUMNS, MODEL_LABELS, "tệp CSV")
            start = reader.line_num
            for cells in reader:
                location = f"dòng {start + 1}"
                start = reader.line_num
                if empty_row(cells) or is_label_row(cells, keys, MODEL_LABELS):
                    continue
                raw = from_cells(keys, cells)
                error = _nested_json(raw)
                yield SourceRow(location, None if error else raw, error)
    except UnicodeDecodeError as exc:
        raise ImportFileError("tệp CSV phải được lưu với mã hóa UTF-8") from exc


def _nested_json(raw: dict) -> str | None:
    for key in NESTED:
        if key not in raw:
            continue
        text = raw[key]
        if text in ("", None):
            del raw[key]  # an empty cell leaves the members/results unchanged
            continue
        try:
            raw[key] = json.loads(text, parse_int=json_integer)
        except (TypeError, ValueError, RecursionError) as exc:
            return f"cột {key}: JSON không hợp lệ ({exc})"
    return None


def write_csv(path, records: Iterable[dict], *, include_personal: bool = True) -> int:
    columns = [c for c in CSV_MODEL_COLUMNS if include_personal or c != "core_members"]
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(columns)
        for record in records:
            writer.writerow([to_cell(c, record.get(c), csv=True) for c in columns])
            count += 1
    return count
