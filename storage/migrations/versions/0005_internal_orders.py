"""internal orders (/order-request): request kind, draft state, the placed order, the requester's input and DM

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = [
    # server_default fills existing rows (every earlier request is a flagged order); the model supplies it after.
    sa.Column("kind", sa.String(length=16), nullable=False, server_default="order"),
    sa.Column("draft_state", sa.String(length=16), nullable=True),
    sa.Column("draft_error", sa.Text(), nullable=True),
    sa.Column("placed_order_gid", sa.String(length=255), nullable=True),
    sa.Column("placed_order_name", sa.String(length=64), nullable=True),
    sa.Column("request_input", sa.JSON(), nullable=False, server_default="{}"),
    sa.Column("dm_channel", sa.String(length=64), nullable=True),
    sa.Column("dm_ts", sa.String(length=32), nullable=True),
]


def upgrade() -> None:
    with op.batch_alter_table("approval_request") as batch:
        for column in COLUMNS:
            batch.add_column(column)
    # The server defaults only backfilled old rows; the models are the single source of defaults.
    with op.batch_alter_table("approval_request") as batch:
        batch.alter_column("kind", server_default=None)
        batch.alter_column("request_input", server_default=None)
    op.create_index("ix_request_requester", "approval_request", ["requester", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_request_requester", table_name="approval_request")
    with op.batch_alter_table("approval_request") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column.name)
