"""This server's first-look table: text_verdicts.

Revision ID: 0005_text_verdicts
Revises: 0004_warm_start
Create Date: 2026-12-01

``text_verdicts`` keeps, for each deployment file last opened or saved in the editor, what the
rules that read only the text found in it (JSON, with the digests of the text and of the rule
settings), so that opening the same text again shows those diagnostics before it is parsed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_text_verdicts"
down_revision = "0004_warm_start"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "text_verdicts",
        sa.Column("path", sa.String(), primary_key=True),
        sa.Column("content", sa.Text(), nullable=False),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("text_verdicts")
