"""Online migrations only, against PGBRANCH_URL."""
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine

if context.config.config_file_name is not None:
    fileConfig(context.config.config_file_name)

url = os.environ["PGBRANCH_URL"].replace("postgresql://", "postgresql+psycopg2://", 1)
with create_engine(url).connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
