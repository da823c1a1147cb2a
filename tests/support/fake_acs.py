"""A local HTTP server that plays the ACS Email REST API, for testing the real SDK against it."""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from devhost.standins import ROOT

CERTS = ROOT / "node_modules/@vercel/cosmosdb-server"


class FakeAcs:
    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[tuple[int, dict]] = []  # status and headers to answer the next sends with
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # The SDK speaks https only: reuse the stand-in's self-signed localhost certificate.
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(CERTS / "cert.pem", CERTS / "key.pem")
        self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"https://localhost:{self.server.server_port}/"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict | None = None, headers: dict | None = None):
                raw = json.dumps(body or {}).encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                operation = self.headers.get("Operation-Id")
                fake.requests.append(
                    {
                        "path": self.path,
                        "operationId": operation,
                        "body": body,
                        "authorization": self.headers.get("Authorization", ""),
                    }
                )
                if fake.script:
                    status, headers = fake.script.pop(0)
                    if status != 202:
                        error = {
                            "error": {
                                "code": "TooManyRequests" if status == 429 else "InternalError",
                                "message": "scripted failure",
                            }
                        }
                        return self._answer(status, error, headers)
                location = f"{fake.endpoint}emails/operations/{operation}?api-version=2023-03-31"
                self._answer(
                    202, {"id": operation, "status": "Running"}, {"Operation-Location": location, "Retry-After": "0"}
                )

            def do_GET(self):
                operation = self.path.split("/emails/operations/")[-1].split("?")[0]
                self._answer(200, {"id": operation, "status": "Succeeded"})

        return Handler
