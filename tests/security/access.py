"""Who may use which route: the expected outcome of every rule of the URL map, per method,
for anonymous visitors and each role. Written here by hand, not read from the code under
test; `test_access_matrix.py` fails on a rule or method missing from this table, so a
new route cannot ship without someone deciding who may use it.

Outcomes:
  ok        the request passes the guard (GET/HEAD: 200; POST: anything but a refusal or 5xx)
  redirect  a redirect somewhere other than the login page (e.g. / sends a user home)
  login     a redirect to the login page (anonymous visitors; also log-out's own result)
  403       refused: logged in with another role
  404       refused as if missing (used by the ownership table below)

HEAD answers like GET. OPTIONS answers like the blueprint's role guard: `login` and `403`
stay, any other outcome becomes `ok` (Flask answers OPTIONS itself, the view does not
run); the unguarded auth routes and static files answer OPTIONS with `ok` to everyone.
"""
from __future__ import annotations

COLUMNS = ("anonymous", "trainee", "trainer", "hr", "admin")

TABLE = """
# endpoint                       method  anonymous trainee  trainer  hr       admin
auth.index                       GET     login     redirect redirect redirect redirect
auth.login                       GET     ok        redirect redirect redirect redirect
auth.login                       POST    ok        redirect redirect redirect redirect
auth.logout                      POST    login     login    login    login    login
auth.set_language                POST    redirect  redirect redirect redirect redirect
auth.change_password             GET     login     ok       ok       ok       ok
auth.change_password             POST    login     ok       ok       ok       ok
static                           GET     ok        ok       ok       ok       ok

trainee.home                     GET     login     ok       403      403      403
trainee.start                    GET     login     ok       403      403      403
trainee.start                    POST    login     ok       403      403      403
trainee.start_assigned           POST    login     ok       403      403      403
trainee.drill                    GET     login     ok       403      403      403
trainee.post_turn                POST    login     ok       403      403      403
trainee.hint                     POST    login     ok       403      403      403
trainee.end                      POST    login     ok       403      403      403
trainee.discard                  POST    login     ok       403      403      403
trainee.report                   GET     login     ok       403      403      403
trainee.download                 GET     login     ok       403      403      403
trainee.retry_scoring            POST    login     ok       403      403      403
trainee.cert_home                GET     login     ok       403      403      403
trainee.cert_track               GET     login     ok       403      403      403
trainee.cert_start               POST    login     ok       403      403      403
trainee.cert_exam                GET     login     ok       403      403      403
trainee.cert_exam                POST    login     ok       403      403      403
trainee.cert_exam_begin          POST    login     ok       403      403      403
trainee.cert_exam_save           POST    login     ok       403      403      403
trainee.cert_results             GET     login     ok       403      403      403
trainee.cert_drill               POST    login     ok       403      403      403
trainee.cert_case                POST    login     ok       403      403      403
trainee.cert_finish              POST    login     ok       403      403      403
trainee.leaderboard_page         GET     login     ok       403      403      403
trainee.leaderboard_opt          POST    login     ok       403      403      403

trainer.home                     GET     login     403      ok       403      403
trainer.drill_report             GET     login     403      ok       403      403
trainer.download                 GET     login     403      ok       403      403
trainer.upload                   GET     login     403      ok       403      403
trainer.upload                   POST    login     403      ok       403      403
trainer.upload_file              POST    login     403      ok       403      403
trainer.retry_scoring            POST    login     403      ok       403      403
trainer.batches                  GET     login     403      ok       403      403
trainer.batches                  POST    login     403      ok       403      403
trainer.batch                    GET     login     403      ok       403      403
trainer.batch_json               GET     login     403      ok       403      403
trainer.rescore                  POST    login     403      ok       403      403
trainer.review_queue             GET     login     403      ok       403      403
trainer.review_drill             GET     login     403      ok       403      403
trainer.review_adjust            POST    login     403      ok       403      403
trainer.review_mark              POST    login     403      ok       403      403
trainer.review_release           POST    login     403      ok       403      403
trainer.review_overturn          POST    login     403      ok       403      403
trainer.review_restore           POST    login     403      ok       403      403
trainer.assignments              GET     login     403      ok       403      403
trainer.assignment_new           GET     login     403      ok       403      403
trainer.assignment_new           POST    login     403      ok       403      403
trainer.assignment_deactivate    POST    login     403      ok       403      403
trainer.analytics_page           GET     login     403      ok       403      403
trainer.library                  GET     login     403      ok       403      403
trainer.library_rubric           GET     login     403      ok       403      403
trainer.library_scenario         GET     login     403      ok       403      403
trainer.marking                  GET     login     403      ok       403      403
trainer.mark                     POST    login     403      ok       403      403
trainer.suggest                  POST    login     403      ok       403      403
trainer.trainee                  GET     login     403      ok       403      403

# the scenario editor: trainers and admins; a play-test answers only to whoever started it
# (the admin's values name the cohort trainer's play-test: 404)
editor.index                     GET     login     403      ok       403      ok
editor.new                       POST    login     403      ok       403      ok
editor.edit                      POST    login     403      ok       403      ok
editor.draft                     GET     login     403      ok       403      ok
editor.draft                     POST    login     403      ok       403      ok
editor.validate                  POST    login     403      ok       403      ok
editor.draft_rubric              GET     login     403      ok       403      ok
editor.rubric                    GET     login     403      ok       403      ok
editor.playtest                  GET     login     403      ok       403      404
editor.post_turn                 POST    login     403      ok       403      404
editor.end                       POST    login     403      ok       403      404

hr.home                          GET     login     403      403      ok       403
hr.person                        GET     login     403      403      ok       403
hr.runs                          GET     login     403      403      ok       403
hr.drill_report                  GET     login     403      403      ok       403
hr.drill_download                GET     login     403      403      ok       403
hr.export                        GET     login     403      403      ok       403
hr.certificate                   GET     login     403      403      ok       403
hr.prepare_export                POST    login     403      403      ok       403
hr.export_job                    GET     login     403      403      ok       403
hr.export_download               GET     login     403      403      ok       403
hr.export_retry                  POST    login     403      403      ok       403

admin.home                       GET     login     403      403      403      ok
admin.user_new                   GET     login     403      403      403      ok
admin.user_new                   POST    login     403      403      403      ok
admin.user_edit                  GET     login     403      403      403      ok
admin.user_edit                  POST    login     403      403      403      ok
admin.user_password              POST    login     403      403      403      ok
admin.cohorts                    GET     login     403      403      403      ok
admin.cohorts                    POST    login     403      403      403      ok
admin.cohort_edit                GET     login     403      403      403      ok
admin.cohort_edit                POST    login     403      403      403      ok
admin.cohort_delete              POST    login     403      403      403      ok
admin.users_import               GET     login     403      403      403      ok
admin.users_import               POST    login     403      403      403      ok
admin.audit_log                  GET     login     403      403      403      ok

# every role: its own notifications (the list, opening one, marking all read, its own e-mail address)
notices.index                    GET     login     ok       ok       ok       ok
notices.open_one                 POST    login     ok       ok       ok       ok
notices.read_all                 POST    login     ok       ok       ok       ok
notices.email                    POST    login     ok       ok       ok       ok

# public: anyone checks a certificate by its code (the world's "code" value names none: 404)
verify.form                      GET     ok        ok       ok       ok       ok
verify.check                     GET     404       404      404      404      404
"""

# Which rules are scoped to what a user owns, per role, decided for every URL argument
# that names a stored row. "scoped": another owner's id answers 404 (as if missing);
# "global": the role sees every row by design (HR reads all results and evidence; the
# administrator manages every account). A rule with an id argument reachable by a role
# must appear here, so a new id-taking route cannot skip the ownership decision.
OWNERSHIP = {
    # trainee: only their own drills; assignments only when they are a target.
    ("trainee.drill", "drill_id"): "scoped",
    ("trainee.post_turn", "drill_id"): "scoped",
    ("trainee.hint", "drill_id"): "scoped",
    ("trainee.end", "drill_id"): "scoped",
    ("trainee.discard", "drill_id"): "scoped",
    ("trainee.report", "drill_id"): "scoped",
    ("trainee.download", "drill_id"): "scoped",
    ("trainee.retry_scoring", "drill_id"): "scoped",
    ("trainee.start_assigned", "assignment_id"): "scoped",
    # trainer: drills, case answers and assignments of the cohorts they lead.
    ("trainer.drill_report", "drill_id"): "scoped",
    ("trainer.download", "drill_id"): "scoped",
    ("trainer.retry_scoring", "drill_id"): "scoped",
    # trainer: background jobs they started.
    ("trainer.batch", "job_id"): "scoped",
    ("trainer.batch_json", "job_id"): "scoped",
    ("trainer.review_drill", "drill_id"): "scoped",
    ("trainer.review_adjust", "drill_id"): "scoped",
    ("trainer.review_mark", "drill_id"): "scoped",
    ("trainer.review_release", "drill_id"): "scoped",
    ("trainer.review_overturn", "drill_id"): "scoped",
    ("trainer.review_restore", "drill_id"): "scoped",
    ("trainer.mark", "answer_id"): "scoped",
    ("trainer.suggest", "answer_id"): "scoped",
    ("trainer.assignment_deactivate", "assignment_id"): "scoped",
    ("trainer.trainee", "user_id"): "scoped",  # only trainees of the trainer's cohorts
    # trainer: only play-tests they started; drafts are shared by every trainer and admin.
    ("editor.playtest", "playtest_id"): "scoped",
    ("editor.post_turn", "playtest_id"): "scoped",
    ("editor.end", "playtest_id"): "scoped",
    ("editor.draft", "draft_id"): "global",
    ("editor.validate", "draft_id"): "global",
    ("editor.draft_rubric", "draft_id"): "global",
    # HR: everyone's certification evidence, read-only.
    ("hr.person", "user_id"): "global",
    ("hr.drill_report", "drill_id"): "global",
    ("hr.drill_download", "drill_id"): "global",
    ("hr.certificate", "result_id"): "global",
    # A prepared export is a copy of personal data made by one HR user: only they fetch it.
    ("hr.export_job", "job_id"): "scoped",
    ("hr.export_download", "job_id"): "scoped",
    ("hr.export_retry", "job_id"): "scoped",
    # admin: every account.
    ("admin.user_edit", "user_id"): "global",
    ("admin.user_password", "user_id"): "global",
    ("admin.cohort_edit", "cohort_id"): "global",
    ("admin.cohort_delete", "cohort_id"): "global",
}

# URL arguments that name a stored row (the others are catalog ids, formats, languages).
ROW_ARGUMENTS = {"drill_id", "answer_id", "assignment_id", "user_id", "result_id", "cohort_id", "job_id",
                 "draft_id", "playtest_id"}

# Routes that change a score, a mark or what a score report shows: HR (read-only by
# design) must be refused on every one of them.
# HR's only writes: preparing a large export as a job, and retrying one (no score changes).
HR_EXPORT_JOBS = {"hr.prepare_export", "hr.export_retry"}

SCORE_CHANGING = {
    "trainee.end",              # ends and scores the drill
    "trainee.hint",             # a hint costs points
    "trainee.cert_finish",      # finalises a certification grade
    "trainee.cert_exam",        # marks the exam
    "trainee.cert_exam_save",   # saves the answers that will be marked
    "trainee.cert_exam_begin",  # starts the exam's clock
    "trainer.upload",           # scores an uploaded call
    "trainer.upload_file",
    "trainer.batches",          # scores a batch of uploaded calls
    "trainer.rescore",          # adds new scores under the current rubric
    "trainer.retry_scoring",    # scores an unscored drill
    "trainee.retry_scoring",
    "trainer.review_adjust",
    "trainer.review_mark",
    "trainer.review_release",
    "trainer.review_overturn",  # an overturned red line lets the drill count
    "trainer.review_restore",
    "trainer.mark",
    "trainer.suggest",
}


def parse(table: str = TABLE) -> dict[tuple[str, str], dict[str, str]]:
    """{(endpoint, method): {column: outcome}}; refuses duplicate rows and unknown outcomes."""
    known = {"ok", "redirect", "login", "403", "404"}
    out: dict[tuple[str, str], dict[str, str]] = {}
    for line in table.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        endpoint, method, *cells = line.split()
        if len(cells) != len(COLUMNS) or not set(cells) <= known:
            raise ValueError(f"bad row in the access table: {line!r}")
        if (endpoint, method) in out:
            raise ValueError(f"duplicate row in the access table: {endpoint} {method}")
        out[(endpoint, method)] = dict(zip(COLUMNS, cells))
    return out


EXPECTED = parse()
