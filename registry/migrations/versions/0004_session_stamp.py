"""Session stamp per account: sessions end on the server at sign-out and password change

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 23:15:00

Each existing account gets its own random stamp, so sessions signed before the upgrade
(which carry no stamp) end: their holders sign in again once.
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    # Added in place, NOT NULL with an empty default (SQLite cannot make an existing column
    # NOT NULL without copying the table, and copying "user" would cascade-delete its grants
    # and tokens under foreign keys). An empty stamp never matches a session (sessions.py).
    op.add_column('user', sa.Column('session_stamp', sa.String(length=32), nullable=False,
                                    server_default=''))
    bind = op.get_bind()
    users = sa.table('user', sa.column('id', sa.Integer), sa.column('session_stamp', sa.String))
    for user_id in bind.execute(sa.select(users.c.id)).scalars().all():
        bind.execute(users.update().where(users.c.id == user_id)
                     .values(session_stamp=secrets.token_hex(16)))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_stamp')
