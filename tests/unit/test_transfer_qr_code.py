"""The EPC (GiroCode) QR code an invoice payer scans asks for the amount written beside it. The image in the
e-mail is decoded with a QR decoder (zxing-cpp), as a banking app reads it, and its payload (EPC069-12:
service tag, version, character set, SCT, BIC, payee, IBAN, "EUR<amount>", purpose, reference, text) is
compared with what the notice writes: never recomputed with the code that drew it."""

from __future__ import annotations

import html
import io
import re
from decimal import Decimal

import pytest
import zxingcpp
from PIL import Image

from devhost.gallery import BRAND, LOCALES
from devhost.notice_flows import flows
from pastdue.domain import events as ev
from pastdue.domain.money import Money
from pastdue.notices.catalog import catalog
from pastdue.notices.render import render

QR_IMAGE = re.compile(r'<img src="cid:([^"]+)"[^>]* width="(\d+)" height="(\d+)"')


def _decoded(email) -> list[str]:
    """The text of every QR code the HTML shows (an image attached inline, named by its Content-ID), as a
    scanner reads the pictures; each is shown at its own size, never scaled, with a quiet zone around it."""
    found = []
    attached = {image.content_id: image for image in email.inline}
    for content_id, width, height in QR_IMAGE.findall(email.html):
        picture = Image.open(io.BytesIO(attached[content_id].data))
        assert picture.size == (int(width), int(height))  # its native size
        assert picture.convert("L").crop((0, 0, 16, picture.size[1])).getextrema() == (255, 255)  # 4 blank modules
        found += [code.text for code in zxingcpp.read_barcodes(picture) if code.format == zxingcpp.BarcodeFormat.QRCode]
    return found


def _written_amount(email_html: str, label: str) -> int:
    """The amount of the bank details' table, in cents, as the reader sees it (every digit of it: euros are
    written with their two decimals in every language)."""
    (shown,) = re.findall(rf'<th scope="row" align="left">{re.escape(label)}</th><td[^>]*>([^<]+)</td>', email_html)
    return int(re.sub(r"\D", "", html.unescape(shown)))


def _invoice_payer_notices(tag: str) -> list:
    """What the real domain queues for an invoice payer: two invoices overdue, a partial transfer, then the
    reminders of the weeks after."""
    (flow,) = [f for f in flows(tag) if f.name == "invoice-payer"]
    flow.apply(ev.PaymentReceived("tr-part", Money(50_000, "EUR"), "VIR-PART"))
    for _ in range(24):
        flow.sweep()
    return [notice for _, notice in flow.inbox]


@pytest.mark.parametrize("tag", sorted(LOCALES.values()))
def test_the_epc_qr_code_asks_for_the_amount_written_beside_it(tag):
    label = catalog(tag[:2])["labels"]["amount"]
    checked = []
    for notice in _invoice_payer_notices(tag):
        email = render(notice, BRAND)
        codes = _decoded(email)
        if not codes:
            continue
        (payload,) = codes
        lines = payload.split("\n")
        assert lines[:4] == ["BCD", "002", "1", "SCT"] or lines[:4] == ["BCD", "002", "2", "SCT"], payload
        iban, amount = lines[6], lines[7]
        remittance = notice.params["remittance"]
        assert iban == remittance["iban"] and remittance["reference"] in lines[9:], payload
        assert amount.startswith("EUR"), payload
        cents = int(Decimal(amount[3:]) * 100)
        assert cents == _written_amount(email.html, label), (notice.kind, payload)
        checked.append((notice.kind, cents))
    # The flow reaches notices with the bank details at several amounts: both invoices, what is left after
    # the transfer; each one's code was read.
    kinds = {kind for kind, _ in checked}
    assert {"invoice_overdue", "payment_received", "reminder"} <= kinds, checked
    assert len({cents for _, cents in checked}) >= 3, checked
