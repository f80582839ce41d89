"""SQLAlchemy models, engine and session set-up, and one small repository per aggregate."""
