"""HR exports: the writer registry, CSV/XLSX/xAPI content for a filter, flat memory, the CLI."""
from __future__ import annotations

import csv
import io
import json
import tracemalloc
from datetime import date, datetime, timedelta, timezone

import pytest
from flask import current_app
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, CertificationAttempt, CertificationResult, Cohort
from app.services import exports
from app.services.demo_certification import seed_demo_results


def run(name, language="zh-CN", **filters):
    out = exports.export(name, exports.ResultFilter(**filters), None, language)
    return out, b"".join(out.chunks)


@pytest.fixture
def results(any_app, make_user):
    """Two cohorts; an excellent result in a, a pass in b, a retake (no result) in a."""
    a, b = Cohort(name="a"), Cohort(name="b")
    db.session.add_all([a, b])
    db.session.commit()
    people = [make_user("trainee", username="=cmd", cohort=a, display_name="=HYPERLINK(1)"),
              make_user("trainee", username="li", cohort=b, display_name="李四")]
    when = datetime(2024, 5, 1, 8, tzinfo=timezone.utc)
    for user, total, grade, days in ((people[0], 170.5, "excellent", 0), (people[1], 125.0, "pass", 10),
                                     (people[0], 100.0, "retake", 20)):
        at = when + timedelta(days=days)
        attempt = CertificationAttempt(user_id=user.id, track_id="core", status="marked", exam_score=85.0,
                                       drill_score=50.0, case_score=total - 135.0, total=total, grade=grade,
                                       details={}, finished_at=at)
        db.session.add(attempt)
        db.session.flush()
        if grade != "retake":
            db.session.add(CertificationResult(user_id=user.id, attempt_id=attempt.id, track_id="core",
                                               grade=grade, total=total, awarded_at=at))
    db.session.commit()
    return people


def test_registry_fails_clearly_and_refuses_duplicates():
    assert exports.formats() == ["csv", "xapi", "xlsx"]
    with pytest.raises(LookupError, match="unknown export format 'pdfx'"):
        exports.writer("pdfx")
    with pytest.raises(ValueError, match="already registered"):
        exports.register_writer("csv", "text/csv", "csv")(lambda f: iter(()))


def test_filter_parsing_names_the_field():
    f = exports.ResultFilter.parse({"grade": "good", "since": "2024-01-01", "until": "", "cohort": " a "})
    assert f == exports.ResultFilter("a", None, "good", date(2024, 1, 1), None)
    for bad, field in (({"grade": "gold"}, "grade"), ({"since": "01/02/2024"}, "since"),
                       ({"since": "2024-02-02", "until": "2024-01-01"}, "since")):
        with pytest.raises(exports.FilterError, match=field):
            exports.ResultFilter.parse(bad)


def test_csv_for_a_filter_is_audited(results):
    out, data = run("csv", cohort="a")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert out.rows == 1 and len(rows) == 1
    # Headers, track and grade in words (Chinese by default), from the track file.
    assert rows[0]["等级"] == "优秀" and rows[0]["总分"] == "170.5" and rows[0]["班组"] == "a"
    assert rows[0]["认证项目"] == "热线客服岗位技能认证"
    assert rows[0]["姓名"] == "'=HYPERLINK(1)"  # never a live formula in a spreadsheet
    assert rows[0]["获证时间"] == "2024-05-01T08:00:00Z"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
    assert event.detail == {"format": "csv", "filter": {"cohort": "a"}, "rows": 1}
    _, data = run("csv", since=date(2024, 5, 5), until=date(2024, 5, 11))
    assert [r["用户名"] for r in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))] == ["li"]


def test_csv_in_english_names_grades_in_english(results):
    out, data = run("csv", cohort="a", language="en")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0])[:3] == ["Result no.", "Username", "Name"]
    assert rows[0]["Grade"] == "Excellent" and rows[0]["Track"] == "Hotline agent skills certification"


def test_xlsx_holds_the_same_rows(results):
    out, data = run("xlsx", track="core")
    ws = load_workbook(io.BytesIO(data), read_only=True).active
    rows = list(ws.values)
    assert rows[0] == exports.HEADERS["zh-CN"] and len(rows) == 3 and out.rows == 2
    assert {r[5] for r in rows[1:]} == {"优秀", "合格"}
    assert rows[2][2] == "'=HYPERLINK(1)"  # newest first


def test_xlsx_has_typed_local_dates_widths_and_a_frozen_header(results):
    """Read back with openpyxl: the award date is a date cell (not text), in the centre's
    time zone, with a date format; the header row is bold and frozen; no column is left
    at the default width and the track column fits its title."""
    current_app.config["CENTRE_TIMEZONE"] = "Asia/Shanghai"
    _, data = run("xlsx", track="core")
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.freeze_panes == "A2" and all(c.font.b for c in ws[1])
    at = exports.COLUMNS.index("awarded_at") + 1
    newest = ws.cell(row=2, column=at)
    # 2024-05-11 08:00 UTC is 16:00 in Shanghai.
    assert newest.is_date and newest.value == datetime(2024, 5, 11, 16, 0)
    assert newest.number_format == exports.XLSX_DATE_FORMAT
    widths = {ws.cell(row=1, column=i).value: ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width
              for i in range(1, len(exports.COLUMNS) + 1)}
    assert all(w and w >= 8 for w in widths.values()), widths
    assert widths["认证项目"] >= len("热线客服岗位技能认证") * 2 and widths["获证时间"] >= len("2024-05-11 16:00")
    current_app.config["CENTRE_TIMEZONE"] = "UTC"
    _, data = run("xlsx", track="core")
    assert load_workbook(io.BytesIO(data)).active.cell(row=2, column=at).value == datetime(2024, 5, 11, 8, 0)


def test_xapi_statements(results, any_app):
    out, data = run("xapi")
    statements = json.loads(data)
    assert out.rows == len(statements) == 3  # three marked attempts, no drills
    verbs = sorted(s["verb"]["id"].rsplit("/", 1)[1] for s in statements)
    assert verbs == ["failed", "passed", "passed"]
    s = statements[0]
    assert s["actor"]["account"] == {"homePage": "https://hotline-coach.example/", "name": "=cmd"}
    assert "mbox" not in s["actor"]
    assert s["object"]["id"] == "https://hotline-coach.example/xapi/certification/core"
    assert s["result"]["score"] == {"scaled": round(170.5 / 200, 4), "raw": 170.5, "min": 0, "max": 200}
    assert s["timestamp"] == "2024-05-01T08:00:00Z"
    # The activity is named in both languages from the track file, never "Certification core".
    assert s["object"]["definition"]["name"] == {"zh-CN": "认证：热线客服岗位技能认证",
                                                 "en-US": "Certification: Hotline agent skills certification"}
    current_app.config["XAPI_BASE_IRI"] = "https://lms.example.org/xapi/"
    _, data = run("xapi", grade="pass")
    (only,) = json.loads(data)
    assert only["object"]["id"].startswith("https://lms.example.org/xapi/")


def test_cli_writes_the_file_and_rejects_bad_filters(results, any_app, tmp_path):
    runner = any_app.test_cli_runner()
    from app.export_cli import export_group

    out = tmp_path / "r.csv"
    got = runner.invoke(export_group, ["certifications", "--format", "csv", "--out", str(out), "--cohort", "b"])
    assert got.exit_code == 0, got.output
    assert "1 rows" in got.output and "李四" in out.read_text("utf-8-sig")
    for bad in (["--grade", "gold"], ["--since", "yesterday"], ["--cohort", "nope"], ["--track", "nope"]):
        got = runner.invoke(export_group, ["certifications", "--format", "csv", "--out", str(out), *bad])
        assert got.exit_code == 1 and "Error" in got.output, (bad, got.output)


def _peak_csv() -> tuple[int, int]:
    tracemalloc.start()
    rows = sum(chunk.count(b"\n") for chunk in exports.write_csv(exports.ResultFilter(), exports.words()))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return rows, peak


def test_csv_memory_stays_flat_from_10k_to_100k_rows(any_app, make_user):
    track = None
    seed_demo_results(n_people=3, seed=1, results=10_000, track=track)
    small_rows, small = _peak_csv()
    seed_demo_results(n_people=3, seed=2, results=90_000, track=track)
    big_rows, big = _peak_csv()
    certified = db.session.scalar(select(db.func.count(CertificationResult.id)))
    assert big_rows == certified + 1 and big_rows > 5 * small_rows
    assert big < 2 * small + 512 * 1024, (small, big)
