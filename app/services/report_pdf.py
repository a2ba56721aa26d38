"""The score report and transcript as a PDF (reportlab).

Every glyph comes from the embedded subset of `pdf_font` (Chinese and Latin alike, and
the canvas's initial font and table cells too, so no unembedded Helvetica is referenced).
"""
from __future__ import annotations

from dataclasses import replace
from io import BytesIO
from xml.sax.saxutils import escape

from flask import current_app, has_app_context
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.i18n import local_time
from app.services.pdf_font import pdf_font

RED = colors.HexColor("#b42318")


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=pdf_font(), fontSize=10, leading=14, wordWrap="CJK")
    return {
        "base": base,
        "h1": ParagraphStyle("h1", parent=base, fontSize=16, leading=22, spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=17, spaceBefore=8, spaceAfter=4),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12, textColor=colors.HexColor("#6b7785")),
        "flag": ParagraphStyle("flag", parent=base, textColor=RED),
    }


def _p(text, style) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _marked(segments) -> str:
    """Paragraph markup of a turn: quoted evidence underlined and coloured, like <mark> on the page."""
    return "".join(f'<u><font color="#b54708">{escape(s.text)}</font></u>' if s.mark else escape(s.text)
                   for s in segments)


def _num(x: float) -> str:
    return f"{x:g}"


def _fix_first(view, st) -> list:
    """The report's opening: the three things to fix first (app/core/coaching.py)."""
    if not view.fix_first:
        return []
    out = [_p(_("Three things to fix first"), st["h2"])]
    for i, f in enumerate(view.fix_first, 1):
        out.append(_p(f"{i}. {f.title} · " + _("lost %(points)s points", points=_num(f.lost)), st["base"]))
        if f.turn is not None:
            out.append(_p(f"[{f.turn}] {_('Said in the call')}: “{f.quote or f.line}”", st["small"]))
        else:
            out.append(_p(_("Not done anywhere in the call."), st["small"]))
        if f.tip:
            out.append(_p(f.tip, st["small"]))
        if f.better:
            out.append(_p(f"{_('Say instead')}: “{f.better}”", st["small"]))
    return out


def _score_part(view, st) -> list:
    # A table sets its cells' font even when every cell is a Paragraph; left at reportlab's
    # default, that would reference an unembedded Helvetica.
    cell_font = ("FONTNAME", (0, 0), (-1, -1), pdf_font())
    cur = view.current
    out = _fix_first(view, st)
    out.append(_p(_("Total: %(total)s / %(max)s", total=_num(cur.total), max=_num(cur.max_total)), st["h2"]))
    if cur.adjusted or cur.hint_penalty:
        parts = [f"{_('Machine score')} {_num(cur.machine_total)}"]
        if cur.adjusted:
            parts.append(_("after the trainer's review") + f" {_num(cur.reviewed_total)}")
        if cur.hint_penalty:
            parts.append(f"{_('hints')} −{_num(cur.hint_penalty)}")
        parts.append(f"{_('total')} {_num(cur.total)}")
        out.append(_p(" · ".join(parts), st["small"]))
    machine_label = _("machine")
    rows = [[_p(d.title, st["base"]),
             _p(f"{_num(d.score)} / {_num(d.max)}"
                + (f" ({machine_label} {_num(d.machine)})" if d.machine is not None else ""), st["base"])]
            for d in view.dimensions]
    if rows:
        table = Table(rows, colWidths=[110 * mm, 50 * mm])
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#dde3ea")), cell_font]))
        out.append(table)
    if view.changes:
        out.append(_p(_("Changed by the trainer"), st["h2"]))
        rows = [[_p(_("Item"), st["small"]), _p(_("Machine"), st["small"]), _p(_("Trainer"), st["small"]),
                 _p(_("Reason"), st["small"])]]
        rows += [[_p(ch.title, st["base"]), _p(f"{_num(ch.machine)} / {_num(ch.max)}", st["base"]),
                  _p(f"{_num(ch.adjusted)} / {_num(ch.max)}", st["base"]), _p(ch.reason, st["base"])]
                 for ch in view.changes]
        table = Table(rows, colWidths=[45 * mm, 22 * mm, 22 * mm, 81 * mm], repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#dde3ea")),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP"), cell_font]))
        out.append(table)
    if view.flags:
        out.append(_p(_("Red-line flags"), st["h2"]))
        for f in view.flags:
            turns = ", ".join(f"#{n}" for n in f.get("turns", []))
            out.append(_p(f"{f.get('reason', f.get('id'))} ({turns})", st["flag"]))
    if view.overturned:
        out.append(_p(_("Red-line flags overturned by the trainer"), st["h2"]))
        for o in view.overturned:
            turns = ", ".join(f"#{n}" for n in o.flag.get("turns", []))
            out.append(_p(f"{o.flag.get('reason', o.id)} ({turns}) · {_('Overturned by the trainer')}: {o.reason}",
                          st["base"]))
    out.append(_p(_("Criteria"), st["h2"]))
    rows = [[_p(_("Criterion"), st["small"]), _p(_("Points"), st["small"]), _p(_("Feedback and tip"), st["small"])]]
    tip_label, evidence_label, comment_label = _("Tip"), _("Evidence"), _("Trainer's comment")
    for c in view.criteria:
        text = c.feedback + (f"\n{tip_label}: {c.tip}" if c.tip and c.applicable and not c.full else "")
        if c.comment:
            text += f"\n{comment_label}: {c.comment}"
        quotes = "; ".join(f"#{e['turn']} “{e['quote']}”" for e in c.evidence)
        if quotes:
            text += f"\n{evidence_label}: {quotes}"
        points = (f"{_num(c.score)} / {_num(c.max)}" + (f" ({machine_label} {_num(c.machine)})" if c.machine is not None else "")
                  if c.applicable else _("N/A"))
        rows.append([_p(f"{c.title} · {c.checks}" if c.checks else c.title, st["base"]), _p(points, st["base"]),
                     Paragraph(escape(text).replace("\n", "<br/>"), st["base"])])
    table = Table(rows, colWidths=[45 * mm, 20 * mm, 105 * mm], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#dde3ea")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"), cell_font]))
    out.append(table)
    return out


def _budget() -> tuple[int, int]:
    """(characters of one turn, of the whole transcript) the PDF shows (0: no limit)."""
    config = current_app.config if has_app_context() else {}
    return int(config.get("PDF_MAX_TURN_CHARS", 5000) or 0), int(config.get("PDF_MAX_TRANSCRIPT_CHARS", 200000) or 0)


def _cut(segments, limit: int) -> list:
    """The first `limit` characters of a turn's segments (marks kept)."""
    out, left = [], limit
    for seg in segments:
        if left <= 0:
            break
        out.append(seg if len(seg.text) <= left else replace(seg, text=seg.text[:left]))
        left -= len(seg.text)
    return out


def _transcript(turns, st, turn_limit: int, total_limit: int) -> list:
    """The numbered turns, each cut to `turn_limit` characters and all of them to
    `total_limit`, with a visible note wherever text was left out: reportlab lays out a
    paragraph in memory many times its length, and a drill can hold an imported turn of
    millions of characters. The full text stays in the JSON and text downloads."""
    speakers = {"agent": _("Agent"), "customer": _("Customer")}
    out, shown = [], 0
    for i, t in enumerate(turns):
        if total_limit and shown >= total_limit:
            out.append(_p(_("%(count)s more turns are not shown in the PDF (it shows at most %(limit)s "
                            "characters of a transcript); the JSON and text downloads have them all.",
                            count=len(turns) - i, limit=format(total_limit, ",")), st["flag"]))
            break
        limits = [x for x in (turn_limit, total_limit - shown if total_limit else 0) if x]
        limit = min(limits) if limits else 0
        length = len(t.text)
        segments = _cut(t.segments, limit) if limit and length > limit else t.segments
        shown += min(length, limit) if limit else length
        style = st["flag"] if t.flagged else st["base"]
        out.append(Paragraph(f"[{t.number}] {escape(speakers.get(t.speaker, t.speaker))}: "
                             + _marked(segments), style))
        if segments is not t.segments:
            out.append(_p(_("Turn %(number)s is shortened here: %(shown)s of its %(length)s characters are "
                            "shown; the JSON and text downloads have it whole.",
                            number=t.number, shown=format(limit, ","), length=format(length, ",")), st["flag"]))
    return out


def render_pdf(view, language: str) -> bytes:
    """A4 PDF: title, agent and date, then score, dimensions, flags, criteria (when the
    view has a score), then the numbered transcript with evidence quotes underlined."""
    st = _styles()
    drill = view.drill
    agent = drill.trainee.display_name if drill.trainee else (drill.external_agent or "")
    agent_label, started_label = _("Agent"), _("Started")
    story = [
        _p(_("Score report") + f" · {drill.scenario_version.title}", st["h1"]),
        _p(f"{agent_label}: {agent} · {started_label}: {local_time(drill.started_at)} · #{drill.id}", st["small"]),
        Spacer(1, 4 * mm),
    ]
    if view.current is not None:
        story += _score_part(view, st)
    else:
        story.append(_p(_("This drill has not been scored yet."), st["base"]))
    story.append(_p(_("Transcript"), st["h2"]))
    story += _transcript(view.turns, st, *_budget())
    buf = BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=16 * mm, title=_("Score report"),
                            invariant=1, initialFontName=pdf_font())
    doc.build(story)
    return buf.getvalue()
