"""decisions: one vote per approver, assignee, order creator, Shopify outcome of a decision

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("approval_request") as batch:
        batch.add_column(sa.Column("assignee", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("creator", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("outcome_state", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("outcome_error", sa.Text(), nullable=True))
    with op.batch_alter_table("decision") as batch:
        batch.create_unique_constraint("uq_decision_vote", ["request_id", "user_id"])


def downgrade() -> None:
    with op.batch_alter_table("decision") as batch:
        batch.drop_constraint("uq_decision_vote", type_="unique")
    with op.batch_alter_table("approval_request") as batch:
        batch.drop_column("outcome_error")
        batch.drop_column("outcome_state")
        batch.drop_column("creator")
        batch.drop_column("assignee")
