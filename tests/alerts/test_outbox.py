"""The outbox: leased, sent once with a stable Message-ID, retried with backoff, dead-lettered to the lead."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from backend.alerts.models import Alert, OutboxMessage
from backend.alerts.outbox import message_id, outbox_claim, outbox_enqueue, signature
from backend.alerts.services import outbox_relay_once

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


def email_to(person, key="k1"):  # type: ignore[no-untyped-def]
    return outbox_enqueue(
        kind="email",
        dedup_key=key,
        now=NOW,
        payload={"to": str(person.public_id), "subject": "Keel: something needs your attention", "body": "Sign in."},
    )


def test_a_message_is_sent_once_with_its_message_id(personas, settings):
    personas.welfare_officer.email = "officer@example.org"
    personas.welfare_officer.save()
    message = email_to(personas.welfare_officer)
    assert email_to(personas.welfare_officer).pk == message.pk  # one row per key
    assert outbox_relay_once(now=NOW) == 1
    assert outbox_relay_once(now=NOW) == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == message_id(message)
    message.refresh_from_db()
    assert message.state == "sent" and message.sent_at == NOW


def test_a_leased_message_is_not_claimed_twice(personas):
    email_to(personas.welfare_officer)
    first = outbox_claim(now=NOW)
    assert first and outbox_claim(now=NOW) == []
    assert outbox_claim(now=NOW + timedelta(minutes=2)) == first  # the lease ran out: resend, same message


def test_failures_back_off_and_dead_letter_after_five_tries(personas, monkeypatch):
    from backend.alerts import outbox

    personas.welfare_officer.email = "officer@example.org"
    personas.welfare_officer.save()

    def refuse(message):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setitem(outbox.SENDERS, "email", refuse)
    message = email_to(personas.welfare_officer)
    now = NOW
    for attempt in range(1, 5):
        outbox_relay_once(now=now)
        message.refresh_from_db()
        assert (message.state, message.attempts) == ("pending", attempt)
        assert message.next_attempt_at > now
        assert outbox_relay_once(now=now) == 0  # not due yet
        now = message.next_attempt_at
    outbox_relay_once(now=now)
    message.refresh_from_db()
    assert message.state == "dead"
    lead_alert = Alert.objects.get(rule="alerts.outbox_dead_letter")
    assert lead_alert.assignee == personas.lead and lead_alert.person is None


def test_status_reports_the_oldest_unsent_message(client, personas):
    email_to(personas.welfare_officer)
    assert client.get("/status").json()["outbox_oldest_unsent_seconds"] > 0


def test_webhook_signature_is_hmac_sha256():
    assert (
        signature(b'{"a": 1}', "secret")
        == "sha256=" + __import__("hmac").new(b"secret", b'{"a": 1}', "sha256").hexdigest()
    )


def test_urgent_alerts_page_through_a_signed_webhook(personas, settings):
    import http.server
    import json
    import threading

    received: list[tuple[dict[str, str], bytes]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # type: ignore[no-untyped-def]
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):  # type: ignore[no-untyped-def]
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.KEEL_PAGING_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/page"
    settings.KEEL_PAGING_WEBHOOK_SECRET = "s3cret-for-tests"
    try:
        from backend.alerts import services

        alert = Alert.objects.create(
            rule="exposure.daily_limit",
            person=personas.investigator,
            severity="urgent",
            dedup_key="x",
            assignee=personas.welfare_officer,
            created_at=NOW,
            ack_due_at=NOW,
        )
        services._tell_handler(alert, personas.welfare_officer, step="raised", now=NOW)
        outbox_relay_once(now=NOW)
    finally:
        server.shutdown()
    headers, body = received[0]
    assert headers["X-Keel-Signature"] == signature(body, "s3cret-for-tests")
    payload = json.loads(body)
    assert payload["event_id"] == headers["X-Keel-Event-Id"] and payload["severity"] == "urgent"
    assert personas.investigator.name not in body.decode()
    assert OutboxMessage.objects.get(kind="webhook").state == "sent"


def test_a_hung_broker_never_holds_the_request(monkeypatch):
    """The on-commit kick runs in a thread: a broker that does not answer costs the request nothing."""
    import threading
    import time

    from backend.alerts import services

    released = threading.Event()

    def hang(*args, **kwargs):  # type: ignore[no-untyped-def]
        released.wait(5)

    monkeypatch.setattr(services.current_app, "send_task", hang)
    started = time.monotonic()
    services._kick_relay()
    assert time.monotonic() - started < 0.5
    released.set()
