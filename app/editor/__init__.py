"""Trainers and admins write and change scenarios in the browser (app/services/authoring.py)."""
