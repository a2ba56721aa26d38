"""Reading a CSV file of people to create: headers in Chinese or English, one row per
person, every fault of every row found before anything is stored.

Plain Python (no Flask, no database): `parse_users` checks what the file alone can tell
(columns, username shape, role, password length, duplicates inside the file) and returns
rows and per-row faults; the service checks the rest against the database (names taken,
cohorts that exist) and stores all rows or none.

Faults are (message id, parameters) so the page can say them in the reader's language.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

MAX_BYTES = 1_000_000
MAX_ROWS = 2000

# Header words accepted for each field, compared after trimming and lower-casing.
HEADERS = {
    "username": ("username", "user name", "login", "用户名", "账号", "帐号", "工号"),
    "display_name": ("display_name", "display name", "name", "姓名", "显示名", "名字"),
    "role": ("role", "角色"),
    "cohorts": ("cohorts", "cohort", "班组", "所属班组"),
    "password": ("password", "initial password", "密码", "初始密码"),
}
REQUIRED = ("username", "password")
# Role words in either language -> the stored role.
ROLES = {"trainee": "trainee", "学员": "trainee", "trainer": "trainer", "培训师": "trainer", "hr": "hr",
         "人力": "hr", "人力资源": "hr", "admin": "admin", "管理员": "admin"}
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-@]{1,64}$")
COHORT_SPLIT = re.compile(r"[;；|、]")
MIN_PASSWORD = 8


def N_(msgid: str) -> str:
    """Marks a message for extraction; the page translates it when shown."""
    return msgid


@dataclass
class UserRow:
    line: int  # the line of the file (the header is line 1)
    username: str
    display_name: str
    role: str | None  # None when the file names an unknown role (a fault of the row)
    cohorts: list[str]
    password: str = field(repr=False)


@dataclass
class RowFault:
    line: int
    username: str
    msgid: str
    params: dict = field(default_factory=dict)


class ImportFileError(ValueError):
    """The file as a whole cannot be read (encoding, size, columns); nothing is imported."""

    def __init__(self, msgid: str, **params):
        super().__init__(msgid % params if params else msgid)
        self.msgid, self.params = msgid, params


def decode(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes), else GB18030 (what Excel saves as
    "CSV" on a Chinese Windows)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(N_("The file is not text in UTF-8 or GBK: save it from the spreadsheet as CSV."))


def _both(words: tuple[str, ...]) -> str:
    """A field's English and first Chinese header word, e.g. "username / 用户名"."""
    return f"{words[0]} / {next(w for w in words if not w.isascii())}"


def _columns(header: list[str]) -> dict[str, int]:
    words = {w: key for key, ws in HEADERS.items() for w in ws}
    out: dict[str, int] = {}
    for i, cell in enumerate(header):
        key = words.get(cell.strip().lower())
        if key is not None and key not in out:
            out[key] = i
    missing = [k for k in REQUIRED if k not in out]
    if missing:
        raise ImportFileError(N_("The header row has no column %(column)s. Accepted headers: %(accepted)s."),
                              column=_both(HEADERS[missing[0]]), accepted="; ".join(map(_both, HEADERS.values())))
    return out


def parse_users(data: bytes) -> tuple[list[UserRow], list[RowFault]]:
    """Every row of a CSV file (also those with faults, so the database checks can add
    theirs) and the faults of each; ImportFileError when the file as a
    whole cannot be used (too large, not text, no header, no username or password
    column, too many rows). Blank lines are skipped; a missing role means trainee."""
    if len(data) > MAX_BYTES:
        raise ImportFileError(N_("The file is larger than %(n)d KB."), n=MAX_BYTES // 1000)
    reader = csv.reader(io.StringIO(decode(data), newline=""))
    header = next(reader, None)
    if not header or not any(c.strip() for c in header):
        raise ImportFileError(N_("The file is empty: the first line must name the columns."))
    cols = _columns(header)
    rows, faults, seen = [], [], {}
    for line, cells in enumerate(reader, 2):
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(N_("The file has more than %(n)d people: split it."), n=MAX_ROWS)

        def cell(key: str) -> str:
            i = cols.get(key)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        username, password = cell("username"), cell("password") if "password" in cols else ""
        role_word = cell("role")
        row_faults = []
        if not USERNAME_RE.match(username):
            row_faults.append((N_("The username must be 1-64 letters, digits or _ . - @."), {}))
        elif username.lower() in seen:
            row_faults.append((N_("The username is also on line %(line)d of this file."), {"line": seen[username.lower()]}))
        role = ROLES.get(role_word.lower() or "trainee")
        if role is None:
            row_faults.append((N_("Unknown role %(role)s: use 学员/trainee, 培训师/trainer, 人力资源/hr or 管理员/admin."),
                               {"role": role_word}))
        if len(password) < MIN_PASSWORD:
            row_faults.append((N_("The password must have at least %(n)d characters."), {"n": MIN_PASSWORD}))
        display = cell("display_name") or username
        if len(display) > 120:
            row_faults.append((N_("The name is longer than 120 characters."), {}))
        cohorts = list(dict.fromkeys(c.strip() for c in COHORT_SPLIT.split(cell("cohorts")) if c.strip()))
        if username and username.lower() not in seen:
            seen[username.lower()] = line
        faults += [RowFault(line, username, m, p) for m, p in row_faults]
        rows.append(UserRow(line, username, display, role, cohorts, password))
    if not rows:
        raise ImportFileError(N_("The file has a header but no people."))
    return rows, faults
