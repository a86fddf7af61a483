"""erasable audit rows: each row may carry its personal data apart, as `personal`, with the salted digest the
chain covers (`personal_digest`); erasing nulls `personal` and keeps the digest, so the chain still verifies

Rows written before this revision keep both columns NULL and chain exactly as before (storage/audit.py).

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("personal", sa.JSON(none_as_null=True), nullable=True))
        batch.add_column(sa.Column("personal_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("personal_digest")
        batch.drop_column("personal")
