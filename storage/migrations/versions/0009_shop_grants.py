"""shop grants: how each shop's token is obtained (legacy static token, client credentials, authorization code),
when it expires, its sealed refresh token, the renewal lease, and the install / uninstall times

`access_token` becomes nullable: an uninstalled shop keeps its row (its requests and audit trail name it) but no
token (https://shopify.dev/docs/apps/build/authentication-authorization/app-installation/uninstall-app-api-request:
an uninstalled app's tokens are revoked). Existing rows are legacy tokens, installed when they were created.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("shop") as batch:
        batch.alter_column("access_token", existing_type=sa.Text(), nullable=True)
        batch.add_column(sa.Column("grant_type", sa.String(length=24), nullable=False, server_default="legacy"))
        batch.add_column(sa.Column("token_expires_at", _TIME, nullable=True))
        batch.add_column(sa.Column("refresh_token", sa.Text(), nullable=True))
        batch.add_column(sa.Column("refresh_expires_at", _TIME, nullable=True))
        batch.add_column(sa.Column("scopes", sa.Text(), nullable=True))
        batch.add_column(sa.Column("installed_at", _TIME, nullable=True))
        batch.add_column(sa.Column("uninstalled_at", _TIME, nullable=True))
        batch.add_column(sa.Column("renew_until", _TIME, nullable=True))
        batch.add_column(sa.Column("renew_owner", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("token_error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shop") as batch:
        for name in ("token_error", "renew_owner", "renew_until", "uninstalled_at", "installed_at", "scopes",
                     "refresh_expires_at", "refresh_token", "token_expires_at", "grant_type"):
            batch.drop_column(name)
        batch.alter_column("access_token", existing_type=sa.Text(), nullable=False)
