"""One decoding path, from a body to a model: strict JSON decoded once, redacted, validated.

Every case here is an answer a real server on 127.0.0.1 sends (the hostile server, or the
emulator serving a stored body as given): ``NaN`` or ``Infinity`` next to an echoed key, an
integer past the JSON-safe range, a lone surrogate, a key repeated, the key hidden by
zero-width spaces, a long key in a large body. The library is driven directly, and the leak
and the out-of-range integer also through the command line as a process and the plugin over
gRPC: the key never appears, not even 8 characters of it, and the error is a documented one
(exit 3, a gRPC code that is not INTERNAL), never a traceback.
"""

from __future__ import annotations

import json
import re
import string
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from provider.client import ECHO_WARNING, BasetenClient
from provider.deadline import Deadline
from provider.decoding import MAX_SAFE_INTEGER
from provider.emulator import Emulator, load_default_fixtures, make_deployment
from provider.errors import (
    EXIT_API,
    NotFoundError,
    RequestRejectedError,
    ResponseFormatError,
    TransportError,
)
from provider.redaction import CHECK_EVERY, MARK, RedactionTimeoutError, Redactor
from provider.text import INVISIBLE
from tests.conftest import FAST_RETRY, TEST_KEY, cli_env, run_cli_process
from tests.engine_steps import up
from tests.hostile_server import hostile, key_fragments, respond
from tests.plugin_engine import PluginCallError, PluginProcess, RecordingEngine
from tests.test_plugin import SIMULATED, configured

CHAIN = "ch7k2p9q"
DEP = "dp3m8x1v"
ZWSP = "\u200b"
_INVISIBLE = re.compile(f"[{INVISIBLE}]")


def assert_no_fragment(*texts: str, key: str = TEST_KEY) -> None:
    """Not even 8 characters of ``key`` in any text, invisible characters skipped."""
    for text in texts:
        assert key_fragments(_INVISIBLE.sub("", text), key) == set(), text[:300]


def leaky_deployment(deployment_id: str = DEP, name: str = "{auth}") -> dict[str, Any]:
    """A deployment whose first chainlet is named ``name`` (by default, the echoed key)."""
    deployment = make_deployment(CHAIN, deployment_id)
    deployment["chainlets"][0]["name"] = name
    return deployment


def get(body: bytes, status: int = 200, **kwargs: Any) -> tuple[Any, list[str]]:
    """One ``get_chain_deployment`` against a server answering ``body``: the result or the
    error raised, and the warnings."""
    warnings: list[str] = []
    with (
        hostile(default=respond(status, body)) as server,
        BasetenClient(
            api_key=kwargs.pop("api_key", TEST_KEY),
            base_url=server.url,
            retry=FAST_RETRY,
            on_warning=warnings.append,
        ) as client,
    ):
        try:
            return client.get_chain_deployment(CHAIN, DEP, **kwargs), warnings
        except Exception as exc:
            return exc, warnings


# -- 1. one strict decoding ------------------------------------------------------------------


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize(
    ("place", "field"),
    [
        (("note",), "note"),
        (("chainlets", 1, "debug"), "chainlets[1].debug"),
        (("chainlets", 0, "autoscaling_settings", "max_replica"), None),
    ],
    ids=["extra field", "nested extra field", "declared integer"],
)
def test_nan_or_infinity_anywhere_in_a_200_is_a_format_error_and_the_echoed_key_goes_nowhere(
    constant: str, place: tuple[Any, ...], field: str | None
) -> None:
    deployment = leaky_deployment()
    node: Any = deployment
    for part in place[:-1]:
        node = node[part]
    node[place[-1]] = "@constant@"
    body = json.dumps(deployment).replace('"@constant@"', constant).encode()

    result, warnings = get(body)

    assert isinstance(result, ResponseFormatError), result
    assert f"{constant} is not a JSON number" in str(result)
    expected = field or "chainlets[0].autoscaling_settings.max_replica"
    assert result.field == expected and repr(expected) in str(result)
    assert_no_fragment(str(result), repr(result), *warnings)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (MAX_SAFE_INTEGER, True),
        (-MAX_SAFE_INTEGER, True),
        (MAX_SAFE_INTEGER + 1, False),
        (10**400, False),
        (-(10**400), False),
    ],
    ids=["2**53-1", "-(2**53-1)", "2**53", "10**400", "-10**400"],
)
def test_an_integer_past_the_json_safe_range_is_a_format_error_naming_its_field(
    value: int, accepted: bool
) -> None:
    deployment = make_deployment(CHAIN, DEP)
    deployment["chainlets"][0]["autoscaling_settings"]["max_replica"] = value

    result, _ = get(json.dumps(deployment).encode())

    if accepted:
        assert result.chainlets[0].autoscaling_settings.max_replica == value
        return
    assert isinstance(result, ResponseFormatError), result
    assert result.field == "chainlets[0].autoscaling_settings.max_replica"
    assert "out of range" in str(result) and len(str(result)) < 400


def test_an_integer_past_the_range_in_an_extra_field_is_refused_too() -> None:
    deployment = make_deployment(CHAIN, DEP)
    deployment["replicas_ever"] = [1, 2, 10**30]

    result, _ = get(json.dumps(deployment).encode())

    assert isinstance(result, ResponseFormatError)
    assert result.field == "replicas_ever[2]"


@pytest.mark.parametrize(
    "spelling",
    [b'"Entry \\ud800"', b'"Entry \xed\xa0\x80"', b'"Entry \\udfff\\ud800"'],
    ids=["escaped", "raw bytes", "reversed pair"],
)
def test_a_lone_surrogate_in_a_200_is_a_format_error(spelling: bytes) -> None:
    body = json.dumps(make_deployment(CHAIN, DEP)).encode()
    body = body.replace(b'"Entrypoint"', spelling, 1)

    result, _ = get(body)

    assert isinstance(result, ResponseFormatError), result
    assert "surrogate" in str(result) or "UTF-8" in str(result)
    str(result).encode("utf-8")


def test_a_key_sent_twice_in_one_object_is_a_format_error_naming_it() -> None:
    # A reader taking the first "id" and one taking the last would see different deployments.
    raw = json.dumps(make_deployment(CHAIN, DEP))
    body = (raw[:-1] + ', "id": "dpother1"}').encode()

    result, _ = get(body)

    assert isinstance(result, ResponseFormatError), result
    assert result.field == "id" and "more than once" in str(result)


@pytest.mark.parametrize(
    "body",
    [b'{"message": "gone \\ud800"}', b'{"message": "gone \\udc00 for good", "code": 404}'],
    ids=["lone high surrogate", "lone low surrogate"],
)
def test_an_error_body_with_a_lone_surrogate_is_still_the_404_and_shows_the_escape(
    body: bytes,
) -> None:
    result, _ = get(body, status=404)

    assert isinstance(result, NotFoundError), result
    assert result.status == 404
    str(result).encode("utf-8")  # a gRPC status, a Terraform diagnostic, a terminal
    assert "gone \\ud" in str(result)  # shown as it was sent: a backslash, not a surrogate


def test_an_error_body_that_is_not_strict_json_is_not_quoted_so_escapes_hide_nothing() -> None:
    escaped = "".join(f"\\u{ord(c):04x}" for c in TEST_KEY)
    body = ('{"message": "key ' + escaped + ' refused", "retry": NaN}').encode()

    result, _ = get(body, status=400)

    assert isinstance(result, RequestRejectedError), result
    assert "NaN is not a JSON number" in str(result)
    assert "\\u" not in str(result)
    assert_no_fragment(str(result))


# -- 2. redaction: invisible characters, linear time, inside the deadline --------------------


def _spread(key: str, every: int = 7, filler: str = ZWSP) -> str:
    return filler.join(key[i : i + every] for i in range(0, len(key), every))


@pytest.mark.parametrize("filler", [ZWSP, "\u200d", "\u2060", "\ufeff", "\u00ad", ZWSP * 3])
def test_a_key_with_invisible_characters_between_its_characters_is_redacted(filler: str) -> None:
    text = f"name: {_spread(TEST_KEY, filler=filler)} (ok)"
    redactor = Redactor(TEST_KEY)

    assert redactor.found_in(text)
    assert redactor.text(text) == f"name: {MARK} (ok)"


def test_a_200_naming_a_chainlet_with_the_key_spread_by_zero_width_spaces_is_redacted() -> None:
    body = json.dumps(leaky_deployment(name=_spread(TEST_KEY)), ensure_ascii=False).encode()

    result, warnings = get(body)

    assert result.chainlets[0].name == MARK
    assert warnings == [ECHO_WARNING]
    assert_no_fragment(result.model_dump_json(), json.dumps(result.to_api()))


def test_redaction_matches_a_brute_force_search_on_awkward_texts() -> None:
    key = "ab-ab-abc-ab-abcd"  # repeated runs: one match may start at several offsets
    redactor = Redactor(key)
    texts = [
        "ab-ab-abc",
        "xx" + key + key[3:] + "yy",
        key[:8] + "!" + key[-8:],
        key[:7] + ZWSP + key[7:9] + "abc-ab-a",
        "ab-ab-ab-ab-ab-ab",
        key[5:13] + key[5:13],
    ]
    for text in texts:
        clean = redactor.text(text)
        assert key_fragments(_INVISIBLE.sub("", clean), key) == set(), (text, clean)
        assert (clean != text) == bool(key_fragments(_INVISIBLE.sub("", text), key))
        assert set(clean) - set(MARK) <= set(text)


def long_key(length: int = 200) -> str:
    """A key as long as any the client accepts in practice (``sk-`` and letters/digits)."""
    alphabet = string.ascii_letters + string.digits
    return "sk-" + "".join(alphabet[(i * 7919) % len(alphabet)] for i in range(length - 3))


def test_redaction_looks_at_the_deadline_in_bounded_chunks_and_stops_past_it() -> None:
    key = long_key()
    text = "".join(key[i : i + 8] + "!" for i in range(0, 190, 3)) * 2000  # ~1.1 MB
    reads = 0

    def clock() -> float:
        nonlocal reads
        reads += 1
        return float(reads)  # a second per look: made at 1.0 for 6.0, passed at the 5th look

    deadline = Deadline.after(5.0, clock=clock)
    with pytest.raises(RedactionTimeoutError):
        Redactor(key).text(text, deadline)
    assert reads == 6  # the deadline made, then five looks, each after a bounded chunk

    # The same text with time to spare: every fragment is gone.
    looks = 0

    def frozen() -> float:
        nonlocal looks
        looks += 1
        return 0.0

    clean = Redactor(key).text(text, Deadline.after(5.0, clock=frozen))
    assert_no_fragment(clean, key=key)
    assert looks <= 2 * len(text) // CHECK_EVERY + 2


@pytest.mark.parametrize("kind", ["fragments of the key", "plain text"])
def test_a_long_key_and_a_large_body_end_within_the_deadline(kind: str) -> None:
    # 200 characters of key and 15 MiB: the old search multiplied the two (14.5 s at
    # --timeout 3). Now the call ends by its deadline, done or with the timeout error.
    key = long_key()
    size = 15 * 1024 * 1024
    if kind == "plain text":
        filler = "chainlet-" * (size // 9)
    else:
        filler = "".join(key[i : i + 8] + "!" for i in range(0, 190, 3))
        filler *= size // len(filler)
    body = json.dumps(leaky_deployment(name=filler)).encode()

    started = time.monotonic()
    result, _ = get(body, api_key=key, deadline=Deadline.after(1.0))
    elapsed = time.monotonic() - started

    assert elapsed < 5.0
    if isinstance(result, Exception):
        assert isinstance(result, TransportError) and "timed out" in str(result), result
        assert_no_fragment(str(result), key=key)
    else:
        assert_no_fragment(result.chainlets[0].name, key=key)


@pytest.mark.parametrize("shape", ["JSON", "text"])
def test_a_large_error_body_full_of_key_fragments_is_summarised_without_them_at_once(
    shape: str,
) -> None:
    key = long_key()
    filler = "".join(key[i : i + 8] + "!" for i in range(0, 190, 3))
    filler *= (15 * 1024 * 1024) // len(filler)
    body = (json.dumps({"message": filler}) if shape == "JSON" else filler).encode()

    started = time.monotonic()
    result, warnings = get(body, status=400, api_key=key, deadline=Deadline.after(1.0))

    assert time.monotonic() - started < 5.0
    assert isinstance(result, RequestRejectedError), result
    assert MARK in str(result) and warnings == [ECHO_WARNING]
    assert_no_fragment(str(result), key=key)


# -- through the command line and the plugin ---------------------------------------------------


def nan_deployment(deployment_id: str) -> dict[str, Any]:
    deployment = leaky_deployment(deployment_id, name=f"Entry {TEST_KEY}")
    deployment["chainlets"][1]["debug"] = {"load": float("nan")}
    return deployment


def huge_deployment(deployment_id: str) -> dict[str, Any]:
    deployment = make_deployment(CHAIN, deployment_id)
    deployment["chainlets"][0]["autoscaling_settings"]["max_replica"] = 10**400
    return deployment


CASES = {
    "NaN next to the key": (nan_deployment, "chainlets[1].debug.load", "NaN"),
    "10**400": (huge_deployment, "chainlets[0].autoscaling_settings.max_replica", "out of range"),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize(
    "command", [["get"], ["get", "--json"], ["check"]], ids=["get", "get --json", "check"]
)
def test_the_command_line_exits_3_naming_the_field_and_never_shows_the_key(
    emulator: Emulator, case: str, command: list[str]
) -> None:
    build, field, reason = CASES[case]
    emulator.add_deployment(CHAIN, build("dpodd001"))

    proc = run_cli_process(
        command[0], CHAIN, "dpodd001", *command[1:], env=cli_env(emulator)
    )

    assert proc.returncode == EXIT_API, proc.stderr
    assert field in proc.stderr and reason in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert_no_fragment(proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def plugin_world() -> Iterator[tuple[Emulator, RecordingEngine, PluginProcess]]:
    with (
        Emulator(api_key=TEST_KEY) as emulator,
        RecordingEngine() as engine,
        PluginProcess(engine.address, env=SIMULATED) as plugin,
    ):
        configured(plugin, engine, emulator.url)
        yield emulator, engine, plugin


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("call", ["create", "invoke"])
def test_the_plugin_answers_a_clean_error_naming_the_field_and_never_the_key(
    plugin_world: tuple[Emulator, RecordingEngine, PluginProcess], case: str, call: str
) -> None:
    emulator, engine, plugin = plugin_world
    load_default_fixtures(emulator)
    engine.clear()
    build, field, reason = CASES[case]
    emulator.add_deployment(CHAIN, build("dpodd001"))
    args = {"chainId": CHAIN, "chainDeploymentId": "dpodd001"}

    with pytest.raises(PluginCallError) as info:
        if call == "create":
            up(plugin, args)
        else:
            plugin.invoke(args)

    assert info.value.code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)
    assert field in info.value.details and reason in info.value.details
    assert "Traceback" not in info.value.details
    places = [*plugin.transcript().values(), *(line.message for line in engine.lines)]
    assert_no_fragment(*places)
    assert emulator.methods() <= {"GET"}
