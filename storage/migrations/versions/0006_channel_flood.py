"""flood summaries: one row per channel, an index for a channel's unposted requests, what a message shows

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_flood",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )
    op.create_index("ix_request_channel_unposted", "approval_request", ["channel", "message_ts"])
    with op.batch_alter_table("approval_request") as batch:
        batch.add_column(sa.Column("drawn", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approval_request") as batch:
        batch.drop_column("drawn")
    op.drop_index("ix_request_channel_unposted", table_name="approval_request")
    op.drop_table("channel_flood")
