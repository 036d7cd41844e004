"""invoices: the parent's own migration, taken meanwhile"""
from alembic import op
import sqlalchemy as sa

revision = "p2"
down_revision = "a1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("invoices", sa.Column("id", sa.Integer, primary_key=True), sa.Column("total", sa.Numeric(10, 2)))


def downgrade():
    op.drop_table("invoices")
