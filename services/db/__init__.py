"""The state of record: SQLAlchemy models, engine, and Alembic migrations."""
