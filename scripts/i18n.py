"""Keep the interface translations in step with the code.

    python scripts/i18n.py          extract UI strings, merge app/translations/zh.yaml into
                                    the zh catalog, compile the .mo the app loads
    python scripts/i18n.py --check  exit 1 listing every UI string without a translation

Translations live in `app/translations/zh.yaml` and `app/translations/zh.d/*.yaml`
(English message → Chinese), files people can review; the .po/.mo files are generated
from them and committed.
"""
from __future__ import annotations

import io
from datetime import datetime, timezone
import subprocess
import sys
from pathlib import Path

import yaml
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TDIR = ROOT / "app" / "translations"
POT = TDIR / "messages.pot"
PO = TDIR / "zh" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
TABLE = TDIR / "zh.yaml"


def extract() -> None:
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
                    "-o", str(POT), "--no-location", "--sort-output", "--omit-header", "."],
                   cwd=ROOT, check=True)


def _messages(mo_bytes: bytes) -> dict:
    catalog = read_mo(io.BytesIO(mo_bytes))
    return {str(m.id): m.string for m in catalog if m.id}


def build(check_only: bool) -> int:
    with POT.open("rb") as fh:
        template = read_po(fh)
    table = {}
    # zh.yaml plus one fragment per area in zh.d/, so parallel work never edits one file.
    for path in [TABLE, *sorted((TDIR / "zh.d").glob("*.yaml"))]:
        for key, value in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if key in table and table[key] != value:
                print(f"{path.name}: {key!r} is translated differently elsewhere", file=sys.stderr)
                return 1
            table[key] = value
    missing = [m.id for m in template if m.id and m.id not in table]
    if missing:
        print("untranslated UI strings (add them to app/translations/zh.yaml):", file=sys.stderr)
        for msg in missing:
            print(f"  {msg!r}", file=sys.stderr)
        return 1
    template.locale = "zh"
    template.project, template.version = "hotline-coach", "1"
    # A fixed header date: the extraction time must not make the committed catalog "stale".
    template.creation_date = template.revision_date = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for message in template:
        if message.id:
            message.string = table[message.id]
    po_buf, mo_buf = io.BytesIO(), io.BytesIO()
    write_po(po_buf, template, omit_header=True, sort_output=True, width=0)
    write_mo(mo_buf, template)
    if check_only:
        # Compare what the app would load, not bytes: another Babel version may lay the file out
        # differently without changing a single translation.
        if not MO.exists() or _messages(MO.read_bytes()) != _messages(mo_buf.getvalue()):
            print("the compiled catalog is out of date: run python scripts/i18n.py", file=sys.stderr)
            return 1
        return 0
    PO.parent.mkdir(parents=True, exist_ok=True)
    PO.write_bytes(po_buf.getvalue())
    MO.write_bytes(mo_buf.getvalue())
    print(f"{len(template) - 1} messages, catalog written")
    return 0


if __name__ == "__main__":
    extract()
    sys.exit(build("--check" in sys.argv))
