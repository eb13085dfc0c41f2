# Apache Superset 6.1.0 plus the PostgreSQL driver it needs to read the atlas
# (the official "lean" image ships no database drivers).
FROM apache/superset:6.1.0
USER root
RUN . /app/.venv/bin/activate && uv pip install --no-cache psycopg2-binary==2.9.13
USER superset
