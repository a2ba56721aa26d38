"""The session's user: a cookie names the user and the session version it was issued
under; a cookie from before a logout, password reset, role change or deactivation names
an older version and loads nobody, so the request is anonymous (login page or 401)."""
from app.extensions import db, login_manager
from app.ids import ID_MAX
from app.models import User


def _number(text: str) -> int | None:
    # ASCII digits within an INTEGER column's range, parsed without a huge int().
    if not text.isascii() or not text.isdigit() or len(text) > len(str(ID_MAX)):
        return None
    value = int(text)
    return value if value <= ID_MAX else None


def parse_session_id(value: str | None) -> tuple[int, int] | None:
    """(user id, session version) from a session's stored id "<id>:<version>"; None for
    anything else (a cookie written before versions existed included)."""
    user_id, sep, version = (value or "").partition(":")
    parsed = _number(user_id), _number(version)
    if not sep or None in parsed:
        return None
    return parsed


@login_manager.user_loader
def load_user(session_id: str):
    parsed = parse_session_id(session_id)
    if parsed is None:
        return None
    user = db.session.get(User, parsed[0])
    if user is None or not user.active or (user.session_version or 0) != parsed[1]:
        return None
    return user
