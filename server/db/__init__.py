"""Database layer: typed models, engine and migrations."""
