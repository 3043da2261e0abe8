"""Messages that point at the fix: each failure below names where it happened and why, and
is tried as often as trying again could help (once when it cannot).

Every server here is real and on 127.0.0.1: the hostile socket server (tests/hostile_server.py)
for protocol-level misbehaviour, a TLS listener with a self-signed certificate, and the
hostile server acting as an HTTP proxy that refuses the tunnel.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from provider.client import BasetenClient
from provider.deadline import Deadline
from provider.emulator import Emulator, chain_path, deployment_path, make_deployment
from provider.errors import (
    InvalidInputError,
    NotFoundError,
    RequestRejectedError,
    TransportError,
)
from provider.lookup import DeploymentQuery
from provider.models import ChainDeployment
from provider.validation import QUOTED_CHARS, check_wait_for
from tests.conftest import FAST_RETRY, TEST_KEY
from tests.hostile_server import Behaviour, Exchange, hostile, key_fragments, respond, silent

CHAIN = "ch7k2p9q"
DEP = "dp3m8x1v"
DEP_PATH = deployment_path(CHAIN, DEP)


def _client(url: str) -> BasetenClient:
    return BasetenClient(
        api_key=TEST_KEY, base_url=url, retry=FAST_RETRY, timeout=(2.0, 2.0), sleep=lambda _: None
    )


def _fails(url: str, error: type[Exception] = TransportError) -> Exception:
    with _client(url) as client, pytest.raises(error) as info:
        client.get_chain_deployment(CHAIN, DEP)
    assert TEST_KEY not in str(info.value)
    return info.value


# -- redirects -------------------------------------------------------------------------------


def test_a_redirect_names_its_target_and_says_why_it_was_not_followed() -> None:
    location = "https://user:hunter2pw@elsewhere.example/v1/chains/x?token=t0ps3cret#frag"
    with hostile(default=respond(301, "", {"Location": location}, reason="Moved")) as server:
        exc = _fails(server.url, RequestRejectedError)

    text = str(exc)
    assert exc.status == 301  # type: ignore[attr-defined]
    assert "redirected to https://elsewhere.example/v1/chains/x" in text
    assert "not followed" in text and "API key" in text
    for secret in ("hunter2pw", "user:", "t0ps3cret", "frag"):
        assert secret not in text
    assert [path for _, path in server.seen] == [DEP_PATH]  # asked once, never followed


def test_a_redirect_to_a_hostile_location_is_escaped_and_shortened() -> None:
    location = "https://x.example/\x1b]0;owned\x07" + "a" * 5000
    with hostile(default=respond(302, "", {"Location": location})) as server:
        exc = _fails(server.url, RequestRejectedError)

    assert "\x1b" not in str(exc) and "\x07" not in str(exc)
    assert len(str(exc)) < 400


# -- proxies ---------------------------------------------------------------------------------


def _refuse_tunnel(exchange: Exchange) -> None:
    exchange.send(
        b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n"
        b"Connection: close\r\n\r\n"
    )


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield


def test_a_proxy_that_refuses_the_tunnel_is_named_without_its_credentials(
    proxy_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with hostile(default=_refuse_tunnel) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", f"http://proxyuser:pr0xyp4ss@127.0.0.1:{proxy.port}")
        exc = _fails("https://api.baseten.co")

    text = str(exc)
    assert f"proxy 127.0.0.1:{proxy.port}" in text, text
    assert "407" in text
    assert "api.baseten.co" not in text
    assert "pr0xyp4ss" not in text and "proxyuser" not in text
    assert exc.host == f"127.0.0.1:{proxy.port}"  # type: ignore[attr-defined]
    assert proxy.seen and all(method == "CONNECT" for method, _ in proxy.seen)


def test_an_unreachable_proxy_is_named_with_the_cause(
    proxy_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://u:s3cr3tpass@127.0.0.1:{port}")
    exc = _fails("https://api.baseten.co")

    text = str(exc)
    assert f"proxy 127.0.0.1:{port}" in text and "connection refused" in text, text
    assert "s3cr3tpass" not in text and "api.baseten.co" not in text


# -- failures that trying again cannot fix ---------------------------------------------------


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no CA signed (``cryptography`` comes with ``tf``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "untrusted test CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextmanager
def tls_listener(directory: Path) -> Iterator[tuple[str, list[int]]]:
    """An HTTPS listener on 127.0.0.1 with a self-signed certificate; yields its URL and a
    list that counts the handshakes tried."""
    cert, key = _self_signed(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    stop = threading.Event()
    handshakes: list[int] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            handshakes.append(1)
            with sock, suppress(OSError):
                sock.settimeout(2.0)
                with context.wrap_socket(sock, server_side=True):
                    pass  # the client refuses the certificate; nothing more to say

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}", handshakes
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_an_untrusted_certificate_is_tried_once_and_names_host_reason_and_the_ca_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with tls_listener(tmp_path) as (url, handshakes):
        exc = _fails(url)

    text = str(exc)
    assert "certificate" in text and "REQUESTS_CA_BUNDLE" in text, text
    assert "self-signed" in text or "self signed" in text, text
    assert url.removeprefix("https://") in text
    assert exc.attempts == 1  # type: ignore[attr-defined]
    assert len(handshakes) == 1


def test_a_body_that_does_not_decode_as_its_content_encoding_is_tried_once() -> None:
    garbage = respond(200, b"this is not gzip at all", {"Content-Encoding": "gzip"})
    with hostile(default=garbage) as server:
        exc = _fails(server.url)

    assert "the body could not be decoded (Content-Encoding gzip)" in str(exc), exc
    assert exc.attempts == 1  # type: ignore[attr-defined]
    assert len(server.seen) == 1


# -- status lines ----------------------------------------------------------------------------


def _early_hints_then(status_lines: int) -> Behaviour:
    body = json.dumps(make_deployment(CHAIN, DEP)).encode()

    hint = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"

    def behaviour(exchange: Exchange) -> None:
        for _ in range(status_lines):
            if not exchange.send(hint):
                return
        exchange.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )

    return behaviour


@pytest.mark.parametrize("interim", [1, 3])
def test_103_early_hints_are_skipped_and_the_final_answer_is_read(interim: int) -> None:
    with hostile(default=_early_hints_then(interim)) as server, _client(server.url) as client:
        deployment = client.get_chain_deployment(CHAIN, DEP)

    assert isinstance(deployment, ChainDeployment)
    assert deployment.id == DEP
    assert len(server.seen) == 1


def test_a_malformed_status_line_is_named_as_such_escaped_and_shortened() -> None:
    def garbage(exchange: Exchange) -> None:
        exchange.send(b"SPDY/9 \x1b[2Jgarbage" + b"x" * 500 + b"\r\n\r\n")
        with suppress(OSError):  # the server may be closing it already
            exchange.sock.shutdown(socket.SHUT_RDWR)

    with hostile(default=garbage) as server:
        exc = _fails(server.url)

    text = str(exc)
    assert f"malformed status line from {server.url.removeprefix('http://')}" in text, text
    assert "SPDY/9" in text and "\x1b" not in text
    assert "connection dropped" not in text and "closed before" not in text
    assert len(text) < 300


# -- a key pasted into the wrong place -------------------------------------------------------


@pytest.mark.parametrize("call", ["deployment", "chain", "environment"])
def test_an_id_that_holds_the_api_key_is_refused_before_it_is_sent(call: str) -> None:
    with hostile(default=respond(404, {"message": "nope"})) as server, _client(server.url) as c:
        pasted = f"x{TEST_KEY[3:15]}"  # a fragment is enough
        with pytest.raises(InvalidInputError) as info:
            if call == "deployment":
                c.get_chain_deployment(CHAIN, pasted)
            elif call == "chain":
                c.get_chain(pasted)
            else:
                c.get_chain_environment(CHAIN, pasted)

    assert "API key" in str(info.value)
    assert not key_fragments(str(info.value), TEST_KEY)
    assert server.seen == []


def test_a_refused_status_quotes_no_more_than_a_short_prefix() -> None:
    with pytest.raises(InvalidInputError) as info:
        check_wait_for([TEST_KEY])
    assert not key_fragments(str(info.value), TEST_KEY)
    assert TEST_KEY[:QUOTED_CHARS] in str(info.value)


# -- which input a 404 is the fault of --------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "chain_id", "field", "what"),
    [
        ("production", "chtypo99", "chain_id", "chain 'chtypo99'"),
        ("prodution", CHAIN, "environment", "environment 'prodution'"),
    ],
)
def test_a_404_for_an_environment_names_the_input_at_fault(
    client: BasetenClient,
    emulator: Emulator,
    environment: str,
    chain_id: str,
    field: str,
    what: str,
) -> None:
    query = DeploymentQuery.parse({"chain_id": chain_id, "environment": environment})
    with pytest.raises(NotFoundError) as info:
        query.fetch(client)
    assert info.value.field == field
    assert str(info.value).startswith(f"HTTP 404: {what}")
    # One more GET, of the chain itself.
    assert [r.path for r in emulator.requests] == [
        f"{chain_path(chain_id)}/environments/{environment}",
        chain_path(chain_id),
    ]


def test_the_chain_check_runs_under_the_callers_deadline() -> None:
    # The environment is missing at once; the chain GET then meets a server that never answers.
    routes = {
        f"{chain_path(CHAIN)}/environments/prodution": respond(404, {"message": "nope"}),
    }
    with hostile(routes, default=silent) as server, _client(server.url) as client:
        query = DeploymentQuery.parse({"chain_id": CHAIN, "environment": "prodution"})
        started = time.monotonic()
        with pytest.raises(NotFoundError) as info:
            query.fetch(client, Deadline.after(0.5))
        elapsed = time.monotonic() - started
    assert info.value.field is None  # unsure which input: Baseten's 404 as it was
    assert "environment 'prodution'" in str(info.value)
    assert elapsed < 0.5 + 0.75


@pytest.mark.parametrize("route", ["environments/production", "deployments/dp3m8x1v", ""])
def test_the_emulator_answers_404_for_a_missing_chain_on_every_route(
    emulator: Emulator, route: str
) -> None:
    path = chain_path("chtypo99") + (f"/{route}" if route else "")
    assert emulator.answer(path)[0] == 404


def test_the_emulator_answers_404_for_a_missing_environment_of_a_chain_that_exists(
    emulator: Emulator,
) -> None:
    assert emulator.answer(chain_path(CHAIN) + "/environments/prodution")[0] == 404
    assert emulator.answer(chain_path(CHAIN))[0] == 200


@pytest.mark.parametrize(
    "url",
    [f"http://{TEST_KEY}.example", f"https://api.example/{TEST_KEY}", f"http://{TEST_KEY[:12]}"],
)
def test_a_base_url_that_holds_the_api_key_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        BasetenClient(api_key=TEST_KEY, base_url=url)
    assert info.value.field == "base_url"
    assert not key_fragments(str(info.value), TEST_KEY)
    assert not key_fragments(str(info.value), TEST_KEY.lower())


def _early_hints_forever(exchange: Exchange) -> None:
    while exchange.send(b"HTTP/1.1 103 Early Hints\r\n\r\n") and exchange.pause(0.1):
        pass


def test_an_endless_run_of_early_hints_is_bounded_by_the_deadline() -> None:
    with hostile(default=_early_hints_forever) as server, _client(server.url) as client:
        deadline = Deadline.after(0.6)
        started = time.monotonic()
        with pytest.raises(TransportError) as info:
            client.get_chain_deployment(CHAIN, DEP, deadline=deadline)
        elapsed = time.monotonic() - started

    assert "timed out" in str(info.value)
    assert elapsed < 0.6 + 0.75  # the deadline, plus the suite's slack for scheduling
