"""Report and certificate PDFs carry every font they use, so a viewer without Asian font
packs (or any font at all) shows the same page: each font dictionary must lead to an
embedded font program (FontFile, FontFile2 or FontFile3)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.extensions import db
from app.models import CertificationAttempt, CertificationResult
from app.services import scoring

GOOD = Path(__file__).resolve().parent.parent / "data" / "transcripts" / "billing_complaint.good.json"
REF = rb"(\d+) 0 R"


def pdf_objects(data: bytes) -> dict[int, bytes]:
    """Each indirect object's dictionary text (what precedes any stream), located through
    the classic cross-reference table that reportlab writes."""
    start = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    head = re.match(rb"xref\s+(\d+) (\d+)\s+", data[start:])
    assert head, "no classic xref table where startxref points"
    first, count = int(head.group(1)), int(head.group(2))
    entries = re.findall(rb"(\d{10}) \d{5} ([nf])", data[start + head.end():start + head.end() + 20 * count])
    assert len(entries) == count
    objects = {}
    for number, (offset, kind) in enumerate(entries, first):
        if kind == b"n":
            body = data[int(offset):]
            end = min(i for i in (body.find(b"endobj"), body.find(b"stream")) if i >= 0)
            objects[number] = body[:end]
    return objects


def fonts_without_program(data: bytes) -> tuple[list[bytes], list[bytes]]:
    """(every font's BaseFont, those whose font program is not embedded)."""
    objects = pdf_objects(data)

    def ref(body: bytes, key: bytes) -> bytes:
        m = re.search(rb"/" + key + rb"\s*\[?\s*" + REF, body)
        return objects[int(m.group(1))] if m else b""

    names, missing = [], []
    for body in objects.values():
        if not re.search(rb"/Type\s*/Font\b", body):
            continue
        name = re.search(rb"/BaseFont\s*/([^\s/<>\[\]]+)", body)
        name = name.group(1) if name else body[:60]
        names.append(name)
        if re.search(rb"/Subtype\s*/Type3\b", body):
            continue  # glyphs drawn by the PDF itself
        holder = ref(body, b"DescendantFonts") if re.search(rb"/Subtype\s*/Type0\b", body) else body
        if not re.search(rb"/FontFile[23]?\s*" + REF, ref(holder, b"FontDescriptor")):
            missing.append(name)
    return names, missing


def assert_all_fonts_embedded(data: bytes):
    assert data.startswith(b"%PDF")
    names, missing = fonts_without_program(data)
    assert names, "a PDF with text has at least one font"
    assert not missing, f"fonts not embedded: {missing}"


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_report_pdf_embeds_every_font(client, login_as, language):
    trainee = login_as("trainee", display_name="小王")
    drill = scoring.import_transcript(GOOD.read_bytes(), GOOD.name, trainee, trainee=trainee)
    pdf = client.get(f"/trainee/drills/{drill.id}/transcript.pdf", headers={"Accept-Language": language})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert (b"Score report" in pdf.data) == (language == "en")  # the title in the document info
    assert_all_fonts_embedded(pdf.data)


def test_certificate_pdf_embeds_every_font(client, login_as, make_user):
    trainee = make_user("trainee", display_name="王五")
    attempt = CertificationAttempt(user_id=trainee.id, track_id="core", status="marked", exam_score=90.0,
                                   drill_score=50.0, case_score=30.0, total=170.0, grade="excellent", details={})
    result = CertificationResult(user_id=trainee.id, attempt=attempt, track_id="core", grade="excellent",
                                 total=170.0)
    db.session.add(result)
    db.session.commit()
    login_as("hr")
    pdf = client.get(f"/hr/results/{result.id}/certificate.pdf")
    assert pdf.status_code == 200
    assert_all_fonts_embedded(pdf.data)


def test_the_check_catches_unembedded_fonts():
    """The parser must see a standard font and a viewer-supplied CID font as missing."""
    from io import BytesIO

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 12)
    c.drawString(72, 72, "证书")
    c.showPage()
    c.save()
    names, missing = fonts_without_program(buf.getvalue())
    assert sorted(missing) == sorted(names) == [b"Helvetica", b"STSong-Light"]
