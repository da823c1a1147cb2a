"""X-MS-CLIENT-PRINCIPAL as App Service Authentication sends it, parsed strictly."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

from pastdue.http.problems import Unauthorized
from pastdue.http.strict import loads

OBJECT_ID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
MAX_HEADER = 16 * 1024
_OID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


@dataclass(frozen=True)
class Principal:
    object_id: str
    roles: frozenset[str]
    name: str | None = None

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def actor(self) -> str:
        return f"user:{self.object_id}"


def parse_principal(header: str | None) -> Principal:
    if not header:
        raise Unauthorized("sign-in required: no X-MS-CLIENT-PRINCIPAL")
    if len(header) > MAX_HEADER:
        raise Unauthorized("X-MS-CLIENT-PRINCIPAL is too large")
    try:
        data = loads(base64.b64decode(header, validate=True), limit=MAX_HEADER, depth=4)
    except (binascii.Error, ValueError):
        raise Unauthorized("X-MS-CLIENT-PRINCIPAL is not base64-encoded JSON") from None
    claims = data.get("claims") if isinstance(data, dict) else None
    if not isinstance(claims, list) or not all(isinstance(c, dict) for c in claims):
        raise Unauthorized("X-MS-CLIENT-PRINCIPAL has no claims list")
    role_typ = data.get("role_typ") or "roles"
    values = [(c.get("typ"), c.get("val")) for c in claims]
    object_ids = [v for t, v in values if t in (OBJECT_ID, "oid") and isinstance(v, str) and _OID.fullmatch(v)]
    if not object_ids:
        raise Unauthorized("X-MS-CLIENT-PRINCIPAL has no object id claim")
    roles = frozenset(v for t, v in values if t in (role_typ, "roles") and isinstance(v, str))
    name = next((v for t, v in values if t == data.get("name_typ") and isinstance(v, str)), None)
    return Principal(object_ids[0], roles, name)


def encode_principal(object_id: str, roles: tuple[str, ...] = (), name: str = "user") -> str:
    """What App Service Authentication would send; for the local host and tests."""
    claims = [{"typ": OBJECT_ID, "val": object_id}, {"typ": "name", "val": name}]
    claims += [{"typ": "roles", "val": r} for r in roles]
    doc = {"auth_typ": "aad", "claims": claims, "name_typ": "name", "role_typ": "roles"}
    return base64.b64encode(json.dumps(doc).encode()).decode()
