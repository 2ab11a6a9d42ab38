"""Two people editing one model: the second save is refused (409) and nothing of it is kept."""
from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import event, select, text

from registry.extensions import db
from registry.models.practices import Practice
from registry.models.revisions import Revision

OWN = "00070"
CONFLICT = ("Mô hình đã được người khác thay đổi trong lúc bạn sửa. "
            "Vui lòng tải lại trang và nhập lại thay đổi.")


def form_of(html: str, **changes) -> dict:
    """The edit form as a browser would send it back, with some fields changed."""
    data = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', html))
    data.update({
        "kind": "tu-phong-tu-quan-tu-bao-ve", "commune_code": OWN, "forms": ["tu-quan"],
        "action": "save"})
    data.update(changes)
    return data


def state(app, pid: int) -> tuple:
    with app.app_context():
        practice = db.session.get(Practice, pid)
        revisions = db.session.scalars(select(Revision.user_id).where(
            Revision.practice_id == pid)).all()
        return practice.name, practice.summary, practice.version, revisions


@pytest.fixture
def two_editors(app, make_user, login):
    first, second = app.test_client(), app.test_client()
    ids = make_user("officer", OWN), make_user("officer", OWN)
    login(first, ids[0])
    login(second, ids[1])
    return first, second, ids


def test_second_save_is_refused(app, make_practice, two_editors):
    first, second, (first_id, _) = two_editors
    pid = make_practice(name="Tên ban đầu", commune_code=OWN)
    page_a = first.get(f"/practices/{pid}/edit").get_data(as_text=True)
    page_b = second.get(f"/practices/{pid}/edit").get_data(as_text=True)

    saved = first.post(f"/practices/{pid}/edit", data=form_of(page_a, name="Tên của người A"))
    assert saved.status_code == 302
    refused = second.post(f"/practices/{pid}/edit",
                          data=form_of(page_b, name="Tên của người B", summary="Tóm tắt B"))
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert CONFLICT in html
    assert 'value="Tên của người B"' in html  # the refused input is shown to copy from
    name, summary, version, revisions = state(app, pid)
    assert (name, summary) == ("Tên của người A", "")
    assert version == 2 and revisions == [first_id]

    # Reloading gives the new version, and then the second editor can save.
    page_b = second.get(f"/practices/{pid}/edit").get_data(as_text=True)
    assert 'value="Tên của người A"' in page_b
    again = second.post(f"/practices/{pid}/edit", data=form_of(page_b, name="Tên của người B"))
    assert again.status_code == 302
    assert state(app, pid)[0] == "Tên của người B"


def test_member_list_conflict(app, make_practice, two_editors):
    first, second, _ = two_editors
    pid = make_practice(commune_code=OWN)
    version_a = re.search(r'name="version"[^>]*value="(\d+)"',
                          first.get(f"/practices/{pid}/members").get_data(as_text=True))[1]
    version_b = re.search(r'name="version"[^>]*value="(\d+)"',
                          second.get(f"/practices/{pid}/members").get_data(as_text=True))[1]
    row = {"members-0-role": "thanh-vien", "members-0-phone": ""}
    assert first.post(f"/practices/{pid}/members", data={
        "version": version_a, "members-0-name": "Người của A", **row}).status_code == 302
    refused = second.post(f"/practices/{pid}/members", data={
        "version": version_b, "members-0-name": "Người của B", **row})
    assert refused.status_code == 409 and CONFLICT in refused.get_data(as_text=True)
    with app.app_context():
        practice = db.session.get(Practice, pid)
        assert [m.name for m in practice.core_members] == ["Người của A"]


def test_results_report_conflict(app, make_practice, two_editors):
    first, second, _ = two_editors
    pid = make_practice(commune_code=OWN, outcomes=[{"period": "2025-H1", "surrenders": 1}])
    path = f"/practices/{pid}/outcomes/2025-H1/edit"
    versions = [re.search(r'name="version"[^>]*value="(\d+)"', c.get(path).get_data(
        as_text=True))[1] for c in (first, second)]
    assert first.post(path, data={"version": versions[0], "surrenders": "2"}).status_code == 302
    refused = second.post(path, data={"version": versions[1], "surrenders": "9"})
    assert refused.status_code == 409 and CONFLICT in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Practice, pid).outcomes[0].surrenders == 2


def test_write_between_check_and_save_is_refused(app, make_practice, two_editors):
    """Another transaction commits after the version check but before our UPDATE:
    the version column (SQLAlchemy version_id_col) catches it and nothing is saved."""
    first, _, _ = two_editors
    pid = make_practice(name="Tên ban đầu", commune_code=OWN)
    page = first.get(f"/practices/{pid}/edit").get_data(as_text=True)
    fired = []

    def concurrent_write(session, flush_context, instances):
        if fired:
            return
        fired.append(True)
        with db.engine.connect() as other:
            other.execute(text("UPDATE practice SET name = 'Tên của giao dịch khác', "
                               "version = version + 1 WHERE id = :id"), {"id": pid})
            other.commit()

    with app.app_context():
        factory = db.session.session_factory
    event.listen(factory, "before_flush", concurrent_write)
    try:
        response = first.post(f"/practices/{pid}/edit", data=form_of(page, name="Tên của A"))
    finally:
        event.remove(factory, "before_flush", concurrent_write)
    assert fired
    assert response.status_code == 409 and CONFLICT in response.get_data(as_text=True)
    name, _, version, revisions = state(app, pid)
    assert (name, version, revisions) == ("Tên của giao dịch khác", 2, [])


def test_simultaneous_saves_in_threads(app, make_practice, two_editors):
    """Two real requests at once from the same starting version: one wins, one gets 409."""
    first, second, _ = two_editors
    pid = make_practice(name="Tên ban đầu", commune_code=OWN)
    pages = [c.get(f"/practices/{pid}/edit").get_data(as_text=True) for c in (first, second)]
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def save(client, page, name):
        barrier.wait()
        results[name] = client.post(f"/practices/{pid}/edit",
                                    data=form_of(page, name=name)).status_code

    threads = [threading.Thread(target=save, args=(c, p, n)) for c, p, n in
               zip((first, second), pages, ("Tên của người A", "Tên của người B"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == [302, 409]
    winner = next(name for name, status in results.items() if status == 302)
    name, _, version, revisions = state(app, pid)
    assert (name, version, len(revisions)) == (winner, 2, 1)
