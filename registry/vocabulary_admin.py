"""Administrators extend vocabularies without code: add, confirm or merge terms (CLI)."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select, update

from registry.extensions import db
from registry.services.uow import unit_of_work
from registry.models.practices import (
    CoreMember, Practice, practice_domains, practice_forms, practice_target_groups,
)
from registry.models.vocab import VOCABULARIES, Term
from registry.search.changes import record_changes
from registry.text import clean_line, match_key

# Where each vocabulary's terms are referenced: (table or ORM column, column name).
_SINGLE_REFERENCES = {"kind": [Practice.kind_id], "setting": [Practice.setting_id],
                      "lead_organisation": [Practice.lead_organisation_id],
                      "member_role": [CoreMember.role_id]}
_LINK_TABLES = {"form": practice_forms, "domain": practice_domains,
                "target_group": practice_target_groups}


class VocabularyError(ValueError):
    """A vocabulary change that cannot be made; the message is Vietnamese."""


def find_term(vocabulary: str, code: str) -> Term:
    term = db.session.scalar(select(Term).where(Term.vocabulary == vocabulary,
                                                Term.code == code))
    if term is None:
        raise VocabularyError(f"không có mục “{code}” trong danh mục {vocabulary}")
    return term


def add_term(vocabulary: str, code: str, label_vi: str, label_en: str = "") -> Term:
    """Add a confirmed term (an administrator's decision, not an import's guess)."""
    if vocabulary not in VOCABULARIES:
        raise VocabularyError(f"không có danh mục “{vocabulary}”")
    code = code.strip()
    if not code or len(code) > 80:
        raise VocabularyError("mã phải có từ 1 đến 80 ký tự")
    if db.session.scalar(select(Term.id).where(Term.vocabulary == vocabulary,
                                               Term.code == code)):
        raise VocabularyError(f"mã “{code}” đã có trong danh mục {vocabulary}")
    label_vi = clean_line(label_vi)
    if db.session.scalar(select(Term.id).where(Term.vocabulary == vocabulary,
                                               Term.match_key == match_key(label_vi))):
        raise VocabularyError(f"tên “{label_vi}” đã có trong danh mục {vocabulary}")
    last = db.session.scalar(select(Term.position).where(Term.vocabulary == vocabulary)
                             .order_by(Term.position.desc()).limit(1)) or 0
    term = Term(vocabulary=vocabulary, code=code, label_vi=label_vi, label_en=label_en,
                match_key=match_key(label_vi), position=last + 1, origin="admin",
                needs_review=False)
    db.session.add(term)
    db.session.flush()
    return term


def confirm_term(term: Term) -> Term:
    """Accept a term that an import added as new."""
    term.needs_review = False
    db.session.flush()
    return term


def merge_term(source: Term, target: Term) -> int:
    """Point everything that used `source` at `target`; returns the practices affected."""
    if source.vocabulary != target.vocabulary:
        raise VocabularyError("chỉ gộp được các mục cùng một danh mục")
    if source.id == target.id or target.merged_into_id:
        raise VocabularyError("không gộp được vào chính nó hoặc vào mục đã bị gộp")
    affected: set[int] = set()
    for column in _SINGLE_REFERENCES.get(source.vocabulary, []):
        table = column.class_
        owner = table.id if table is Practice else table.practice_id
        affected.update(db.session.scalars(select(owner).where(column == source.id)))
        db.session.execute(update(table).where(column == source.id)
                           .values({column.key: target.id}))
    link = _LINK_TABLES.get(source.vocabulary)
    if link is not None:
        rows = db.session.execute(select(link.c.practice_id, link.c.term_id)
                                  .where(link.c.term_id.in_([source.id, target.id]))).all()
        having_target = {p for p, t in rows if t == target.id}
        for practice_id, term_id in rows:
            if term_id != source.id:
                continue
            affected.add(practice_id)
            where = (link.c.practice_id == practice_id) & (link.c.term_id == source.id)
            if practice_id in having_target:
                db.session.execute(link.delete().where(where))
            else:
                db.session.execute(link.update().where(where).values(term_id=target.id))
    source.merged_into_id = target.id
    source.needs_review = False
    db.session.flush()
    db.session.expire_all()
    record_changes(db.session, affected)
    return len(affected)


@click.group("vocabulary")
def vocabulary_group() -> None:
    """List and extend vocabularies (kinds, domains, ...): add, confirm, merge."""


@vocabulary_group.command("list")
@click.argument("vocabulary", required=False)
@click.option("--new", "only_new", is_flag=True, help="Only terms waiting for review.")
@with_appcontext
def list_command(vocabulary: str | None, only_new: bool) -> None:
    """Print terms as: vocabulary, code, Vietnamese label, and [mới] when awaiting review."""
    query = select(Term).where(Term.merged_into_id.is_(None)).order_by(
        Term.vocabulary, Term.position, Term.id)
    if vocabulary:
        query = query.where(Term.vocabulary == vocabulary)
    if only_new:
        query = query.where(Term.needs_review.is_(True))
    for term in db.session.scalars(query):
        flag = " [mới]" if term.needs_review else ""
        click.echo(f"{term.vocabulary}\t{term.code}\t{term.label_vi}{flag}")


def _run(action):
    try:
        with unit_of_work(source="cli"):
            message = action()
    except VocabularyError as exc:
        raise click.ClickException(str(exc))
    click.echo(message)


@vocabulary_group.command("add")
@click.argument("vocabulary")
@click.argument("code")
@click.option("--vi", "label_vi", required=True, help="Vietnamese label.")
@click.option("--en", "label_en", default="", help="English label.")
@with_appcontext
def add_command(vocabulary: str, code: str, label_vi: str, label_en: str) -> None:
    """Add a term to a vocabulary."""
    _run(lambda: f"Đã thêm “{add_term(vocabulary, code, label_vi, label_en).label_vi}”.")


@vocabulary_group.command("confirm")
@click.argument("vocabulary")
@click.argument("code")
@with_appcontext
def confirm_command(vocabulary: str, code: str) -> None:
    """Accept a term an import added as new."""
    _run(lambda: f"Đã xác nhận “{confirm_term(find_term(vocabulary, code)).label_vi}”.")


@vocabulary_group.command("merge")
@click.argument("vocabulary")
@click.argument("code")
@click.option("--into", "target_code", required=True, help="Code of the term to keep.")
@with_appcontext
def merge_command(vocabulary: str, code: str, target_code: str) -> None:
    """Merge a term into another: every model using it now uses the other."""
    def merge():
        count = merge_term(find_term(vocabulary, code), find_term(vocabulary, target_code))
        return f"Đã gộp “{code}” vào “{target_code}” ({count} mô hình được cập nhật)."
    _run(merge)


def register(app: Flask) -> None:
    app.cli.add_command(vocabulary_group)
