"""accounts.plan: the branch's migration"""
from alembic import op
import sqlalchemy as sa

revision = "b2"
down_revision = "a1"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("accounts", sa.Column("plan", sa.Text))
    op.create_index("accounts_plan_email", "accounts", ["plan", "email"])


def downgrade():
    op.drop_column("accounts", "plan")
