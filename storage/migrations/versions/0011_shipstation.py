"""ShipStation (issue #20): each shop's ShipStation API key, sealed, and what holdfast did to each request's shipment

The key is a Fernet token (storage/secrets.py), so TEXT; it is sealed by holdfast at its next start
(SHIPSTATION_API_KEYS), by `holdfast shipstation key`, or again by `holdfast rotate-secrets`. A migration seals
nothing: it does not have HOLDFAST_SECRET_KEY.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shipstation_keys",
        sa.Column("shop_domain", sa.String(length=255), nullable=False),
        sa.Column("key_sealed", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("shop_domain"),
    )
    op.create_table(
        "shipstation_shipments",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("shop_domain", sa.String(length=255), nullable=False),
        sa.Column("shipment_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("hold_until", sa.Date(), nullable=True),
        sa.Column("warehouse_id", sa.String(length=64), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("looked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["approval_request.id"]),
        sa.PrimaryKeyConstraint("request_id"),
    )
    # The reconciliation pass reads one shop's unfinished shipments, oldest first (storage/shipstation.py).
    op.create_index("ix_shipstation_shop_state", "shipstation_shipments", ["shop_domain", "state", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_shipstation_shop_state", table_name="shipstation_shipments")
    op.drop_table("shipstation_shipments")
    op.drop_table("shipstation_keys")
