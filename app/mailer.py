"""Sends email: through SMTP when `SMTP_URL` is set (smtp://user:pass@host:port, or smtps:// for
TLS, `?starttls=1` for STARTTLS), else writes each message as an .eml file to a local outbox folder
(`MAIL_OUTBOX_DIR`, default instance/outbox) in the embedded default.

Each message carries a Message-ID built from its business key, and the .eml file is named after
that key, so a retried send overwrites rather than duplicates (the outbox job is the real guard).
"""
import re
import smtplib
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from .config import INSTANCE


class Mailer:
    def __init__(self, smtp_url: str | None, outbox_dir: str | Path, sender: str):
        self.smtp_url = smtp_url
        self.outbox_dir = Path(outbox_dir)
        self.sender = sender

    def message(self, key: str, to: str, subject: str, body: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Message-ID"] = f"<{re.sub(r'[^A-Za-z0-9.-]', '-', key)}@callguard>"
        msg.set_content(body)
        return msg

    def send(self, key: str, to: str, subject: str, body: str) -> None:
        """Send one message; raises on failure so the outbox job retries it."""
        msg = self.message(key, to, subject, body)
        if not self.smtp_url:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9.@_-]", "_", key)[:180] + ".eml"
            (self.outbox_dir / name).write_bytes(bytes(msg))
            return
        url = urlparse(self.smtp_url)
        secure = url.scheme == "smtps"
        cls = smtplib.SMTP_SSL if secure else smtplib.SMTP
        with cls(url.hostname or "localhost", url.port or (465 if secure else 25), timeout=15) as smtp:
            if parse_qs(url.query).get("starttls") == ["1"]:
                smtp.starttls()
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
            smtp.send_message(msg)


    def purge_files(self, before: datetime) -> int:
        """R9 retention: delete the outbox folder's .eml files last written before `before` (aware UTC).
        Returns how many were deleted. Nothing to do when mail goes through SMTP or the folder is absent."""
        if not self.outbox_dir.is_dir():
            return 0
        deleted = 0
        for path in self.outbox_dir.glob("*.eml"):
            if path.stat().st_mtime <= before.timestamp():
                path.unlink(missing_ok=True)
                deleted += 1
        return deleted


def make_mailer(config: dict) -> Mailer:
    return Mailer(config.get("SMTP_URL"), config.get("MAIL_OUTBOX_DIR") or INSTANCE / "outbox",
                  config.get("MAIL_FROM") or "callguard@localhost")
