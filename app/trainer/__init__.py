"""The trainer blueprint: `routes` defines it; each module adds one area's pages."""
from app.trainer import analytics, assignments, library, marking, review, trainees  # noqa: F401
