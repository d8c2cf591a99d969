"""A hand-over's contact: the e-mail address a shopper gave to be answered when nobody was there, with the purpose
they were told (their consent) and when; and when the hand-over asked for it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 23:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("handovers") as batch:
        batch.add_column(sa.Column("contact_asked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("contact_email", sa.String(320), nullable=True))
        batch.add_column(sa.Column("contact_consent", sa.Text(), nullable=True))
        batch.add_column(sa.Column("contact_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handovers") as batch:
        batch.drop_column("contact_at")
        batch.drop_column("contact_consent")
        batch.drop_column("contact_email")
        batch.drop_column("contact_asked_at")
