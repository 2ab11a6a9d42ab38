"""Demo data: deterministic, plausible, marked as demo, removable in one command."""
from __future__ import annotations

from sqlalchemy import func, select

from registry.cli import SETUP_HOOKS
from registry.demo import seed_demo_on_setup
from registry.extensions import db
from registry.domain.records import practice_to_record
from registry.models.places import Commune
from registry.models.practices import Practice
from registry.models.search_log import SearchChange


def demo_records(app) -> list[dict]:
    with app.app_context():
        practices = db.session.scalars(select(Practice).where(Practice.is_demo.is_(True))
                                       .order_by(Practice.external_id))
        return [practice_to_record(p, include_personal=True) for p in practices]


def test_same_seed_gives_the_same_models(app, runner):
    result = runner.invoke(args=["demo", "--count", "25", "--seed", "7"])
    assert result.exit_code == 0 and "tạo mới 25" in result.output
    first = demo_records(app)
    assert len(first) == 25
    assert runner.invoke(args=["demo", "--remove"]).exit_code == 0
    runner.invoke(args=["demo", "--count", "25", "--seed", "7"])
    assert demo_records(app) == first
    result = runner.invoke(args=["demo", "--count", "25", "--seed", "7"])
    assert "không đổi 25" in result.output  # running again changes nothing
    runner.invoke(args=["demo", "--remove"])
    runner.invoke(args=["demo", "--count", "25", "--seed", "8"])
    other = demo_records(app)
    assert [r["name"] for r in other] != [r["name"] for r in first]


def test_demo_models_are_plausible(app, runner):
    assert runner.invoke(args=["demo", "--count", "150", "--seed", "1"]).exit_code == 0
    with app.app_context():
        practices = list(db.session.scalars(select(Practice)))
        assert len(practices) == 150 and all(p.is_demo for p in practices)
        codes = {p.commune_code for p in practices}
        assert db.session.scalar(select(func.count()).select_from(Commune).where(
            Commune.code.in_(codes))) == len(codes)  # real communes
        assert len({p.province_code for p in practices}) > 10
        statuses = {p.status for p in practices}
        assert {"registered", "approved", "nominated"} <= statuses
        replicas = [p for p in practices if p.replicated_from_id]
        assert replicas and all(r.replicated_from.status == "approved" for r in replicas)
        assert all(p.core_members and p.domains and p.forms for p in practices)


def test_remove_deletes_every_demo_model_and_logs_it(app, runner, make_practice):
    runner.invoke(args=["demo", "--count", "40", "--seed", "2"])
    with app.app_context():
        source_id = db.session.scalar(select(Practice.id).where(Practice.status == "approved"))
        demo_ids = set(db.session.scalars(select(Practice.id)))
    own = make_practice(name="Mô hình thật", replicated_from_id=source_id)
    result = runner.invoke(args=["demo", "--remove"])
    assert result.exit_code == 0 and "Đã xóa 40 mô hình minh họa" in result.output
    with app.app_context():
        assert list(db.session.scalars(select(Practice.id))) == [own]
        assert db.session.get(Practice, own).replicated_from_id is None
        logged = set(db.session.scalars(select(SearchChange.practice_id)))
        assert demo_ids <= logged


def test_setup_seeds_demo_models_only_into_an_empty_catalogue(app, make_practice):
    assert seed_demo_on_setup in SETUP_HOOKS
    with app.app_context():
        seed_demo_on_setup(6)
        assert db.session.scalar(select(func.count()).select_from(Practice)) == 6
        seed_demo_on_setup(6)  # not empty any more: nothing added
        assert db.session.scalar(select(func.count()).select_from(Practice)) == 6
        seed_demo_on_setup(0)
        assert db.session.scalar(select(func.count()).select_from(Practice)) == 6
