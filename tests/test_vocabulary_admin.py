"""Administrators extend vocabularies from the command line: add, confirm, merge."""

from registry.extensions import db
from registry.models.practices import Practice
from registry.vocabularies import VocabularyIndex


def test_add_term_then_resolve_it_by_label_without_diacritics(runner, app):
    result = runner.invoke(args=["vocabulary", "add", "domain", "an-toan-thuc-pham",
                                 "--vi", "an toàn thực phẩm", "--en", "food safety"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        term = VocabularyIndex().resolve("domain", "AN TOAN THUC PHAM")
        assert term is not None and term.code == "an-toan-thuc-pham" and term.origin == "admin"


def test_adding_a_duplicate_label_is_refused_in_vietnamese(runner):
    result = runner.invoke(args=["vocabulary", "add", "form", "x", "--vi", "Tự Quản"])
    assert result.exit_code != 0 and "đã có" in result.output


def test_new_kind_is_listed_for_review_then_confirmed(runner, app):
    with app.app_context():
        VocabularyIndex().add_open_term("kind", "Tổ tuần tra bến đò")
        db.session.commit()
    listed = runner.invoke(args=["vocabulary", "list", "kind", "--new"]).output
    assert "Tổ tuần tra bến đò [mới]" in listed and "Xóm đạo bình yên" not in listed
    code = listed.split("\t")[1]
    assert runner.invoke(args=["vocabulary", "confirm", "kind", code]).exit_code == 0
    assert "[mới]" not in runner.invoke(args=["vocabulary", "list", "kind", "--new"]).output


def test_merge_moves_models_to_the_kept_kind(runner, app, make_practice):
    with app.app_context():
        new = VocabularyIndex().add_open_term("kind", "Xom dao binh yen (trung)")
        db.session.commit()
        new_code = new.code
    pid = make_practice(kind=new_code)
    result = runner.invoke(args=["vocabulary", "merge", "kind", new_code,
                                 "--into", "xom-dao-binh-yen"])
    assert result.exit_code == 0 and "1 mô hình" in result.output
    with app.app_context():
        practice = db.session.get(Practice, pid)
        assert practice.kind.code == "xom-dao-binh-yen"
        assert VocabularyIndex().resolve("kind", "Xom dao binh yen (trung)").code == \
            "xom-dao-binh-yen"


def test_merge_of_a_multi_valued_term_keeps_one_link(runner, app, make_practice):
    runner.invoke(args=["vocabulary", "add", "domain", "pc-ma-tuy-2", "--vi", "chống ma túy"])
    pid = make_practice(domains=["pc-ma-tuy", "pc-ma-tuy-2"])
    result = runner.invoke(args=["vocabulary", "merge", "domain", "pc-ma-tuy-2",
                                 "--into", "pc-ma-tuy"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        codes = [t.code for t in db.session.get(Practice, pid).domains]
        assert codes == ["pc-ma-tuy"]


def test_merge_across_vocabularies_is_refused(runner):
    result = runner.invoke(args=["vocabulary", "merge", "kind", "to-hoa-giai",
                                 "--into", "tu-quan"])
    assert result.exit_code != 0 and "không có mục" in result.output
