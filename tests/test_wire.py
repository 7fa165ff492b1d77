"""The wire codec: plain data round-trips by value; malicious or broken frames are refused."""

from __future__ import annotations

import contextlib
import io
import json
import pickle
import struct
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.sandbox import wire

FAIR = settings(derandomize=True, database=None, deadline=None, max_examples=60)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.binary(max_size=20),
)
hashables = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
plain = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(hashables, inner, max_size=4),
        st.frozensets(hashables, max_size=4).map(set),
    ),
    max_leaves=12,
)
numpy_dtypes = st.sampled_from(
    [np.bool_, np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32, np.int64, np.float16, np.float32, np.float64]
)


def roundtrip(value):
    return wire.decode(wire.encode({"v": value}))["v"]


@FAIR
@given(value=plain)
def test_plain_values_roundtrip_with_types(value):
    back = roundtrip(value)
    assert back == value
    assert type(back) is type(value)


@FAIR
@given(arr=hnp.arrays(numpy_dtypes, hnp.array_shapes(min_dims=0, max_dims=4, max_side=5)))
def test_numpy_arrays_roundtrip_exactly(arr):
    back = roundtrip(arr)
    assert isinstance(back, np.ndarray)
    assert back.dtype == arr.dtype and back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)


@pytest.mark.parametrize(
    "dtype",
    [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.uint8, torch.bool],
)
def test_tensors_of_every_dtype_roundtrip(dtype):
    t = (torch.arange(12).reshape(3, 4) % 3).to(dtype)
    back = roundtrip({"t": t, "view": t[:, 1]})
    assert back["t"].dtype == dtype and torch.equal(back["t"], t)
    assert torch.equal(back["view"], t[:, 1])


def test_tensor_flags_and_special_floats():
    p = torch.nn.Parameter(torch.ones(2))
    back = roundtrip([p, float("nan"), float("inf"), -float("inf"), torch.Size([2, 3]), torch.float16])
    assert back[0].requires_grad and torch.equal(back[0].detach(), torch.ones(2))
    assert np.isnan(back[1]) and back[2] == float("inf") and back[3] == -float("inf")
    assert back[4] == (2, 3) and back[5] is torch.float16


def test_numpy_scalars_keep_their_dtype():
    back = roundtrip([np.float32(1.5), np.int16(-3), np.bool_(True)])
    assert [type(x) for x in back] == [np.float32, np.int16, np.bool_]


def test_objects_become_handles_only_with_a_handle_maker():
    class Thing:
        pass

    with pytest.raises(wire.Unencodable):
        wire.encode({"v": Thing()})
    frame = wire.encode({"v": [Thing(), 1]}, make_handle=lambda o: {"t": "handle", "id": 7, "type": "Thing"})
    with pytest.raises(wire.WireError, match="handle"):
        wire.decode(frame)
    assert wire.decode(frame, make_proxy=lambda node: ("proxy", node["id"]))["v"] == [("proxy", 7), 1]


def test_object_arrays_never_cross():
    with pytest.raises(wire.Unencodable):
        wire.encode({"v": np.array([object()], dtype=object)})


# --- without torch -----------------------------------------------------------------------------


@pytest.fixture
def torch_absent(monkeypatch):
    """Decode as a process that has not imported torch does (numpy arrays only)."""
    monkeypatch.setattr(wire, "_torch_loaded", lambda: False)


@FAIR
@given(arr=hnp.arrays(numpy_dtypes, hnp.array_shapes(min_dims=0, max_dims=4, max_side=5)))
def test_numpy_arrays_roundtrip_without_torch(arr):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wire, "_torch_loaded", lambda: False)
        back = roundtrip({"a": arr, "s": arr.reshape(-1)[:1].copy()[()] if arr.size else 0})
    assert isinstance(back["a"], np.ndarray) and back["a"].dtype == arr.dtype and back["a"].shape == arr.shape
    np.testing.assert_array_equal(back["a"], arr)


def test_a_tensor_still_decodes_as_a_tensor_without_torch_loaded(torch_absent):
    back = roundtrip({"t": torch.arange(4, dtype=torch.bfloat16), "a": np.arange(3)})
    assert isinstance(back["t"], torch.Tensor) and back["t"].dtype == torch.bfloat16
    assert isinstance(back["a"], np.ndarray) and back["a"].tolist() == [0, 1, 2]


def test_a_payload_numpy_cannot_hold_is_refused_without_torch(torch_absent):
    frame = wire.encode({"v": torch.ones(2, dtype=torch.bfloat16)})
    prefix, rest = frame[: wire.PREFIX_SIZE], frame[wire.PREFIX_SIZE :]
    head_len, _ = wire.frame_sizes(prefix)
    lying = json.dumps({"v": {"t": "ndarray", "k": "a0", "shape": [2]}}).encode()
    with pytest.raises(wire.WireError):
        wire.decode(_frame(lying, rest[head_len:]))


@FAIR
@given(junk=st.binary(max_size=200))
def test_random_payloads_without_torch_never_escape_as_other_errors(junk):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wire, "_torch_loaded", lambda: False)
        with contextlib.suppress(wire.WireError):
            wire.decode(_frame(b'{"v": {"t": "ndarray", "k": "a0", "shape": [1]}}', junk))


def test_arrays_cross_without_importing_torch():
    code = (
        "import sys, numpy as np; from grader.sandbox import wire; "
        "back = wire.decode(wire.encode({'v': [np.arange(5.0), np.int16(3), np.dtype('f4'), {'k': b'x'}]}))['v']; "
        "assert back[0].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0] and back[1] == 3; "
        "print('torch' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


# --- malicious and broken frames ------------------------------------------------------------


class _Boom:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('/tmp/grader-pwned').write_text('x')",))


def _frame(head: bytes, payload: bytes = b"") -> bytes:
    return struct.pack("<4sIQ", wire.MAGIC, len(head), len(payload)) + head + payload


def test_pickle_payload_is_refused_without_running(tmp_path):
    blob = pickle.dumps(_Boom())
    for frame in (blob, _frame(blob), _frame(b'{"v": {"t": "ndarray", "k": "a0"}}', blob)):
        with pytest.raises(wire.WireError):
            wire.decode(frame)
    import pathlib

    assert not pathlib.Path("/tmp/grader-pwned").exists()


def test_object_dtype_npy_payload_is_refused():
    buf = io.BytesIO()
    np.save(buf, np.array([_Boom()], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError):
        wire.decode(_frame(b'{"v": {"t": "ndarray", "k": "a0"}}', buf.getvalue()))


@FAIR
@given(cut=st.integers(0, 200))
def test_truncated_frames_are_refused(cut):
    frame = wire.encode({"v": [np.arange(10), "text", torch.ones(3)]})
    cut = min(cut, len(frame) - 1)
    with pytest.raises(wire.WireError):
        wire.decode(frame[:cut])


@FAIR
@given(junk=st.binary(max_size=200))
def test_random_bytes_never_escape_as_other_errors(junk):
    for frame in (junk, _frame(junk), _frame(b'{"v": {"t": "ndarray", "k": "a0"}}', junk)):
        with contextlib.suppress(wire.WireError):
            wire.decode(frame)


@pytest.mark.parametrize(
    "header",
    [
        {"v": {"t": "eval", "v": "__import__('os').system('true')"}},
        {"v": {"t": "int", "v": "1" * 5000}},
        {"v": {"t": "torch_dtype", "v": "load"}},
        {"v": {"t": "np_dtype", "v": "|O"}},
        {"v": {"t": "ndarray", "k": "missing"}},
        {"v": {"t": "dict", "v": [[{"t": "list", "v": []}, {"t": "none"}]]}},
        {"v": "no tag"},
        ["not", "an", "object"],
    ],
)
def test_malformed_headers_are_refused(header):
    with pytest.raises(wire.WireError):
        wire.decode(_frame(json.dumps(header).encode()))


def test_oversized_and_foreign_frames_are_refused():
    with pytest.raises(wire.WireError, match="too large"):
        wire.frame_sizes(struct.pack("<4sIQ", wire.MAGIC, wire.MAX_HEADER_BYTES + 1, 0))
    with pytest.raises(wire.WireError, match="magic"):
        wire.frame_sizes(struct.pack("<4sIQ", b"EVIL", 1, 0))


def test_deep_nesting_is_refused():
    header = {"t": "none"}
    for _ in range(wire.MAX_DEPTH + 5):
        header = {"t": "list", "v": [header]}
    with pytest.raises(wire.WireError):
        wire.decode(_frame(json.dumps({"v": header}).encode()))
