"""review loop: awaited answers, lead notification preference, sent-once keys

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("notify", sa.String(length=8), nullable=False, server_default="instant"))
    with op.batch_alter_table("dialogue_states") as batch:
        batch.add_column(sa.Column("awaiting", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("awaiting_idea_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_dialogue_states_awaiting_idea_id_ideas"),
            "ideas",
            ["awaiting_idea_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "sent_once",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sent_once")),
    )


def downgrade() -> None:
    op.drop_table("sent_once")
    with op.batch_alter_table("dialogue_states") as batch:
        batch.drop_constraint(op.f("fk_dialogue_states_awaiting_idea_id_ideas"), type_="foreignkey")
        batch.drop_column("awaiting_idea_id")
        batch.drop_column("awaiting")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("notify")
