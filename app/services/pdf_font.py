"""The one font every PDF is set in, embedded so that any viewer shows the same page.

WenQuanYi Micro Hei (Apache-2.0, TrueType outlines, CJK and Latin in one face) comes from
the `paperang-p2-fonts-cjk` wheel, a plain PyPI dependency, so a fresh install has it
without a system font or a download at run time. reportlab embeds only the glyphs a
document uses (a subset), which it can do for TrueType outlines but not for the CFF
outlines of the OTF builds of Noto Sans CJK / Source Han Sans: hence this face.
"""
from __future__ import annotations

import threading
from importlib.resources import files

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "WenQuanYiMicroHei"
_PACKAGE, _FILE, _FACE = "paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc", 0  # face 1 is the Mono cut
# Two threads' first PDFs must not register two font objects under one name: a document
# looks the font up by name as it goes, and each object keeps its own subsets.
_registering = threading.Lock()


def pdf_font() -> str:
    """The registered reportlab name of the embedded font; the file is parsed once per
    process, on the first PDF, not at import."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        with _registering:
            if FONT not in pdfmetrics.getRegisteredFontNames():
                path = files(_PACKAGE).joinpath(_FILE)
                pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=_FACE))
    return FONT
