"""Administrative units: the current list and pre-2025 address conversion."""
import pytest
from sqlalchemy import func, select

from registry.extensions import db
from registry.models.places import Commune, Province
from registry.domain.records import normalise_code
from registry.units import resolve_address


def test_current_units_are_loaded(app_ctx):
    assert db.session.scalar(select(func.count()).select_from(Province)) == 34
    assert db.session.scalar(select(func.count()).select_from(Commune)) == 3321
    kinds = dict(db.session.execute(
        select(Commune.division_type, func.count()).group_by(Commune.division_type)).all())
    assert sum(kinds.values()) == 3321 and kinds["xã"] == 2621 and kinds["phường"] == 687


def test_loading_units_twice_changes_nothing(app_ctx):
    from registry.units import load_units
    assert load_units() == (34, 3321)


@pytest.mark.parametrize("address", [
    "Xã Tân Dân, Huyện Khoái Châu, Tỉnh Hưng Yên",
    "xa tan dan, huyen khoai chau, tinh hung yen",
    "Thôn Đông, Xã Tân Dân, Huyện Khoái Châu, Tỉnh Hưng Yên",
])
def test_legacy_address_converts_to_current_commune(address):
    result = resolve_address(address)
    assert result.problem is None and result.legacy
    assert result.commune_code == "12220"  # Xã Triệu Việt Vương, Tỉnh Hưng Yên


def test_legacy_ward_in_ho_chi_minh_city():
    result = resolve_address("Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh")
    assert result.commune_code == "26740"  # Phường Sài Gòn


@pytest.mark.parametrize("address, code", [
    ("Phường Hoàn Kiếm, Thành phố Hà Nội", "00070"),
    ("phuong hoan kiem, ha noi", "00070"),
    ("Xã Triệu Việt Vương, Tỉnh Hưng Yên", "12220"),
])
def test_current_address_resolves_directly(address, code):
    result = resolve_address(address)
    assert result.commune_code == code and not result.legacy


@pytest.mark.parametrize("address", [
    "Xã Không Có, Huyện Khoái Châu, Tỉnh Hưng Yên",
    "Hưng Yên",
    "Xã Tân Dân, Tỉnh Không Tồn Tại",
])
def test_unresolvable_address_is_reported_not_guessed(address):
    result = resolve_address(address)
    assert result.commune_code is None and result.problem


def test_divided_legacy_commune_lists_candidates_instead_of_guessing():
    result = resolve_address("Xã Tân Thạnh, Huyện Thới Lai, Thành phố Cần Thơ")
    assert result.commune_code is None
    assert len(result.candidates) >= 2 and "nhiều đơn vị mới" in result.problem


@pytest.mark.parametrize("value, expected", [
    (70, "00070"), ("70", "00070"), ("00070", "00070"), ("70.0", "00070"), ("x1", None),
    ("", None), (None, None), ("123456", None),
])
def test_normalise_commune_code(value, expected):
    assert normalise_code(value, 5) == expected
