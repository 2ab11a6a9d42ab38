"""The revision history of a model, made readable: labels for fields, codes and values."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import format_datetime, gettext as _, lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry.services.uploads import format_size
from registry.extensions import db
from registry.i18n import current_locale
from registry.domain.records import FIELD_LABELS
from registry.models.places import Commune, Province
from registry.models.revisions import Revision
from registry.models.vocab import Term
from registry.domain.workflow import recognition_label, state_label

__all__ = ["revision_rows", "format_size"]

ACTION_LABELS = {
    "create": _l("Tạo mới"), "update": _l("Cập nhật"), "archive": _l("Lưu trữ"),
    "add_outcome": _l("Thêm báo cáo kết quả"), "add_evidence": _l("Tải lên tài liệu"),
    "delete_evidence": _l("Xóa tài liệu"),
}
SOURCE_LABELS = {"web": _l("giao diện web"), "api": "API", "import": _l("nhập tệp"),
                 "cli": _l("dòng lệnh")}
# Field labels of the history, translated (the interchange's FIELD_LABELS, which name codes
# and stay Vietnamese, are the fallback for fields added later).
EXTRA_LABELS = {
    "evidence": _l("tài liệu"), "address": _l("địa chỉ gốc"), "commune_code": _l("xã, phường"),
    "province_code": _l("tỉnh, thành phố"), "external_id": _l("mã tham chiếu"),
    "name": _l("tên mô hình"), "kind": _l("loại mô hình"), "summary": _l("tóm tắt"),
    "description": _l("mô tả"), "hamlet": _l("thôn/xóm/tổ dân phố"),
    "setting": _l("loại địa bàn"), "forms": _l("hình thức"), "domains": _l("lĩnh vực"),
    "target_groups": _l("đối tượng tham gia"), "lead_organisation": _l("cơ quan chủ trì"),
    "founded_on": _l("ngày thành lập"), "participants": _l("số người tham gia"),
    "households": _l("số hộ tham gia"), "core_members": _l("lực lượng nòng cốt"),
    "outcomes": _l("kết quả"), "replicated_from": _l("nhân rộng từ mô hình"),
    "status": _l("trạng thái"), "recognition_level": _l("cấp công nhận"),
    "recognised_on": _l("ngày công nhận"),
}
VOCABULARY_OF = {"kind": "kind", "setting": "setting", "lead_organisation": "lead_organisation",
                 "forms": "form", "domains": "domain", "target_groups": "target_group"}
MAX_SHOWN = 300


@dataclass
class ChangeRow:
    field: str
    old: str
    new: str


@dataclass
class RevisionRow:
    at: str
    who: str
    action: str
    source: str
    changes: list[ChangeRow]


class _Labels:
    """Looks up the labels of vocabulary codes and place codes lazily, once per render."""

    def __init__(self) -> None:
        self._terms: dict[tuple[str, str], str] | None = None
        self._places: dict[str, str] = {}

    def term(self, vocabulary: str, code) -> str:
        if self._terms is None:
            locale = current_locale()
            self._terms = {(t.vocabulary, t.code): t.label(locale)
                           for t in db.session.scalars(select(Term))}
        return self._terms.get((vocabulary, str(code)), str(code))

    def place(self, field: str, code) -> str:
        key = f"{field}:{code}"
        if key not in self._places:
            model = Commune if field == "commune_code" else Province
            row = db.session.get(model, str(code))
            self._places[key] = f"{row.name} ({code})" if row else str(code)
        return self._places[key]


def _short(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def _value(field: str, value, labels: _Labels) -> str:
    if value in (None, "", []):
        return "—"
    if field in VOCABULARY_OF:
        if isinstance(value, list):
            return "; ".join(labels.term(VOCABULARY_OF[field], v) for v in value)
        return labels.term(VOCABULARY_OF[field], value)
    if field in ("commune_code", "province_code"):
        return labels.place(field, value)
    if field == "status":
        return state_label(str(value), current_locale())
    if field == "recognition_level":
        return recognition_label(str(value), current_locale())
    if field == "core_members" and isinstance(value, list):
        return "; ".join(
            " — ".join(p for p in (m.get("name") or "",
                                  labels.term("member_role", m["role"]) if m.get("role")
                                  else "", m.get("phone") or "") if p)
            for m in value if isinstance(m, dict)) or "—"
    if field == "outcomes":
        items = value if isinstance(value, list) else [value]
        return "; ".join(_outcome(o, labels) for o in items if isinstance(o, dict)) or "—"
    if field in ("founded_on", "recognised_on"):
        try:
            return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    if isinstance(value, list):
        return _short("; ".join(str(v) for v in value))
    return _short(str(value))


def _outcome(outcome: dict, labels: _Labels) -> str:
    counts = [f"{labels.term('indicator', k)}: {v}" for k, v in outcome.items()
              if k not in ("period", "narrative") and v is not None]
    period = _("kỳ %(period)s", period=outcome.get("period"))
    return period + (f" ({', '.join(counts)})" if counts else "")


def field_label(field: str) -> str:
    label = str(EXTRA_LABELS.get(field) or FIELD_LABELS.get(field) or field)
    return label[:1].upper() + label[1:]


def _when(at: datetime) -> str:
    return format_datetime(at, "dd/MM/yyyy HH:mm")


def revision_rows(practice, limit: int = 200) -> list[RevisionRow]:
    """The newest revisions of a practice first, with readable old → new values."""
    revisions = db.session.scalars(
        select(Revision).where(Revision.practice_id == practice.id)
        .options(selectinload(Revision.user))
        .order_by(Revision.at.desc(), Revision.id.desc()).limit(limit)).all()
    labels = _Labels()
    rows = []
    for revision in revisions:
        changes = [ChangeRow(field_label(c.get("field", "")),
                             _value(c.get("field", ""), c.get("old"), labels),
                             _value(c.get("field", ""), c.get("new"), labels))
                   for c in revision.changes or [] if isinstance(c, dict)]
        rows.append(RevisionRow(
            at=_when(revision.at), who=revision.user.name if revision.user else _("Hệ thống"),
            action=ACTION_LABELS.get(revision.action, revision.action),
            source=SOURCE_LABELS.get(revision.source, revision.source),
            changes=changes))
    return rows
