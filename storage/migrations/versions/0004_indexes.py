"""indexes for the queue, history, audit and stats at size (100k requests, 1M audit events)

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = [
    # queue: pending requests oldest first, optionally by policy
    ("ix_request_status_created", "approval_request", ["status", "created_at", "id"]),
    ("ix_request_policy_status", "approval_request", ["policy_id", "status", "created_at"]),
    # stats / audit: decided requests in a time window
    ("ix_request_decided_at", "approval_request", ["decided_at"]),
    # history: an order by its name
    ("ix_request_order_name", "approval_request", ["order_name"]),
    # "mine" and per-approver figures
    ("ix_decision_user", "decision", ["user_id", "at"]),
    # audit export by time
    ("ix_audit_event_at", "audit_event", ["at"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
