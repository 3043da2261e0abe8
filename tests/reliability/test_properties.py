"""Property-based tests (hypothesis), end to end over HTTP against the emulator.

* Whatever JSON (or bytes) a server sends with a 200, the client returns a model or raises
  :class:`ResponseFormatError`; never any other exception.
* Whatever status and body a server sends otherwise, the client raises a
  :class:`BasetenError` (the right family for the status), never any other exception.
* Any string given as an id is either refused with :class:`InvalidInputError` before any
  request, or lands as exactly one path segment inside ``/v1/chains/...`` that decodes back
  to the id.

The emulator and client are shared by the examples of a test (hypothesis runs many examples
per test function); each example queues its own raw answer. Examples are derandomized so a run
is reproducible, and nothing is written to a hypothesis database.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from provider import validation
from provider.backoff import Backoff
from provider.client import BasetenClient, RetryPolicy
from provider.emulator import Emulator, chain_path, make_deployment
from provider.errors import (
    AuthenticationError,
    BasetenError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
    RequestRejectedError,
    ResponseFormatError,
    ServerError,
)
from provider.models import Chain, ChainDeployment, ChainEnvironment
from tests.conftest import TEST_KEY
from tests.reliability.common import CHAIN, DEP, DEP_PATH

pytestmark = pytest.mark.family("properties")

PROFILE = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# One attempt, no waits: a property is about what one answer turns into.
ONE_ATTEMPT = RetryPolicy(max_attempts=1, max_elapsed=5.0, backoff=Backoff(0.01, 0.01))


@pytest.fixture(scope="module")
def api(shared_emulator: Emulator) -> Iterator[BasetenClient]:
    with BasetenClient(
        api_key=TEST_KEY, base_url=shared_emulator.url, retry=ONE_ATTEMPT, timeout=(2.0, 2.0)
    ) as client:
        yield client


# -- strategies ------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
FIELD_NAMES = [
    "id",
    "chain_id",
    "created_at",
    "environment",
    "status",
    "chainlets",
    "name",
    "instance_type_name",
    "active_replica_count",
    "autoscaling_settings",
    "min_replica",
    "max_replica",
    "concurrency_target",
]


@st.composite
def mutated_deployments(draw: st.DrawFn) -> Any:
    """A valid deployment with a few parts replaced, removed or added: near misses."""
    body: Any = make_deployment(CHAIN, DEP)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        node = body
        path: list[Any] = []
        for _ in range(draw(st.integers(min_value=0, max_value=4))):
            if isinstance(node, dict) and node:
                key = draw(st.sampled_from(sorted(node)))
            elif isinstance(node, list) and node:
                key = draw(st.integers(min_value=0, max_value=len(node) - 1))
            else:
                break
            path.append(key)
            node = node[key]
        if not path:
            continue
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(FIELD_NAMES) | st.text(max_size=8))] = draw(json_values)
    return body


def _body(value: Any) -> bytes:
    return json.dumps(value).encode()


CALLS: dict[str, tuple[str, Callable[[BasetenClient], Any], type]] = {
    "deployment": (DEP_PATH, lambda c: c.get_chain_deployment(CHAIN, DEP), ChainDeployment),
    "chain": (chain_path(CHAIN), lambda c: c.get_chain(CHAIN), Chain),
    "environment": (
        f"{chain_path(CHAIN)}/environments/production",
        lambda c: c.get_chain_environment(CHAIN, "production"),
        ChainEnvironment,
    ),
}


def _serve_and_call(server: Emulator, api: BasetenClient, call: str, body: bytes, **kw: Any) -> Any:
    path, fn, _ = CALLS[call]
    server.clear_faults()
    server.add_raw_answer(body, path, **kw)
    try:
        return fn(api)
    finally:
        server.clear_faults()


# -- any body with a 200 -----------------------------------------------------------------------


@PROFILE
@given(call=st.sampled_from(sorted(CALLS)), value=json_values)
def test_any_json_with_200_is_a_model_or_a_format_error(
    shared_emulator: Emulator, api: BasetenClient, call: str, value: Any
) -> None:
    try:
        result = _serve_and_call(shared_emulator, api, call, _body(value))
    except ResponseFormatError as exc:
        event("format error")
        assert exc.status == 200 and str(exc)
    else:
        event("a model")
        assert isinstance(result, CALLS[call][2])


@PROFILE
@given(body=mutated_deployments())
def test_any_near_miss_of_a_deployment_is_a_model_or_a_format_error_naming_a_field(
    shared_emulator: Emulator, api: BasetenClient, body: Any
) -> None:
    try:
        result = _serve_and_call(shared_emulator, api, "deployment", _body(body))
    except ResponseFormatError as exc:
        event("format error" if exc.field is None else "format error naming a field")
        assert exc.status == 200
        assert exc.field is None or repr(exc.field) in str(exc)
    else:
        event("a model")
        assert isinstance(result, ChainDeployment)


@PROFILE
@given(
    body=st.binary(max_size=300),
    content_type=st.sampled_from(["application/json", "text/html", "", "application/x+json"]),
)
def test_any_bytes_with_200_are_a_model_or_a_format_error(
    shared_emulator: Emulator, api: BasetenClient, body: bytes, content_type: str
) -> None:
    try:
        result = _serve_and_call(
            shared_emulator, api, "deployment", body, content_type=content_type
        )
    except ResponseFormatError as exc:
        assert exc.status == 200
    else:
        assert isinstance(result, ChainDeployment)


# -- any other status ------------------------------------------------------------------------

ERROR_STATUSES = st.sampled_from([400, 401, 403, 404, 405, 409, 418, 422, 429, 500, 501, 502, 503])


def _family(status: int) -> type[BasetenError]:
    if status in (401, 403):
        return AuthenticationError
    if status == 404:
        return NotFoundError
    if status == 429:
        return RateLimitedError
    if status >= 500:
        return ServerError
    return RequestRejectedError


@PROFILE
@given(
    status=ERROR_STATUSES,
    body=json_values.map(_body) | st.binary(max_size=200),
    retry_after=st.none()
    | st.sampled_from(["0", "1.5", "-3", "1e999", "nan", "Wed, 21 Oct 2015 07:28:00 GMT"])
    | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=16),
)
def test_any_error_answer_is_the_baseten_error_for_its_status(
    shared_emulator: Emulator, api: BasetenClient, status: int, body: bytes, retry_after: str | None
) -> None:
    headers = [("Retry-After", retry_after)] if retry_after is not None else []
    with pytest.raises(BasetenError) as caught:
        _serve_and_call(shared_emulator, api, "deployment", body, status=status, headers=headers)
    assert isinstance(caught.value, _family(status))
    assert caught.value.status == status
    assert TEST_KEY not in str(caught.value)


# -- any id ----------------------------------------------------------------------------------

ID_TEXT = st.text(max_size=40) | st.text(
    alphabet=st.sampled_from([*"abc./%?#&=;+ \\\t\n\r\x00~-_", "é", "中", "\u202e"]),
    max_size=12,
)


@PROFILE
@given(chain_id=ID_TEXT, deployment_id=ID_TEXT)
def test_any_id_is_refused_or_stays_one_segment_inside_v1_chains(
    shared_emulator: Emulator, api: BasetenClient, chain_id: str, deployment_id: str
) -> None:
    shared_emulator.clear_requests()
    try:
        api.get_chain_deployment(chain_id, deployment_id)
    except InvalidInputError as exc:
        event("refused")
        assert exc.field in ("chain_id", "chain_deployment_id")
        assert shared_emulator.requests == []
        return
    except NotFoundError:
        pass  # the usual answer for ids the emulator does not know
    event("sent")
    [request] = shared_emulator.requests
    segments = request.path.split("/")
    assert segments[:3] == ["", "v1", "chains"] and segments[4] == "deployments"
    assert len(segments) == 6
    assert [unquote(s) for s in (segments[3], segments[5])] == [chain_id, deployment_id]
    assert ".." not in segments and "." not in segments


@PROFILE
@given(value=ID_TEXT)
def test_path_segment_is_refused_or_a_single_encoded_segment(value: str) -> None:
    try:
        segment = validation.path_segment("chain_id", value)
    except InvalidInputError as exc:
        assert exc.field == "chain_id"
        return
    assert "/" not in segment and "?" not in segment and "#" not in segment
    assert segment not in ("", ".", "..")
    assert unquote(segment) == value
