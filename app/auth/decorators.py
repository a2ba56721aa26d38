"""The one role check every route uses."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from app.models import Role


def roles_required(*roles: Role | str):
    """Allow only logged-in users holding one of `roles`.

    Anonymous users are sent to the login page (Flask-Login); a logged-in user with
    another role gets 403.
    """
    allowed = {r.value if isinstance(r, Role) else r for r in roles}
    unknown = allowed - set(Role.values())
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(sorted(unknown))}")

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(allowed)  # read by the authorization-matrix test
        return wrapped

    return decorator


def blueprint_roles(bp, *roles: Role | str):
    """Guard every view of `bp` with roles_required(*roles) via before_request."""
    allowed = {r.value if isinstance(r, Role) else r for r in roles}

    @bp.before_request
    @login_required
    def _check():
        if current_user.role not in allowed:
            abort(403)

    bp.allowed_roles = frozenset(allowed)
    return bp
