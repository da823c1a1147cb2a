"""A small stand-in for Microsoft Entra ID's sign-in, enough for MSAL Browser's redirect flow with PKCE: the
OpenID discovery document, an authorize endpoint that signs the user in at once (a redirect back with a code)
and a token endpoint that checks the code and its PKCE verifier and answers JWT-shaped tokens (not signed:
MSAL Browser does not check signatures; the API would). HTTPS on 127.0.0.1 with a certificate made for the
run, since MSAL accepts only an https:// authority (the browser is told to accept the certificate).

Also two plain HTTP servers for tests: a folder of static files (the deployable portal, with the Static Web
App's fallback to index.html) and an API that records the Authorization header of each call."""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import json
import secrets
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlencode, urlparse

TENANT = "7b0e8c1e-5f4a-4d3b-9c2a-1e2f3a4b5c6d"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims: dict) -> str:
    """Header.payload.signature, shaped like a JWT; the signature is a placeholder."""
    header = {"alg": "RS256", "typ": "JWT", "kid": "standin"}
    return ".".join(
        [_b64url(json.dumps(header).encode()), _b64url(json.dumps(claims).encode()), _b64url(b"not-signed")]
    )


def _certificate(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@dataclass
class User:
    oid: str
    name: str
    roles: list[str] = field(default_factory=list)


class _OwnedServer(ThreadingHTTPServer):
    """An HTTP server that knows the stand-in it serves (its handlers read their state from it)."""

    owner: Any = None


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext | None = None):
        self.httpd = _OwnedServer(("127.0.0.1", 0), handler)
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def answer(self, status: int, body: bytes = b"", headers: dict | None = None, content_type="application/json"):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class Authority(_Server):
    """https://127.0.0.1:<port>/<tenant>: signs in `user` for whoever asks."""

    def __init__(self, user: User, client_id: str):
        self.user, self.client_id = user, client_id
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.logout_requests: list[dict[str, str]] = []
        self.codes: dict[str, dict[str, str]] = {}
        self._dir = tempfile.TemporaryDirectory()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*_certificate(Path(self._dir.name)))
        super().__init__(_AuthorityHandler, context)

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def authority(self) -> str:
        return f"{self.origin}/{TENANT}"

    def stop(self) -> None:
        super().stop()
        self._dir.cleanup()

    def discovery(self) -> dict:
        base = f"{self.authority}/oauth2/v2.0"
        return {
            "issuer": f"{self.authority}/v2.0",
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "end_session_endpoint": f"{base}/logout",
            "jwks_uri": f"{self.authority}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "response_types_supported": ["code"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "code_challenge_methods_supported": ["S256"],
        }

    def tokens(self, form: dict[str, str]) -> tuple[int, dict]:
        grant = self.codes.pop(form.get("code", ""), None)
        if form.get("grant_type") != "authorization_code" or grant is None:
            return 400, {"error": "invalid_grant", "error_description": "unknown or used code"}
        challenge = _b64url(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
        if challenge != grant["code_challenge"] or form.get("client_id") != self.client_id:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verifier or client id does not match"}
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri does not match"}
        now = int(time.time())
        user = self.user
        common = {"iss": f"{self.authority}/v2.0", "tid": TENANT, "oid": user.oid, "iat": now, "nbf": now}
        id_token = {
            **common,
            "aud": self.client_id,
            "exp": now + 3600,
            "sub": f"sub-{user.oid}",
            "name": user.name,
            "preferred_username": f"{user.oid}@example.test",
            "nonce": grant["nonce"],
            "roles": user.roles,
            "ver": "2.0",
        }
        api_scopes = [s for s in grant["scope"].split() if s not in ("openid", "profile", "offline_access")]
        access_token = {
            **common,
            "aud": api_scopes[0].rsplit("/", 1)[0] if api_scopes else self.client_id,
            "azp": self.client_id,
            "exp": now + 3600,
            "scp": " ".join(s.rsplit("/", 1)[-1] for s in api_scopes),
            "roles": user.roles,
            "ver": "2.0",
        }
        return 200, {
            "token_type": "Bearer",
            "scope": " ".join(api_scopes),
            "expires_in": 3600,
            "ext_expires_in": 3600,
            "access_token": jwt(access_token),
            "id_token": jwt(id_token),
            "client_info": _b64url(json.dumps({"uid": user.oid, "utid": TENANT}).encode()),
        }


class _AuthorityHandler(_Quiet):
    CORS = {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Headers": "*",
        "Access-Control-Allow-Methods": "*",
    }

    @property
    def authority(self) -> Authority:
        return cast(_OwnedServer, self.server).owner

    def do_OPTIONS(self):  # noqa: N802 - http.server's naming
        self.answer(204, headers=self.CORS)

    def do_GET(self):  # noqa: N802
        url = urlparse(self.path)
        prefix = f"/{TENANT}"
        if url.path == f"{prefix}/v2.0/.well-known/openid-configuration":
            return self.answer(200, json.dumps(self.authority.discovery()).encode(), self.CORS)
        if url.path == f"{prefix}/oauth2/v2.0/authorize":
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            self.authority.authorize_requests.append(query)
            code = secrets.token_urlsafe(16)
            self.authority.codes[code] = {
                "code_challenge": query.get("code_challenge", ""),
                "nonce": query.get("nonce", ""),
                "redirect_uri": query.get("redirect_uri", ""),
                "scope": query.get("scope", ""),
            }
            response = urlencode({"code": code, "state": query.get("state", "")})
            mark = "?" if query.get("response_mode") == "query" else "#"
            return self.answer(302, headers={"Location": f"{query.get('redirect_uri', '')}{mark}{response}"})
        if url.path == f"{prefix}/oauth2/v2.0/logout":
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            self.authority.logout_requests.append(query)
            return self.answer(302, headers={"Location": query.get("post_logout_redirect_uri", "/")})
        if url.path == f"{prefix}/discovery/v2.0/keys":
            return self.answer(200, b'{"keys": []}', self.CORS)
        self.answer(404, b'{"error": "not_found"}', self.CORS)

    def do_POST(self):  # noqa: N802
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if url.path != f"/{TENANT}/oauth2/v2.0/token":
            return self.answer(404, b'{"error": "not_found"}', self.CORS)
        self.authority.token_requests.append(form)
        status, body = self.authority.tokens(form)
        self.answer(status, json.dumps(body).encode(), {**self.CORS, "Cache-Control": "no-store"})


class StaticSite(_Server):
    """http://localhost:<port>: a folder of files, served as the portal's Static Web App serves them (a
    /portal/ path naming no file is /portal/index.html; / leads to /portal/)."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        super().__init__(_StaticHandler)

    @property
    def origin(self) -> str:
        return f"http://localhost:{self.port}"


class _StaticHandler(_Quiet):
    TYPES = {".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".html": "text/html"}

    def do_GET(self):  # noqa: N802
        site: StaticSite = cast(_OwnedServer, self.server).owner
        path = urlparse(self.path).path
        if path == "/":
            return self.answer(302, headers={"Location": "/portal/"})
        target = (site.root / path.lstrip("/")).resolve()
        if not target.is_relative_to(site.root):
            return self.answer(404, b"not found", content_type="text/plain")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            if "." in path.rsplit("/", 1)[-1] or not path.startswith("/portal/"):
                return self.answer(404, b"not found", content_type="text/plain")
            target = site.root / "portal" / "index.html"
        self.answer(
            200, target.read_bytes(), {"Cache-Control": "no-store"}, self.TYPES.get(target.suffix, "text/plain")
        )

    do_HEAD = do_GET


class RecordingApi(_Server):
    """http://localhost:<port>/api: answers the portal's first call (my accounts) and records, per call, the
    method, path and Authorization header; CORS for `allowed_origin` only, as the function app's settings do."""

    def __init__(self, allowed_origin: str = ""):
        self.allowed_origin = allowed_origin
        self.calls: list[dict[str, str | None]] = []
        super().__init__(_ApiHandler)

    @property
    def base(self) -> str:
        return f"http://localhost:{self.port}/api"


class _ApiHandler(_Quiet):
    @property
    def api(self) -> RecordingApi:
        return cast(_OwnedServer, self.server).owner

    def cors(self) -> dict:
        origin = self.headers.get("Origin")
        if origin and origin == self.api.allowed_origin:
            return {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Credentials": "true",
                "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept",
                "Access-Control-Allow-Methods": "GET, POST, PUT",
                "Vary": "Origin",
            }
        return {}

    def do_OPTIONS(self):  # noqa: N802
        self.answer(204, headers=self.cors())

    def do_GET(self):  # noqa: N802
        path = urlparse(self.path).path
        self.api.calls.append(
            {"method": "GET", "path": path, "authorization": self.headers.get("Authorization"), "principal": None}
        )
        self.api.calls[-1]["principal"] = self.headers.get("X-MS-CLIENT-PRINCIPAL")
        if not (self.headers.get("Authorization") or "").startswith("Bearer "):
            body = {"type": "https://pastdue.example/problems/unauthorized", "title": "Unauthorized", "status": 401}
            return self.answer(401, json.dumps(body).encode(), self.cors(), "application/problem+json")
        if path == "/api/me/accounts":
            return self.answer(200, b'{"accounts": []}', self.cors())
        self.answer(404, b'{"title": "Not found", "status": 404}', self.cors(), "application/problem+json")
