"""JSON Lines: one record per line, read and written as a stream."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from registry.domain.records import json_integer
from registry.interchange.layout import SourceRow


def read_jsonl(path) -> Iterator[SourceRow]:
    """Yield each non-blank line as a raw record; a line that is not JSON yields its error."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            location = f"dòng {number}"
            try:
                raw = json.loads(line, parse_int=json_integer)
            except json.JSONDecodeError as exc:
                yield SourceRow(location, None, f"JSON không hợp lệ (cột {exc.colno}: "
                                                f"{exc.msg})")
                continue
            except (ValueError, RecursionError) as exc:
                yield SourceRow(location, None, f"JSON không hợp lệ ({str(exc)[:200]})")
                continue
            if not isinstance(raw, dict):
                yield SourceRow(location, None, "mỗi dòng phải là một đối tượng JSON {...}")
                continue
            yield SourceRow(location, raw)


def write_jsonl(path, records: Iterable[dict]) -> int:
    count = 0
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
    return count
