"""SkinMap: the public dermatology image datasets as one PostgreSQL + pgvector atlas."""

__version__ = "0.1.0"
