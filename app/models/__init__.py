"""SQLAlchemy models, split by area. Import from here."""
from app.models.assignments import Assignment, AssignmentTarget
from app.models.audit import AuditEvent, LoginAttempt, LoginThrottle
from app.models.certification import CaseAnswer, CertificationAttempt, CertificationResult
from app.models.content import RubricVersion, ScenarioDraft, ScenarioVersion
from app.models.drills import CriterionResult, Drill, FlagOverturn, ReviewComment, Score, ScoreAdjustment, Turn
from app.models.jobs import Job, JobItem
from app.models.notifications import Notification
from app.models.people import Cohort, Role, User, cohort_members

__all__ = [
    "Assignment", "AssignmentTarget", "CaseAnswer",
    "AuditEvent", "LoginAttempt", "LoginThrottle", "CertificationAttempt", "CertificationResult",
    "RubricVersion", "ScenarioDraft", "ScenarioVersion", "CriterionResult", "Drill", "FlagOverturn", "Score",
    "ScoreAdjustment", "ReviewComment", "Turn", "Cohort", "Role", "User", "cohort_members", "Notification", "Job", "JobItem",
]
