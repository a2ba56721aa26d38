"""Certification results for HR: the filter, the results query, and the export writers.

Exports are a registry of named writers (`csv`, `xlsx`, `xapi`); each takes a
`ResultFilter` and yields bytes, reading the database in chunks (`yield_per`, a
server-side cursor on PostgreSQL) so memory stays flat however many rows match.
`export()` counts the rows and audits the export before the first byte is sent.
"""
from __future__ import annotations

import csv
import io
import json
import operator
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from typing import Callable, Iterator, Mapping

from flask import current_app
from sqlalchemy import func, select

from app.core.certification import GRADES
from app.core.dates import after_day, day_start
from app.extensions import db
from app.i18n import centre_zone
from app.models import CertificationAttempt, CertificationResult, Cohort, Drill, Score, ScenarioVersion, User, cohort_members
from app.services import audit, content
from app.services.drill_score import current_score

CHUNK = 1000
CERTIFIED = tuple(g for g in GRADES if g != "retake")
COLUMNS = ("result_id", "username", "name", "cohort", "track", "grade", "total", "exam", "drills", "cases",
           "awarded_at", "attempt_id")
# The header row people read in a spreadsheet, per export language; COLUMNS stay the keys.
HEADERS = {
    "zh-CN": ("结果编号", "用户名", "姓名", "班组", "认证项目", "等级", "总分", "理论考试", "情景演练", "案例分析",
              "获证时间", "考试记录编号"),
    "en": ("Result no.", "Username", "Name", "Cohort", "Track", "Grade", "Total", "Exam", "Drills", "Cases",
           "Awarded at", "Attempt no."),
}
LANGUAGES = tuple(HEADERS)


class FilterError(ValueError):
    """A filter value that cannot be used; the message names the field."""


@dataclass(frozen=True)
class ResultFilter:
    cohort: str | None = None
    track: str | None = None
    grade: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive: results awarded on that day count

    @classmethod
    def parse(cls, values: Mapping[str, str | None]) -> "ResultFilter":
        """From form/CLI strings; empty means no filter. FilterError names the bad field."""
        def text(name):
            v = (values.get(name) or "").strip()
            return v or None

        def day(name):
            v = text(name)
            if v is None:
                return None
            try:
                return date.fromisoformat(v)
            except ValueError:
                raise FilterError(f"{name}: {v!r} is not a date (YYYY-MM-DD)") from None

        grade = text("grade")
        if grade is not None and grade not in GRADES:
            raise FilterError(f"grade: {grade!r} is not one of {', '.join(GRADES)}")
        since, until = day("since"), day("until")
        if since and until and since > until:
            raise FilterError(f"since: {since} is after until {until}")
        return cls(text("cohort"), text("track"), grade, since, until)

    def args(self) -> dict[str, str]:
        """Query-string form, for links that keep the filter."""
        return {k: str(v) for k, v in asdict(self).items() if v is not None}


def check_known(f: ResultFilter) -> ResultFilter:
    """`f` itself when its cohort and track exist; FilterError naming the unknown one."""
    if f.cohort and db.session.scalar(select(Cohort.id).where(Cohort.name == f.cohort)) is None:
        raise FilterError(f"cohort: no cohort named {f.cohort!r}")
    if f.track and content.catalog().find("track", f.track) is None:
        known = ", ".join(e.model.id for e in content.catalog().of_kind("track"))
        raise FilterError(f"track: no track {f.track!r} (known: {known})")
    return f


def _bounds(f: ResultFilter):
    centre = centre_zone()
    return (day_start(f.since, centre) if f.since else None,
            after_day(f.until, centre) if f.until else None)


def _cohort_names():
    """A correlated subquery: the person's cohort names, comma-separated (a person may
    be in several), None when in none."""
    return (select(func.aggregate_strings(Cohort.name, ", "))
            .select_from(cohort_members).join(Cohort, Cohort.id == cohort_members.c.cohort_id)
            .where(cohort_members.c.user_id == User.id).correlate(User).scalar_subquery())


def _in_cohort(name: str):
    """A WHERE clause: the user is a member of the cohort called `name`."""
    return User.id.in_(select(cohort_members.c.user_id).join(Cohort, Cohort.id == cohort_members.c.cohort_id)
                       .where(Cohort.name == name))


def results_query(f: ResultFilter):
    """Columns of each result matching `f`, newest first (plain rows, no ORM objects,
    so a long export does not fill the session's identity map)."""
    A, R = CertificationAttempt, CertificationResult
    q = (select(R.id.label("result_id"), User.username, User.display_name.label("name"),
                _cohort_names().label("cohort"), R.track_id.label("track"), R.grade, R.total,
                A.exam_score.label("exam"), A.drill_score.label("drills"), A.case_score.label("cases"),
                R.awarded_at, R.attempt_id, R.user_id)
         .join(User, R.user_id == User.id)
         .join(A, R.attempt_id == A.id))
    lo, hi = _bounds(f)
    q = q.where(*[c for c in (
        _in_cohort(f.cohort) if f.cohort else None, R.track_id == f.track if f.track else None,
        R.grade == f.grade if f.grade else None, R.awarded_at >= lo if lo else None,
        R.awarded_at < hi if hi else None) if c is not None])
    return q.order_by(R.awarded_at.desc(), R.id.desc())


def count_results(f: ResultFilter) -> int:
    return db.session.scalar(select(func.count()).select_from(results_query(f).order_by(None).subquery()))


def results_page(f: ResultFilter, page: int = 1, per_page: int = 100) -> list:
    return db.session.execute(results_query(f).limit(per_page).offset((max(page, 1) - 1) * per_page)).all()


Progress = Callable[[int], None]


def _stream(query, progress: Progress | None = None) -> Iterator:
    """The query's rows, CHUNK at a time; with `progress`, it is called with the number of
    rows read after each CHUNK and at the end (a prepared export's page shows it)."""
    result = db.session.execute(query.execution_options(yield_per=CHUNK))
    return result if progress is None else _Counted(result, progress)


class _Counted:
    """A query result that reports the rows read through `progress` (keeps `keys()`)."""

    def __init__(self, result, progress: Progress):
        self.result, self.progress = result, progress

    def keys(self):
        return self.result.keys()

    def __iter__(self):
        n = 0
        for row in self.result:
            yield row
            n += 1
            if n == CHUNK:
                self.progress(n)
                n = 0
        if n:
            self.progress(n)


def _cell(value):
    """Plain value for CSV/XLSX; a text that a spreadsheet would run as a formula gets a
    leading apostrophe (names are typed by people)."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if value.tzinfo else value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@dataclass(frozen=True)
class Words:
    """What an export shows in words rather than codes, read from the track files before
    the stream starts (the stream may outlive the request and its app context)."""

    language: str
    headers: tuple[str, ...]
    tracks: dict[str, str]             # track id -> title
    grades: dict[tuple[str, str], str]  # (track id, grade) -> the band's title
    zone: str = "UTC"                  # the centre's time zone (CENTRE_TIMEZONE), for typed dates


def words(language: str = "zh-CN") -> Words:
    """Headers, track titles and grade titles in `language` (zh-CN or en), from the track
    files; the centre's time zone from the configuration."""
    language = language if language in HEADERS else "zh-CN"
    tracks, grades = {}, {}
    for e in content.catalog().of_kind("track"):
        tracks[e.model.id] = e.model.title.get(language) or e.model.id
        for band in e.model.grades:
            grades[(e.model.id, band.grade)] = band.title.get(language) or band.grade
    return Words(language, HEADERS[language], tracks, grades, current_app.config.get("CENTRE_TIMEZONE") or "UTC")


def _rows(result, w: Words | None = None, when: Callable[[datetime], object] | None = None) -> Iterator[list]:
    """The export cells of each row of a results query, in COLUMNS order; with `w`, the
    track and grade in words of its language; with `when`, each date is `when(date)`
    instead of ISO text in UTC.

    Columns are picked by position, found once from the result's keys: a lookup by name
    per cell was a third of a CSV export's time (export_bench, 100,000 rows)."""
    keys = list(result.keys())
    pick = operator.itemgetter(*[keys.index(c) for c in COLUMNS])
    track, grade = COLUMNS.index("track"), COLUMNS.index("grade")
    for r in result:
        row = [when(v) if when is not None and isinstance(v, datetime) else _cell(v) for v in pick(r)]
        if w is not None:
            row[grade] = w.grades.get((row[track], row[grade]), row[grade])
            row[track] = w.tracks.get(row[track], row[track])
        yield row


# --- the registry ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Writer:
    name: str
    mimetype: str
    extension: str
    write: Callable[[ResultFilter, Words, Progress | None], Iterator[bytes]]
    count: Callable[[ResultFilter], int]


_WRITERS: dict[str, Writer] = {}


def register_writer(name: str, mimetype: str, extension: str, count: Callable[[ResultFilter], int] = count_results):
    def decorator(write):
        if name in _WRITERS:
            raise ValueError(f"export format {name!r} is already registered")
        _WRITERS[name] = Writer(name, mimetype, extension, write, count)
        return write
    return decorator


def writer(name: str) -> Writer:
    try:
        return _WRITERS[name]
    except KeyError:
        raise LookupError(f"unknown export format {name!r} (known: {', '.join(sorted(_WRITERS))})") from None


def formats() -> list[str]:
    return sorted(_WRITERS)


@dataclass
class Export:
    chunks: Iterator[bytes]
    filename: str
    mimetype: str
    rows: int


def export(name: str, f: ResultFilter, actor, language: str = "zh-CN") -> Export:
    """Count the rows, audit the export (`export`, format, filter, rows) and commit, then
    return the lazy byte stream, its headers, tracks and grades in `language` (zh-CN or
    en). LookupError for an unknown format."""
    w = writer(name)
    labels = words(language)
    rows = w.count(f)
    audit.record("export", actor, "certifications", format=name, filter=f.args(), rows=rows)
    db.session.commit()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Export(w.write(f, labels), f"certifications-{stamp}.{w.extension}", w.mimetype, rows)


# Flask adds "; charset=utf-8" to a text/* type itself: naming it here said it twice.
@register_writer("csv", "text/csv", "csv")
def write_csv(f: ResultFilter, w: Words, progress: Progress | None = None) -> Iterator[bytes]:
    buf = io.StringIO()
    out = csv.writer(buf)
    # The BOM makes Excel read the UTF-8 Chinese names correctly.
    yield ("\ufeff" + ",".join(w.headers) + "\r\n").encode()
    for n, row in enumerate(_rows(_stream(results_query(f), progress), w), 1):
        out.writerow(row)
        if n % CHUNK == 0:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode()


# Column widths in characters (a CJK character counts two), at least the header's width.
XLSX_WIDTHS = {"result_id": 10, "username": 16, "name": 16, "cohort": 16, "track": 30, "grade": 10, "total": 8,
               "exam": 10, "drills": 10, "cases": 10, "awarded_at": 18, "attempt_id": 12}
XLSX_DATE_FORMAT = "yyyy-mm-dd hh:mm"


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


@register_writer("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
def write_xlsx(f: ResultFilter, w: Words, progress: Progress | None = None) -> Iterator[bytes]:
    """The results as a sheet people can sort and filter: a bold header row frozen in
    place, columns wide enough to read, award dates as real dates (number format
    `XLSX_DATE_FORMAT`) in the centre's time zone, not text in UTC."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from app.core.dates import local

    # write_only streams rows to disk as they are appended; the finished zip is then
    # read back in chunks, so neither step holds the sheet in memory.
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("认证结果" if w.language == "zh-CN" else "certifications")
    ws.freeze_panes = "A2"
    for i, (column, header) in enumerate(zip(COLUMNS, w.headers), 1):
        ws.column_dimensions[get_column_letter(i)].width = max(XLSX_WIDTHS[column], _display_width(header) + 2)
    bold = Font(bold=True)
    header_cells = []
    for header in w.headers:
        cell = WriteOnlyCell(ws, value=header)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)

    def when(moment: datetime) -> WriteOnlyCell:
        # Excel has no time zones: the centre's wall-clock time, stored without one.
        cell = WriteOnlyCell(ws, value=local(moment, w.zone).replace(tzinfo=None))
        cell.number_format = XLSX_DATE_FORMAT
        return cell

    for row in _rows(_stream(results_query(f), progress), w, when=when):
        ws.append(row)
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        wb.save(path)
        with open(path, "rb") as fh:
            while chunk := fh.read(64 * 1024):
                yield chunk
    finally:
        os.unlink(path)


# --- xAPI --------------------------------------------------------------------------------------

VERBS = {v: f"http://adlnet.gov/expapi/verbs/{v}" for v in ("completed", "passed", "failed")}


def _attempts_query(f: ResultFilter):
    """Marked attempts matching the filter (by finish date and the attempt's grade)."""
    A = CertificationAttempt
    q = (select(A.id, A.user_id, A.track_id, A.grade, A.total, A.finished_at, User.username)
         .join(User, A.user_id == User.id)
         .where(A.status == "marked"))
    lo, hi = _bounds(f)
    q = q.where(*[c for c in (
        _in_cohort(f.cohort) if f.cohort else None, A.track_id == f.track if f.track else None,
        A.grade == f.grade if f.grade else None, A.finished_at >= lo if lo else None,
        A.finished_at < hi if hi else None) if c is not None])
    return q.order_by(A.id)


def _drills_query(f: ResultFilter):
    """Ended drills of those attempts, each with its newest score (the statement's
    figure is the drill's current score built from it)."""
    attempts = _attempts_query(f).with_only_columns(CertificationAttempt.id).order_by(None).subquery()
    newest = select(func.max(Score.id)).where(Score.drill_id == Drill.id).correlate(Drill).scalar_subquery()
    return (select(Drill, Score, ScenarioVersion.scenario_id, User.username)
            .join(User, Drill.trainee_id == User.id).join(ScenarioVersion, Drill.scenario_version_id == ScenarioVersion.id)
            .join(Score, Score.id == newest)
            .where(Drill.status == "ended", Drill.mode != "playtest",
                   Drill.certification_attempt_id.in_(select(attempts.c.id)))
            .order_by(Drill.id))


def _count_xapi(f: ResultFilter) -> int:
    a = db.session.scalar(select(func.count()).select_from(_attempts_query(f).order_by(None).subquery()))
    d = db.session.scalar(select(func.count()).select_from(_drills_query(f).order_by(None).subquery()))
    return a + d


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _names(titles: Mapping[str, str], frame: Mapping[str, str]) -> dict[str, str]:
    """An xAPI language map ({"zh-CN": "演练：…", "en-US": "Drill: …"}) from titles per language;
    a language without its own title takes another's."""
    fallback = next(iter(titles.values()), "")
    return {tag: frame[lang].format(titles.get(lang) or fallback) for lang, tag in (("zh-CN", "zh-CN"), ("en", "en-US"))}


def _scenario_titles(scenario_id: str) -> dict[str, str]:
    return {e.model.language: e.model.title for e in content.catalog().of_kind("scenario")
            if e.model.id == scenario_id} or {"zh-CN": scenario_id}


def _statement(base: str, home: str, username: str, verb: str, obj: str, name: dict[str, str],
               raw: float, max_: float, when, success: bool | None = None, extra: dict | None = None) -> dict:
    # Actor is an account on this app, never an email: the LMS gets no personal address.
    result = {"score": {"scaled": round(raw / max_, 4) if max_ else 0.0, "raw": raw, "min": 0, "max": max_},
              "completion": True}
    if success is not None:
        result["success"] = success
    stmt = {"actor": {"objectType": "Agent", "account": {"homePage": home, "name": username}},
            "verb": {"id": VERBS[verb], "display": {"en-US": verb}},
            "object": {"objectType": "Activity", "id": base + obj, "definition": {"name": name}},
            "result": result, "timestamp": _iso(when)}
    if extra:
        stmt["context"] = {"extensions": {base + "ext/" + k: v for k, v in extra.items()}}
    return stmt


@register_writer("xapi", "application/json", "json", count=_count_xapi)
def write_xapi(f: ResultFilter, w: Words | None = None, progress: Progress | None = None) -> Iterator[bytes]:
    """A JSON array of statements: one per marked attempt (passed/failed), one per
    completed drill of those attempts. Activity names are language maps (zh-CN, en-US)
    from the track and scenario titles, never ids."""
    base = current_app.config.get("XAPI_BASE_IRI") or "https://hotline-coach.example/xapi/"
    base = base if base.endswith("/") else base + "/"
    home = base.rsplit("/xapi/", 1)[0] + "/" if "/xapi/" in base else base
    maxima = {e.model.id: e.model.total for e in content.catalog().of_kind("track")}
    track_titles = {e.model.id: e.model.title for e in content.catalog().of_kind("track")}
    cert_frame, drill_frame = {"zh-CN": "认证：{}", "en": "Certification: {}"}, {"zh-CN": "演练：{}", "en": "Drill: {}"}
    scenario_names: dict[str, dict[str, str]] = {}
    first = True
    yield b"["
    for a in _stream(_attempts_query(f), progress):
        s = _statement(base, home, a.username, "failed" if a.grade == "retake" else "passed",
                       f"certification/{a.track_id}",
                       _names(track_titles.get(a.track_id) or {"zh-CN": a.track_id}, cert_frame), a.total or 0.0, maxima.get(a.track_id, 200.0),
                       a.finished_at, success=a.grade != "retake", extra={"grade": a.grade, "attempt": a.id})
        yield (b"" if first else b",") + b"\n" + json.dumps(s, ensure_ascii=False).encode()
        first = False
    for drill, score, scenario_id, username in _stream(_drills_query(f), progress):
        cur = current_score(drill, score)
        if scenario_id not in scenario_names:
            scenario_names[scenario_id] = _names(_scenario_titles(scenario_id), drill_frame)
        s = _statement(base, home, username, "completed", f"scenario/{scenario_id}", scenario_names[scenario_id],
                       cur.total, cur.max_total, drill.ended_at,
                       extra={"drill": drill.id, "attempt": drill.certification_attempt_id})
        yield (b"" if first else b",") + b"\n" + json.dumps(s, ensure_ascii=False).encode()
        first = False
    yield b"\n]\n"


# --- the certificate ------------------------------------------------------------------------------

def certificate_number(result: CertificationResult) -> str:
    """Stable and unique: track, award date and the result's id."""
    return f"HC-{result.track_id.upper()}-{result.awarded_at:%Y%m%d}-{result.id:06d}"


def certificate_pdf(result: CertificationResult, actor) -> bytes:
    """A one-page A4 landscape certificate, every glyph from the embedded subset of
    `pdf_font`: the issuing organisation, holder, track, grade, total (at most one
    decimal), date, validity, a seal and a signature block (configuration CERT_*), and
    the verification code with the public page that checks it. Audited as an `export`
    (format pdf); commits."""
    import math

    from flask import url_for
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas

    from app.i18n import label, local_time
    from app.services.certification import certificate_facts
    from app.services.pdf_font import pdf_font

    font = pdf_font()
    facts = certificate_facts(result)
    number = certificate_number(result)
    title, grade = facts["track_title"], facts["grade_title"]
    total = f"{facts['total']} / {facts['track_total']}" if facts["track_total"] else facts["total"]
    until = f"{facts['valid_until']:%Y-%m-%d}" if facts["valid_until"] else "长期有效 no expiry"
    buf = io.BytesIO()
    w, h = landscape(A4)
    c = canvas.Canvas(buf, pagesize=(w, h), initialFontName=font)
    c.setTitle(f"{number} {facts['holder']}")
    c.setLineWidth(3)
    c.rect(30, 30, w - 60, h - 60)
    lines = [(14, facts["organisation"]), (28, "岗位技能认证证书"), (16, "Certificate of Skills"),
             (24, facts["holder"]), (16, f"{title['zh-CN']} · {title['en']}"),
             (16, f"等级 Grade: {grade['zh-CN']} / {grade['en']}"), (14, f"总分 Total: {total}"),
             (12, f"颁发日期 Date: {facts['awarded_at']:%Y-%m-%d} · 有效期至 Valid until: {until}"),
             (10, f"证书编号 No.: {number}")]
    y = h - 90
    for size, text in lines:
        if text:
            c.setFont(font, size)
            c.drawCentredString(w / 2, y, text)
        y -= size * 2.2
    # The signature block, bottom right: a line to sign on, the name and title under it.
    c.setLineWidth(1)
    c.line(w - 300, 120, w - 90, 120)
    c.setFont(font, 12)
    c.drawCentredString(w - 195, 102, facts["signatory"] or "签发人 Signatory")
    if facts["signatory_title"]:
        c.setFont(font, 10)
        c.drawCentredString(w - 195, 86, facts["signatory_title"])
    # The seal, bottom left: a red ring with the issuer's name round its top and a star.
    if facts["seal_text"]:
        cx, cy, r = 170, 125, 55
        c.setStrokeColorRGB(0.75, 0.1, 0.1)
        c.setFillColorRGB(0.75, 0.1, 0.1)
        c.setLineWidth(2.5)
        c.circle(cx, cy, r)
        text = facts["seal_text"][:24]
        c.setFont(font, 9)
        span = math.radians(200)
        for i, ch in enumerate(text):
            a = math.radians(90) + span / 2 - span * (i + 0.5) / len(text)
            c.saveState()
            c.translate(cx + (r - 12) * math.cos(a), cy + (r - 12) * math.sin(a))
            c.rotate(math.degrees(a) - 90)
            c.drawCentredString(0, 0, ch)
            c.restoreState()
        star = [(cx + 16 * math.cos(math.radians(90 + 144 * k)), cy - 6 + 16 * math.sin(math.radians(90 + 144 * k)))
                for k in range(5)]
        path = c.beginPath()
        path.moveTo(*star[0])
        for point in star[1:]:
            path.lineTo(*point)
        path.close()
        c.drawPath(path, stroke=0, fill=1)
        c.setFillColorRGB(0, 0, 0)
        c.setStrokeColorRGB(0, 0, 0)
    if facts["code"]:
        c.setFont(font, 9)
        link = url_for("verify.check", code=result.verification_code, _external=True)
        c.drawCentredString(w / 2, 48, f"验证码 Verification code: {facts['code']} · {link}")
    c.showPage()
    c.save()
    audit.record("export", actor, f"certification_result:{result.id}", format="pdf", number=number, rows=1)
    db.session.commit()
    return buf.getvalue()
