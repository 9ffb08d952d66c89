"""Indexes for following merges from either end.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_entity_merges_source", "entity_merges", ["source_id"])
    op.create_index("ix_entity_merges_target", "entity_merges", ["target_id"])


def downgrade() -> None:
    op.drop_index("ix_entity_merges_target", table_name="entity_merges")
    op.drop_index("ix_entity_merges_source", table_name="entity_merges")
