"""The trainee blueprint: `routes` defines it; each module adds one area's pages."""
from app.trainee import certification, leaderboard, progress, reports  # noqa: F401
