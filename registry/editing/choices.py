"""Choices offered by the editing forms: vocabulary terms and the places a user may use."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from registry import permissions
from registry.extensions import db
from registry.i18n import current_locale
from registry.models.places import Commune, Province
from registry.vocabularies import terms_of

NONE_CHOSEN = ("", _l("— Chưa chọn —"))


def term_choices(vocabulary: str, blank: bool = False) -> list[tuple[str, str]]:
    locale = current_locale()
    options = [(t.code, t.label(locale)[:1].upper() + t.label(locale)[1:])
               for t in terms_of(vocabulary)]
    return [NONE_CHOSEN] + options if blank else options


def may_choose_any_place(user) -> bool:
    """Administrators register models anywhere: they pick a province, then a commune."""
    return permissions.is_admin(user)


def provinces() -> list[tuple[str, str]]:
    return [(p.code, p.name) for p in db.session.scalars(
        select(Province).order_by(Province.sort_key, Province.code))]


def communes_of(province_code: str | None) -> list[tuple[str, str]]:
    if not province_code:
        return []
    return [(c.code, c.name) for c in db.session.scalars(
        select(Commune).where(Commune.province_code == province_code)
        .order_by(Commune.sort_key, Commune.code))]


def own_communes(user) -> list[tuple[str, str]]:
    """Communes named by the user's grants where permissions let them register models."""
    units = {g.unit for g in getattr(user, "grants", ())}
    if not units:
        return []
    candidates = db.session.scalars(
        select(Commune).where(or_(Commune.code.in_(units), Commune.province_code.in_(units)))
        .order_by(Commune.sort_key, Commune.code))
    return [(c.code, f"{c.name}, {c.province.name}") for c in candidates
            if permissions.can_create_practice(user, c.code, c.province_code)]


def place_choices(user, province_code: str | None) -> dict:
    """Choices for the province and commune selects of the model form."""
    if may_choose_any_place(user):
        return {"province_code": [("", _l("— Chọn tỉnh, thành phố —"))] + provinces(),
                "commune_code": [("", _l("— Chọn xã, phường, đặc khu —"))]
                + communes_of(province_code)}
    own = own_communes(user)
    return {"province_code": [], "commune_code": own if len(own) == 1
            else [("", _l("— Chọn xã, phường, đặc khu —"))] + own}


def vocabulary_choices() -> dict:
    return {
        "kind": term_choices("kind", blank=True),
        "setting": term_choices("setting", blank=True),
        "lead_organisation": term_choices("lead_organisation", blank=True),
        "forms": term_choices("form"),
        "domains": term_choices("domain"),
        "target_groups": term_choices("target_group"),
    }
