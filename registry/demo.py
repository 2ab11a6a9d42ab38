"""Demo data: deterministic plausible models on real communes, removable in one command."""
from __future__ import annotations

from datetime import date
from random import Random

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import delete, func, select, update

from registry.extensions import db
from registry.services.uow import unit_of_work
from registry.services.reference import check_record
from registry.models.places import Commune
from registry.domain.fields import INDICATORS
from registry.models.practices import Practice
from registry.search.changes import record_changes
from registry.services import ensure_transaction
from registry.services.practices import upsert_by_external_id
from registry.vocabularies import VocabularyIndex, terms_of

DEFAULT_COUNT = 800
DEFAULT_SEED = 1

SURNAMES = ("Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi",
            "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Lò", "Hà", "Triệu", "Mai")
MIDDLE = ("Văn", "Thị", "Đức", "Hữu", "Ngọc", "Minh", "Thanh", "Quang", "Thu", "Xuân")
GIVEN = ("An", "Bình", "Cường", "Dũng", "Đạt", "Giang", "Hà", "Hải", "Hạnh", "Hoa", "Hùng",
         "Hương", "Khánh", "Lan", "Long", "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm",
         "Thảo", "Thủy", "Trang", "Tuấn", "Vân", "Yến")
VILLAGE_WORDS = ("Đông", "Tây", "Nam", "Bắc", "Thượng", "Hạ", "Trung", "An Lạc", "Tân Lập",
                 "Đồng Tâm", "Hòa Bình", "Thống Nhất", "Phú Xuân", "Vĩnh Hòa", "Mỹ Lộc")
ACTIVITIES = (
    "Tổ chức tuần tra, canh gác vào ban đêm và các dịp lễ, Tết.",
    "Tuyên truyền, phổ biến pháp luật qua loa truyền thanh và các buổi họp khu dân cư.",
    "Hòa giải kịp thời mâu thuẫn, tranh chấp nhỏ trong nhân dân.",
    "Vận động các hộ gia đình ký cam kết không vi phạm pháp luật, không sử dụng ma túy.",
    "Giúp đỡ, cảm hóa người chấp hành xong án phạt tù tái hòa nhập cộng đồng.",
    "Duy trì hòm thư và số điện thoại đường dây nóng để nhân dân cung cấp thông tin.",
    "Lắp đặt camera an ninh tại các ngã ba, ngã tư bằng nguồn xã hội hóa.",
    "Tổ chức diễn tập phòng cháy, chữa cháy tại các điểm công cộng.",
)
FUNDING = (
    "Kinh phí do nhân dân tự nguyện đóng góp và được công khai tại các cuộc họp.",
    "Doanh nghiệp và nhà hảo tâm trên địa bàn hỗ trợ trang thiết bị.",
    "Ngân sách xã hỗ trợ một phần, phần còn lại do xã hội hóa.",
)
NARRATIVES = (
    "Tình hình an ninh, trật tự ổn định, không phát sinh điểm nóng.",
    "Nhân dân tích cực cung cấp thông tin; các vụ việc được giải quyết dứt điểm.",
    "Cần tăng cường tuyên truyền phòng, chống ma túy trong thanh niên.",
    "Duy trì sinh hoạt định kỳ, rút kinh nghiệm sau mỗi đợt tuần tra.",
)


def _person(rng: Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _hamlet(rng: Random, commune_name: str) -> str:
    if commune_name.startswith("Phường"):
        return f"Tổ dân phố {rng.randint(1, 25)}"
    return rng.choice(("Thôn ", "Xóm ", "Ấp ", "Bản ")) + rng.choice(VILLAGE_WORDS)


def _outcomes(rng: Random, founded: date) -> list[dict]:
    periods = [f"{y}-H{h}" for y in range(max(founded.year, 2019), 2025) for h in (1, 2)]
    chosen = periods[-rng.randint(1, 4):] if periods else []
    out = []
    for period in chosen:
        values = {key: rng.randint(0, 6) for key in INDICATORS}
        values["valuable_tips"] = min(values["valuable_tips"], values["tips_reported"])
        out.append({"period": period, **values, "narrative": rng.choice(NARRATIVES)})
    return out


def demo_records(count: int, seed: int):
    """Yield (raw record, status) pairs; the same count and seed give the same records."""
    rng = Random(seed)
    communes = [(code, name, province) for code, name, province in db.session.execute(
        select(Commune.code, Commune.name, Commune.province_code).order_by(Commune.code))]
    # Seeded terms only: what administrators add later must not change the demo set.
    vocab = {name: [t.code for t in terms_of(name) if t.origin == "seed"]
             for name in ("kind", "form", "domain", "setting", "target_group",
                          "lead_organisation", "member_role")}
    labels = {t.code: t.label_vi for t in terms_of("kind")}
    # A few provinces carry most of the models, as in real catalogues.
    provinces = sorted({province for _, _, province in communes})
    busy = set(rng.sample(provinces, min(8, len(provinces))))
    weights = [6 if province in busy else 1 for _, _, province in communes]
    approved: list[tuple[str, str]] = []
    for i in range(1, count + 1):
        external_id = f"demo-{seed}-{i:05d}"
        code, commune_name, _ = rng.choices(communes, weights=weights)[0]
        kind = rng.choice(vocab["kind"])
        hamlet = _hamlet(rng, commune_name)
        source = rng.choice(approved) if approved and rng.random() < 0.1 else None
        if source:
            kind = source[1]
        name = f"{labels[kind]} {hamlet}"
        founded = date(rng.randint(2008, 2024), rng.randint(1, 12), rng.randint(1, 28))
        households = rng.randint(30, 600)
        raw = {
            "external_id": external_id, "name": name, "kind": kind,
            "summary": f"Mô hình “{labels[kind]}” tại {hamlet}, {commune_name} (dữ liệu minh họa).",
            "description": "### Tổ chức\n\nBan điều hành gồm trưởng thôn, công an xã và đại diện "
                           "các đoàn thể.\n\n### Hoạt động\n\n"
                           + "\n".join("- " + a for a in rng.sample(ACTIVITIES, 3))
                           + "\n\n### Kinh phí\n\n" + rng.choice(FUNDING),
            "commune_code": code, "hamlet": hamlet,
            "setting": "do-thi" if commune_name.startswith("Phường") else "nong-thon",
            "forms": rng.sample(vocab["form"], rng.randint(1, 3)),
            "domains": rng.sample(vocab["domain"], rng.randint(1, 3)),
            "target_groups": rng.sample(vocab["target_group"], rng.randint(1, 2)),
            "lead_organisation": rng.choice(vocab["lead_organisation"]),
            "founded_on": founded.isoformat(), "households": households,
            "participants": int(households * rng.uniform(1.2, 2.5)),
            "core_members": [{"name": _person(rng), "role": rng.choice(vocab["member_role"]),
                              "phone": "09%08d" % rng.randrange(10 ** 8)}
                             for _ in range(rng.randint(2, 4))],
            "outcomes": _outcomes(rng, founded),
        }
        if source:
            raw["replicated_from"] = source[0]
        roll = rng.random()
        status = "registered"
        if roll < 0.06:
            status = "approved"
            raw["recognition_level"] = rng.choice(("province", "province", "national"))
            raw["recognised_on"] = date(2025, rng.randint(1, 6), rng.randint(1, 28)).isoformat()
            approved.append((external_id, kind))
        elif roll < 0.10:
            status = "nominated"
        yield raw, status


def generate_demo(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Create (or refresh) `count` demo models through the write path; flushes, no commit."""
    vocab = VocabularyIndex()
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    ensure_transaction()
    for raw, status in demo_records(count, seed):
        record = check_record(raw, vocab=vocab, allow_new_kinds=False, allow_workflow=True)
        record["status"] = status
        practice, outcome = upsert_by_external_id(record, source="demo", vocab=vocab,
                                                  is_demo=True)
        counts[outcome] += 1
    return counts


def remove_demo() -> int:
    """Delete every demo model (members, results, revisions go with it); returns how many."""
    session = db.session
    ids = list(session.scalars(select(Practice.id).where(Practice.is_demo.is_(True))))
    if not ids:
        return 0
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        session.execute(update(Practice).where(Practice.replicated_from_id.in_(chunk))
                        .values(replicated_from_id=None), execution_options={
                            "synchronize_session": False})
    session.execute(delete(Practice).where(Practice.is_demo.is_(True)),
                    execution_options={"synchronize_session": False})
    record_changes(session, ids)  # a bulk statement bypasses the flush hook
    session.expire_all()
    return len(ids)


@click.command("demo")
@click.option("--count", type=click.IntRange(min=0), default=DEFAULT_COUNT, show_default=True,
              help="How many demo models to generate.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True,
              help="Same seed and count, same models.")
@click.option("--remove", is_flag=True, help="Delete every demo model instead.")
@with_appcontext
def demo_command(count: int, seed: int, remove: bool) -> None:
    """Generate deterministic demo models on real communes, or remove them all."""
    if remove:
        with unit_of_work(source="demo"):
            removed = remove_demo()
        click.echo(f"Đã xóa {removed} mô hình minh họa.")
        return
    with unit_of_work(source="demo"):
        counts = generate_demo(count, seed)
    click.echo(f"Mô hình minh họa: tạo mới {counts['created']}, cập nhật {counts['updated']}, "
               f"không đổi {counts['unchanged']}.")


def seed_demo_on_setup(demo_count: int) -> None:
    """`registry setup` hook: fill an empty catalogue with demo models."""
    if demo_count <= 0 or db.session.scalar(select(func.count()).select_from(Practice)):
        return
    with unit_of_work(source="demo"):
        counts = generate_demo(demo_count, DEFAULT_SEED)
    click.echo(f"Đã tạo {counts['created']} mô hình minh họa (xóa bằng: registry demo --remove).")


def register(app: Flask) -> None:
    """Add this module's commands to app.cli and its hook to `registry setup`."""
    from registry.cli import SETUP_HOOKS
    app.cli.add_command(demo_command)
    if seed_demo_on_setup not in SETUP_HOOKS:
        SETUP_HOOKS.append(seed_demo_on_setup)
