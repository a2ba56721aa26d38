"""The one role check every route uses."""
from __future__ import annotations

from functools import wraps

from flask import abort, current_app
from flask_login import current_user

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
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:  # also for OPTIONS, unlike login_required
                return current_app.login_manager.unauthorized()
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
    def _check():
        # Not flask_login.login_required: it lets OPTIONS through unauthenticated (for CORS
        # preflights, which this app does not serve), and the role check below then met
        # an anonymous user without a role: a 500 instead of the login page.
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if current_user.role not in allowed:
            abort(403)

    bp.allowed_roles = frozenset(allowed)
    return bp
