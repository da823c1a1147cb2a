"""The ACS adapter through the real azure-communication-email SDK against a local ACS stand-in."""

from __future__ import annotations

import base64

import pytest

from pastdue.adapters.acs_sender import AcsSender
from pastdue.adapters.email import Email, SendFailed, Throttled
from tests.support.fake_acs import FakeAcs

EMAIL = Email("6f1c1a52-7d1e-5a8e-9f4b-0c1d2e3f4a5b", "ada@example.com", "Subject", "plain body", "<p>html</p>")


def _sender(fake: FakeAcs) -> AcsSender:
    key = base64.b64encode(b"local-acs-test-key").decode()
    return AcsSender(
        "billing@pastdue.test",
        connection_string=f"endpoint={fake.endpoint};accesskey={key}",
        retry_total=0,
        connection_verify=False,
    )


def test_the_sdk_sends_sender_recipient_both_bodies_and_the_operation_id():
    with FakeAcs() as fake:
        _sender(fake).send(EMAIL)
    (request,) = fake.requests
    assert request["path"].startswith("/emails:send")
    assert request["operationId"] == EMAIL.operation_id
    body = request["body"]
    assert body["senderAddress"] == "billing@pastdue.test"
    assert body["recipients"]["to"] == [{"address": "ada@example.com"}]
    assert body["content"] == {"subject": "Subject", "plainText": "plain body", "html": "<p>html</p>"}
    assert request["authorization"].startswith("HMAC-SHA256")


def test_the_qr_code_goes_as_an_inline_attachment_and_replies_go_to_support():
    from pastdue.notices.message import Inline

    picture = Inline("epc-qr", "epc-qr.png", "image/png", b"\x89PNG\r\n\x1a\n-not-really")
    email = Email(EMAIL.operation_id, EMAIL.to, "Subject", "plain", '<img src="cid:epc-qr">', (picture,), "help@x.test")
    with FakeAcs() as fake:
        _sender(fake).send(email)
    (request,) = fake.requests
    body = request["body"]
    assert body["replyTo"] == [{"address": "help@x.test"}]
    (attached,) = body["attachments"]
    assert attached["contentId"] == "epc-qr" and attached["contentType"] == "image/png"
    assert base64.b64decode(attached["contentInBase64"]) == picture.data


def test_a_429_is_throttled_with_its_retry_after():
    with FakeAcs() as fake:
        fake.script = [(429, {"Retry-After": "42"})]
        with pytest.raises(Throttled) as caught:
            _sender(fake).send(EMAIL)
    assert caught.value.retry_after_seconds == 42


def test_a_500_is_a_retryable_failure():
    with FakeAcs() as fake:
        fake.script = [(500, {})]
        with pytest.raises(SendFailed) as caught:
            _sender(fake).send(EMAIL)
    assert not caught.value.permanent and "500" in str(caught.value)
