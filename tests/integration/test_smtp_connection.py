"""The SMTP sender keeps one connection per thread; a server times an idle one out. maildev, like many
servers, then answers the next command with `421 Timeout - closing connection` on a socket still open, so
the client reads it as the answer to MAIL FROM. That is a closed connection, not a refusal of the message:
the sender opens a new one and the message goes, once."""

from __future__ import annotations

import socket
import threading

from pastdue.adapters.smtp_sender import SmtpSender
from pastdue.notices.message import Email
from tests.support.stack import free_port


class TimesOutIdle:
    """A small SMTP server: each connection takes one message, then answers its next command 421 (as a
    server does to a connection it timed out while idle) and closes. What it took, by Subject."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[str] = []
        self._server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(connection,), daemon=True).start()

    def _session(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rwb") as stream:

            def say(line: str) -> None:
                stream.write(line.encode() + b"\r\n")
                stream.flush()

            say("220 sink ready")
            took = False
            while line := stream.readline():
                command = line.decode().strip().upper()
                if took:
                    say("421 Timeout - closing connection")
                    return
                if command.startswith(("EHLO", "HELO")):
                    say("250 sink")
                elif command.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                    say("250 OK")
                elif command == "DATA":
                    say("354 go ahead")
                    body = b""
                    while (chunk := stream.readline()) not in (b".\r\n", b""):
                        body += chunk
                    subject = next((h[9:].strip() for h in body.decode().splitlines() if h.startswith("Subject: ")), "")
                    self.received.append(subject)
                    say("250 queued")
                    took = True
                elif command == "QUIT":
                    say("221 bye")
                    return

    def close(self) -> None:
        self._server.close()


def _email(n: int) -> Email:
    return Email(f"op-{n}", "admin@example.com", f"Notice {n}", "text", "<p>html</p>")


def test_a_connection_the_server_timed_out_while_idle_is_opened_again_and_the_message_goes():
    server = TimesOutIdle()
    try:
        sender = SmtpSender("billing@pastdue.test", "127.0.0.1", server.port)
        for n in (1, 2, 3):  # each send after the first finds its kept connection timed out
            sender.send(_email(n))
        assert server.received == ["Notice 1", "Notice 2", "Notice 3"]
    finally:
        server.close()
