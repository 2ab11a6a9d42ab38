"""Administrative units: loading the current 34/3,321 list and resolving old or new addresses."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import func, select

from registry.extensions import db
from registry.models.places import Commune, Province
from registry.text import clean_line, collation_key, match_key

_UNIT_PREFIX = re.compile(
    r"^(thanh pho|tinh|thu do|xa|phuong|dac khu|thi tran|huyen|quan|thi xa|tp\.?|tt\.?)\s+")
# Words that mark a pre-2025 district component ("Huyện Khoái Châu", "Quận 1", "Thị xã ...").
_DISTRICT_WORDS = re.compile(r"^(huyen|quan|thi xa|thanh pho|tp)\b")


def _short(name: str) -> str:
    """The name without its unit word: "Xã Tân Dân" -> "Tân Dân"."""
    key = match_key(name)
    stripped = _UNIT_PREFIX.sub("", key)
    words = name.split()
    drop = len(key.split()) - len(stripped.split())
    return " ".join(words[drop:]) if 0 < drop < len(words) else name


def _name_unit(row, source):
    """Copy a unit's official name and type, with its matching and sorting keys; add it."""
    row.name = source.name
    row.short_name = _short(source.name)
    row.division_type = source.division_type.value
    row.name_key = match_key(row.short_name)
    row.sort_key = collation_key(row.short_name)
    db.session.add(row)
    return row


def load_units() -> tuple[int, int]:
    """Insert or refresh all current provinces and communes from `vietnam-provinces`."""
    from vietnam_provinces import Province as VpProvince
    from vietnam_provinces import Ward as VpWard

    provinces = {p.code: p for p in db.session.scalars(select(Province))}
    for source in VpProvince.iter_all():
        code = "%02d" % int(source.code)
        _name_unit(provinces.get(code) or Province(code=code), source)
    db.session.flush()
    communes = {c.code: c for c in db.session.scalars(select(Commune))}
    for source in VpWard.iter_all():
        code = "%05d" % int(source.code)
        row = _name_unit(communes.get(code) or Commune(code=code), source)
        row.province_code = "%02d" % int(source.province_code)
    db.session.flush()
    return (db.session.scalar(select(func.count()).select_from(Province)),
            db.session.scalar(select(func.count()).select_from(Commune)))


@dataclass
class Resolution:
    """The outcome of resolving an address: a current commune, or why there is none."""

    commune_code: str | None = None
    legacy: bool = False
    problem: str | None = None
    candidates: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _current_index() -> dict:
    """(province key, commune key) -> commune code, and province key -> province code."""
    from vietnam_provinces import Province as VpProvince
    from vietnam_provinces import Ward as VpWard

    provinces = {}
    for p in VpProvince.iter_all():
        code = "%02d" % int(p.code)
        provinces[match_key(_short(p.name))] = code
        provinces[match_key(p.name)] = code
    communes: dict[tuple[str, str], list[str]] = {}
    for w in VpWard.iter_all():
        pcode = "%02d" % int(w.province_code)
        code = "%05d" % int(w.code)
        for key in {match_key(w.name), match_key(_short(w.name))}:
            communes.setdefault((pcode, key), []).append(code)
    return {"provinces": provinces, "communes": communes}


def _province_code_for(text: str) -> str | None:
    index = _current_index()["provinces"]
    key = match_key(text)
    aliases = {"hcm": "ho chi minh", "tp hcm": "ho chi minh", "tphcm": "ho chi minh",
               "sai gon": "ho chi minh", "hn": "ha noi", "thu do ha noi": "ha noi"}
    key = aliases.get(key, key)
    return index.get(key) or index.get(_UNIT_PREFIX.sub("", key))


def _current_commune(commune_text: str, province_code: str) -> list[str]:
    communes = _current_index()["communes"]
    key = match_key(commune_text)
    found = communes.get((province_code, key)) or communes.get(
        (province_code, _UNIT_PREFIX.sub("", key)))
    return sorted(set(found or []))


def resolve_address(address: str) -> Resolution:
    """Resolve "commune, province" (current) or "commune, district, province" (pre-2025).

    Anything before the unit components (a street, a hamlet) is ignored, so nothing is ever
    looked up online. An address that does not name exactly one current commune is reported
    with the reason; it is never guessed.
    """
    parts = [clean_line(p) for p in (address or "").split(",") if clean_line(p)]
    if len(parts) < 2:
        return Resolution(problem="địa chỉ cần ít nhất xã/phường và tỉnh/thành phố")
    province_code = _province_code_for(parts[-1])
    has_district = len(parts) >= 3 and _DISTRICT_WORDS.match(match_key(parts[-2]))
    if province_code and not has_district:
        found = _current_commune(parts[-2], province_code)
        if len(found) == 1:
            return Resolution(commune_code=found[0])
        if len(found) > 1:
            return Resolution(problem="tên xã/phường trùng nhau trong tỉnh", candidates=found)
    if len(parts) < 3:
        if province_code is None:
            return Resolution(problem=f"không tìm thấy tỉnh/thành phố “{parts[-1]}”")
        return Resolution(problem=f"không tìm thấy xã/phường “{parts[-2]}” trong tỉnh hiện nay;"
                                  " địa chỉ cũ cần ghi cả huyện/quận")
    return _resolve_legacy(parts[-3], parts[-2], parts[-1])


@lru_cache(maxsize=1)
def _divided_wards() -> dict:
    from vietnamadminunits.converter.converter_2025 import DICT_PROVINCE_WARD_DIVIDED
    return DICT_PROVINCE_WARD_DIVIDED


def _new_ward_name(province_key: str, ward_key: str) -> str:
    rows = [r for r in _new_wards()
            if r["provinceKey"] == province_key and r["wardKey"] == ward_key]
    return rows[0]["ward"] if rows else ward_key


@lru_cache(maxsize=1)
def _new_wards() -> list[dict]:
    from vietnamadminunits.database import get_data
    return get_data(fields=["provinceKey", "wardKey", "ward"], table="admin_units")


def _resolve_legacy(ward: str, district: str, province: str) -> Resolution:
    """Convert a pre-2025 commune to the current one through `vietnamadminunits` (offline)."""
    from vietnamadminunits import ParseMode, parse_address
    from vietnamadminunits.converter.converter_2025 import DICT_PROVINCE

    text = f"{ward}, {district}, {province}"
    try:
        old = parse_address(text, mode=ParseMode.LEGACY, keep_street=False, level=3)
    except Exception:  # the parser raises on text it cannot read at all
        old = None
    if old is None or not old.ward_key or not old.district_key:
        return Resolution(legacy=True,
                          problem=f"không tìm thấy đơn vị hành chính cũ “{text}”")
    new_province_key = next((k for k, v in DICT_PROVINCE.items() if old.province_key in v),
                            None)
    old_key = f"{old.province_key}_{old.district_key}_{old.ward_key}"
    divided = _divided_wards().get(new_province_key, {}).get(old_key)
    if divided:
        names = sorted(_new_ward_name(new_province_key, w["newWardKey"]) for w in divided)
        return Resolution(legacy=True, problem="xã/phường cũ đã được chia cho nhiều đơn vị mới;"
                          " hãy ghi mã xã/phường hiện nay", candidates=names)
    from vietnamadminunits import convert_address
    try:
        new = convert_address(text)
    except Exception:
        new = None
    if new is None or not new.ward:
        return Resolution(legacy=True, problem=f"không chuyển đổi được địa chỉ cũ “{text}”")
    pcode = "%02d" % int(new.province_code)
    found = _current_commune(new.ward, pcode)
    if len(found) != 1:
        return Resolution(legacy=True, problem=f"không khớp được “{new.ward}” với danh mục"
                                               " đơn vị hành chính hiện nay", candidates=found)
    return Resolution(commune_code=found[0], legacy=True)
