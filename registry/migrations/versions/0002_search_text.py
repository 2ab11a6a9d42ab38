"""Full-text structures of the SQL search backend: practice_text (FTS5 or tsvector + GIN)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 20:30:00

practice_text holds, per practice, its searchable words already normalised by
registry.search.text_rows (exact spelling and folded, name and body), one space between
words, so the database tokenisers only split on spaces. It is not part of the ORM metadata:
registry.search.text_table reads and writes it with plain SQL per dialect.
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

COLUMNS = ("name_exact", "name_folded", "body_exact", "body_folded")


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE practice_text USING fts5("
            + ", ".join(COLUMNS)
            + ", tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3')")
    else:
        _create_postgresql_table()
    _fill()


def _fill():
    """A database that already holds practices gets their words now (as `registry reindex`)."""
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM practice")).scalar():
        from registry.search.documents import rebuild_all
        rebuild_all(bind)


def _create_postgresql_table():
    op.execute(
        "CREATE TABLE practice_text ("
        "practice_id INTEGER PRIMARY KEY, "
        + ", ".join(f"{c} TEXT NOT NULL DEFAULT ''" for c in COLUMNS) + ", "
        + ", ".join(f"{c}_tsv tsvector GENERATED ALWAYS AS "
                    f"(to_tsvector('simple'::regconfig, {c})) STORED" for c in COLUMNS)
        + ")")
    for column in COLUMNS:
        op.execute(f"CREATE INDEX ix_practice_text_{column}_tsv ON practice_text "
                   f"USING gin ({column}_tsv)")


def downgrade():
    op.execute("DROP TABLE IF EXISTS practice_text")
