"""Cohorts and their members as the administrator manages them: rename, delete, who is
in which cohorts (a person may be in several), and creating people in bulk from a CSV file.

Deleting a cohort is refused while it has members or assignments: removing it would
silently take trainees out of their trainer's reach and withdraw assignments from them.
The administrator moves the members first (each person's page) and the trainer
withdraws or lets the assignments end; the message says how many of each remain.

A CSV import stores every row or none: one bad row (a taken name, an unknown cohort, a
short password) stops the whole file, and the report lists every fault of every row,
so the administrator fixes the file once and imports it again.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext
from sqlalchemy import func, select

from app.core.user_import import MAX_BYTES, ImportFileError, RowFault, UserRow, parse_users
from app.extensions import db
from app.models import AssignmentTarget, Cohort, User, cohort_members
from app.services import audit
from app.services.accounts import create_user
from app.services.review import N_, ShownError

NAME_MAX = 120
MAX_IMPORT_BYTES = MAX_BYTES


class CohortError(ShownError):
    """A cohort change refused, with the reason in the reader's language."""


def _clean_name(name: str, cohort_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise CohortError(N_("Give the cohort a name."))
    if len(name) > NAME_MAX:
        raise CohortError(N_("The name is longer than %(n)d characters."), n=NAME_MAX)
    clash = db.session.scalar(select(Cohort.id).where(Cohort.name == name))
    if clash is not None and clash != cohort_id:
        raise CohortError(N_("A cohort with this name exists."))
    return name


def rename(cohort: Cohort, name: str, actor) -> bool:
    """Give the cohort a new name; commits. False (nothing recorded) when the name is the
    same; CohortError for an empty, too long or taken name."""
    name = _clean_name(name, cohort.id)
    if name == cohort.name:
        return False
    old = cohort.name
    cohort.name = name
    audit.record("cohort_renamed", actor, f"cohort:{cohort.id}", before=old, after=name)
    db.session.commit()
    return True


def usage(cohort: Cohort) -> tuple[int, int]:
    """(members, assignments aimed at the cohort)."""
    members = db.session.scalar(select(func.count()).select_from(cohort_members)
                                .where(cohort_members.c.cohort_id == cohort.id))
    targets = db.session.scalar(select(func.count()).select_from(AssignmentTarget)
                                .where(AssignmentTarget.cohort_id == cohort.id))
    return members or 0, targets or 0


def delete(cohort: Cohort, actor) -> None:
    """Delete an empty cohort; commits. CohortError naming what is left while it has
    members or assignments (nothing is changed then)."""
    members, targets = usage(cohort)
    if members or targets:
        raise CohortError(N_("The cohort %(name)s still has %(members)d members and %(assignments)d assignments. "
                             "Move the members to another cohort (on each person's page) and let the trainer "
                             "withdraw the assignments, then delete it."),
                          name=cohort.name, members=members, assignments=targets)
    audit.record("cohort_deleted", actor, f"cohort:{cohort.id}", title=cohort.name)
    db.session.delete(cohort)
    db.session.commit()


def cohorts_by_id(ids) -> list[Cohort]:
    """The cohorts with these ids, by name; CohortError if one does not exist."""
    ids = sorted({int(i) for i in ids or ()})
    found = list(db.session.scalars(select(Cohort).where(Cohort.id.in_(ids)).order_by(Cohort.name))) if ids else []
    if len(found) != len(ids):
        raise CohortError(N_("A chosen cohort no longer exists: reload the page."))
    return found


# --- bulk import -----------------------------------------------------------------------------

@dataclass
class ImportReport:
    """What an import did: the people created, or every fault found (then none created)."""

    created: list[str] = field(default_factory=list)
    faults: list[RowFault] = field(default_factory=list)
    rows: int = 0

    def fault_lines(self) -> list[tuple[int, str, str]]:
        """(line, username, message in the reader's language), in file order."""
        return [(f.line, f.username, gettext(f.msgid, **f.params)) for f in sorted(self.faults, key=lambda f: f.line)]


def _database_faults(rows: list[UserRow]) -> tuple[list[RowFault], dict[str, Cohort]]:
    names = [r.username for r in rows]
    taken = {u.lower() for u in db.session.scalars(select(User.username).where(
        func.lower(User.username).in_([n.lower() for n in names])))} if names else set()
    wanted = {c for r in rows for c in r.cohorts}
    cohorts = {c.name: c for c in db.session.scalars(select(Cohort).where(Cohort.name.in_(wanted)))} if wanted else {}
    faults = []
    for r in rows:
        if r.username and r.username.lower() in taken:
            faults.append(RowFault(r.line, r.username, N_("The username %(name)s is taken."), {"name": r.username}))
        for c in r.cohorts:
            if c not in cohorts:
                faults.append(RowFault(r.line, r.username, N_("No cohort named %(cohort)s: create it first."),
                                       {"cohort": c}))
    return faults, cohorts


def import_users(data: bytes, actor) -> ImportReport:
    """Create the people of a CSV file (see `app.core.user_import`), all or none; commits
    when all rows are good. The report lists the faults of every bad row otherwise.
    Raises ImportFileError when the file as a whole cannot be read."""
    rows, faults = parse_users(data)
    more, cohorts = _database_faults(rows)
    report = ImportReport(faults=faults + more, rows=len(rows))
    if report.faults:
        return report
    try:
        for r in rows:
            user = create_user(r.username, r.password, r.role, r.display_name, [cohorts[c] for c in r.cohorts])
            db.session.flush()
            audit.record("user_created", actor=actor, target=user.username, role=user.role, via="csv",
                         cohorts=r.cohorts)
            report.created.append(user.username)
        audit.record("users_imported", actor=actor, target="users", rows=len(rows))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


__all__ = ["CohortError", "ImportFileError", "ImportReport", "cohorts_by_id", "delete", "import_users", "rename",
           "usage"]
