"""A tiny SMTP server on 127.0.0.1 for tests: accepts every message and keeps it.

Speaks just enough of RFC 5321 for smtplib (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
QUIT); `refuse` makes it answer 554 to MAIL, to test a server that will not take mail.
"""
from __future__ import annotations

import email
import socketserver
import threading
from email.message import Message


class _Handler(socketserver.StreamRequestHandler):
    def _say(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        server: LocalSMTP = self.server.owner  # type: ignore[attr-defined]
        self._say("220 localhost test SMTP")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            verb = raw.decode("utf-8", "replace").strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._say("250 localhost")
            elif verb == "MAIL":
                self._say("554 refused" if server.refuse else "250 OK")
            elif verb in ("RCPT", "RSET", "NOOP"):
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 end with <CRLF>.<CRLF>")
                lines = []
                while True:
                    line = self.rfile.readline()
                    if not line or line in (b".\r\n", b".\n"):
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)
                server.messages.append(email.message_from_bytes(b"".join(lines)))
                self._say("250 OK queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("502 not implemented")


class LocalSMTP:
    """`with LocalSMTP() as smtp:` serves on 127.0.0.1:`smtp.port`; `smtp.messages` holds
    what it received (email.message.Message objects)."""

    def __init__(self, refuse: bool = False):
        self.refuse = refuse
        self.messages: list[Message] = []
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.owner = self  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "LocalSMTP":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
