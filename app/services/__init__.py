"""Glue between the Flask-free core and the database: each function is one use case."""
