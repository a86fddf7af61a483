"""retention: the pruning pass finds old webhook receipts and finished jobs by time (storage/retention.py)

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_receipt_received_at", "webhook_receipt", ["received_at"])
    op.create_index("ix_job_status_updated", "job", ["status", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_job_status_updated", table_name="job")
    op.drop_index("ix_receipt_received_at", table_name="webhook_receipt")
