"""The boundary format: round trips, and everything the decoder must refuse."""

from __future__ import annotations

import io
import json
import math
import os
import socket
import struct

import numpy as np
import pytest

from autograder.execution import wire
from autograder.execution.outcome import FunctionSpec
from autograder.execution.wire import WireError, decode, encode


def _raw(tree, blobs=()) -> bytes:
    """Hand-made encoding, to feed the decoder what `encode` would never write."""
    header = json.dumps({"tree": tree, "blobs": [len(b) for b in blobs]}).encode()
    return wire.MAGIC + struct.pack(">I", len(header)) + header + b"".join(blobs)


def _npy(arr) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()


@pytest.mark.parametrize("value", [
    None, True, 0, -7, 2**80, 1.5, "conv", [], [1, [2, "x"]], (), (1, (2.0, None)),
    {"a": 1, 2: "b", None: [3]}, 1 + 2j, complex(math.inf, -1.0),
])
def test_plain_values_round_trip(value):
    assert decode(encode(value)) == value
    assert type(decode(encode(value))) is type(value)


def test_nonfinite_floats_round_trip():
    out = decode(encode([math.inf, -math.inf, math.nan]))
    assert out[:2] == [math.inf, -math.inf] and math.isnan(out[2])


@pytest.mark.parametrize("arr", [
    np.arange(12.0).reshape(3, 4), np.arange(6, dtype=np.int32).reshape(2, 3).T,
    np.array([True, False]), np.zeros((0, 5)), np.array(3.5), np.array([1 + 2j]),
    np.arange(4, dtype=">f4"),
])
def test_arrays_round_trip_exactly(arr):
    out = decode(encode(arr))
    assert out.dtype == arr.dtype and out.shape == arr.shape
    np.testing.assert_array_equal(out, arr)


def test_numpy_scalars_keep_their_type():
    out = decode(encode((np.float32(1.5), np.int64(3), np.bool_(True))))
    assert [type(v) for v in out] == [np.float32, np.int64, np.bool_]
    assert out == (1.5, 3, True)


def test_function_spec_only_when_allowed():
    spec = FunctionSpec("circular_conv", {"w": np.array([1.0, 2.0])})
    out = decode(encode(spec, allow_functions=True), allow_functions=True)
    assert out.kind == "circular_conv"
    np.testing.assert_array_equal(out.params["w"], [1.0, 2.0])
    with pytest.raises(WireError,
                       match=r"autograder.execution.outcome.FunctionSpec; expected plain data"):
        encode(spec)
    with pytest.raises(WireError, match="unknown or malformed node"):
        decode(encode(spec, allow_functions=True))


@pytest.mark.parametrize("value, where, what", [
    (np.array([1, "a"], dtype=object), "value", "dtype object"),
    ([0, lambda x: x], r"value\[1\]", "builtins.function"),
    ({"k": {1, 2}}, r"value\['k'\]", "builtins.set"),
    (np.zeros(2, dtype=[("a", "f8")]), "value", r"dtype \[\('a', '<f8'\)\]"),
    (np.array(["ab"]), "value", "dtype <U2"),
])
def test_encode_refuses_what_is_not_plain_data(value, where, what):
    with pytest.raises(WireError, match=rf"wire.encode: {where} is .*{what}"):
        encode(value)


def test_encode_refuses_non_scalar_keys_and_deep_nesting():
    with pytest.raises(WireError, match="has a key of type tuple"):
        encode({(1, 2): 3})
    deep = []
    for _ in range(wire.MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(WireError, match="nested deeper than 64 levels"):
        encode(deep)


def test_encode_respects_the_size_cap():
    with pytest.raises(WireError, match=r"array of 0.8 MiB; the limit .* is 0.5 MiB"):
        encode(np.zeros(100_000), max_bytes=2**19)
    assert len(encode(np.zeros(10_000), max_bytes=2**19)) < 2**19


def test_decode_refuses_object_arrays_even_in_a_valid_npy():
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array([None, 1], dtype=object), allow_pickle=True)
    with pytest.raises(WireError, match="dtype object is not plain numbers"):
        decode(_raw({"$": "ndarray", "blob": 0}, [buf.getvalue()]))


def test_decode_refuses_a_header_claiming_10_gb():
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**10 // 8,)}
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    blob = buf.getvalue() + b"\0" * 64
    with pytest.raises(WireError, match=r"claims shape \(1250000000,\) of float64 "
                                        r"\(10000000000 bytes\) but 64 bytes are present"):
        decode(_raw({"$": "ndarray", "blob": 0}, [blob]))


@pytest.mark.parametrize("shape, body, match", [
    ((-1, -2), 16, r"shape \(-1, -2\)"),
    ((0, -5), 0, r"shape \(0, -5\)"),
])
def test_decode_refuses_negative_dimensions(shape, body, match):
    # numpy's header reader accepts them; reshaping to them would raise a bare ValueError.
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": shape})
    with pytest.raises(WireError, match=match):
        decode(_raw({"$": "ndarray", "blob": 0}, [buf.getvalue() + b"\0" * body]))


@pytest.mark.parametrize("data, match", [
    (b"CVW0" + b"\0" * 8, "bad magic"),
    (b"CV", "too short"),
    (wire.MAGIC + struct.pack(">I", 5) + b"{nope", "invalid JSON header"),
    (_raw({"$": "pickle", "v": "cos\nsystem"}), "unknown or malformed node"),
    (_raw({"$": "ndarray", "blob": 3}), "bad blob reference 3"),
    (_raw({"$": "ndarray", "blob": 0}, [b"xx"]), "invalid .npy header"),
    (_raw({"$": "dict", "v": [[[1], 2]]}), r"dict key \[1\] is not a scalar"),
    (_raw(1) + b"extra", "blob lengths add up to 0 bytes but 5 follow"),
    (wire.MAGIC + struct.pack(">I", 28) + b'{"tree": NaN, "blobs": []}  ', "bare NaN"),
    (_raw({"$": "scalar", "blob": 0}, [_npy([1, 2])]), r"scalar blob has shape \(2,\)"),
])
def test_decode_rejects_malformed_input(data, match):
    with pytest.raises(WireError, match=match):
        decode(data)


def test_decode_rejects_oversize_and_deep_input():
    with pytest.raises(WireError, match=r"1.0 MiB received; the limit is 0.5 MiB"):
        decode(b"\0" * 2**20, max_bytes=2**19)
    deep = "[" * 100_000 + "]" * 100_000
    header = ('{"tree": ' + deep + ', "blobs": []}').encode()
    with pytest.raises(WireError, match="nested|JSON"):
        decode(wire.MAGIC + struct.pack(">I", len(header)) + header)
    with pytest.raises(TypeError, match="wire.decode: data expects bytes, got str"):
        decode("text")


def test_frame_reader_splits_and_caps_the_stream():
    stream = wire.frame(b"meta1") + wire.frame(b"meta2", b"value2")
    reader = wire.FrameReader(1000)
    got = [m for i in range(len(stream)) for m in reader.feed(stream[i:i + 1])]
    assert got == [(b"meta1", b""), (b"meta2", b"value2")] and reader.pending == 0
    with pytest.raises(WireError, match="bad frame start b'garbage!'"):
        wire.FrameReader(1000).feed(b"garbage!garbage!")
    with pytest.raises(WireError, match="a frame claims 4294967295 bytes; the limit is 1000"):
        wire.FrameReader(1000).feed(wire.FRAME_MAGIC + b"\xff" * 4)
    with pytest.raises(WireError, match=r"more than 0.0 MiB of results were sent"):
        wire.FrameReader(10).feed(stream)


def test_messages_carry_data_and_descriptors_over_a_socket():
    a, b = socket.socketpair()
    r, w = os.pipe()
    with a, b:
        wire.send_message(a, {"op": "run", "x": np.arange(3)}, fds=(w,))
        msg, fds = wire.recv_message(b)
        assert msg["op"] == "run" and msg["x"].tolist() == [0, 1, 2] and len(fds) == 1
        os.write(fds[0], b"through the passed descriptor")
        assert os.read(r, 100) == b"through the passed descriptor"
        for fd in (r, w, *fds):
            os.close(fd)
        a.shutdown(socket.SHUT_WR)
        assert wire.recv_message(b) is None
