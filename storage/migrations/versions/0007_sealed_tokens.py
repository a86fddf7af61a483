"""sealed tokens: shop.access_token holds a Fernet token (storage/secrets.py), so it becomes TEXT

Sealing grows a token by about a third plus 76 characters: VARCHAR(255) would leave room for a plaintext token of
127 bytes only, and Shopify has lengthened its tokens before. The tokens themselves are sealed by holdfast at its
next start (SHOPIFY_SHOPS) or by `holdfast rotate-secrets`, which need HOLDFAST_SECRET_KEY; a migration does not.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shop") as batch:
        batch.alter_column("access_token", type_=sa.Text(), existing_type=sa.String(length=255),
                           existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("shop") as batch:
        batch.alter_column("access_token", type_=sa.String(length=255), existing_type=sa.Text(),
                           existing_nullable=False)
