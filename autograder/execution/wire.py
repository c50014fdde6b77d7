"""The only format that crosses the sandbox boundary.

A value is encoded as a JSON tree whose array leaves are ``.npy`` blobs::

    b"CVW1" | u32 header length | header JSON | blob 0 | blob 1 | ...

The header is ``{"tree": node, "blobs": [len0, len1, ...]}``. A node is a JSON
null, bool, int, str or finite float, a JSON list (a Python list), or a tagged
object ``{"$": tag, ...}`` for everything else:

=========== ==========================================================
tag         Python value
=========== ==========================================================
``float``   a non-finite float: ``{"$": "float", "v": "nan"}``
``tuple``   ``{"$": "tuple", "v": [node, ...]}``
``dict``    ``{"$": "dict", "v": [[key, node], ...]}``, scalar keys only
``complex`` ``{"$": "complex", "re": node, "im": node}``
``ndarray`` ``{"$": "ndarray", "blob": i}``: bool/int/float/complex only
``scalar``  ``{"$": "scalar", "blob": i}``: a NumPy scalar, as a 0-d array
``function`` ``{"$": "function", "kind": str, "params": node}``: a
            `FunctionSpec`, accepted only from the grader
=========== ==========================================================

Decoding never unpickles or evaluates anything: arrays are read with
``allow_pickle=False`` after their header's claimed size has been checked
against the bytes actually present. Anything else is a `WireError`.

Messages between processes travel as frames, ``b"CVF1" | u32 length | payload``
(`frame`, `FrameReader`).
"""

from __future__ import annotations

import io
import json
import math
import re
import socket
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np

from autograder.execution.outcome import FunctionSpec

MAGIC = b"CVW1"
FRAME_MAGIC = b"CVF1"
DEFAULT_MAX_BYTES = 64 * 2**20
MAX_DEPTH = 64
# The kinds of dtype that are plain numbers: bool, int, unsigned, float, complex.
PLAIN_KINDS = "biufc"
_HEADER = struct.Struct(">4sI")
_MAX_NDIM = 64  # numpy.ndarray's own limit (NPY_MAXDIMS)
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class WireError(ValueError):
    """A value that cannot cross the sandbox boundary, or bytes that are not a valid encoding."""


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


# --------------------------------------------------------------------------- encoding


class _Encoder:
    def __init__(self, max_bytes: int, allow_functions: bool):
        self.max_bytes = max_bytes
        self.allow_functions = allow_functions
        self.blobs: list[bytes] = []
        self.size = 0

    def _blob(self, arr: np.ndarray, where: str) -> int:
        if arr.dtype.kind not in PLAIN_KINDS or arr.dtype.fields is not None:
            raise WireError(
                f"wire.encode: {where} is an array of dtype {arr.dtype}; "
                "expected numbers (bool, int, float or complex)"
            )
        if self.size + arr.nbytes > self.max_bytes:
            raise WireError(
                f"wire.encode: {where} is an array of {_mib(arr.nbytes)}; "
                f"the limit for all values together is {_mib(self.max_bytes)}"
            )
        buf = io.BytesIO()
        np.lib.format.write_array(buf, arr, allow_pickle=False)
        data = buf.getvalue()
        self.size += len(data)
        self.blobs.append(data)
        return len(self.blobs) - 1

    def node(self, obj: Any, where: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise WireError(f"wire.encode: {where} is nested deeper than {MAX_DEPTH} levels")
        if obj is None or isinstance(obj, bool):
            return obj
        if isinstance(obj, str):
            return str(obj)
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"$": "float", "v": repr(float(obj))}
        if isinstance(obj, complex):
            return {"$": "complex", "re": self.node(obj.real, where, depth + 1),
                    "im": self.node(obj.imag, where, depth + 1)}
        if isinstance(obj, np.ndarray):
            return {"$": "ndarray", "blob": self._blob(np.asarray(obj), where)}
        if isinstance(obj, np.generic):
            return {"$": "scalar", "blob": self._blob(np.asarray(obj), where)}
        if isinstance(obj, list):
            return [self.node(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"$": "tuple",
                    "v": [self.node(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if not (k is None or isinstance(k, bool | int | float | str)):
                    raise WireError(
                        f"wire.encode: {where} has a key of type {type(k).__name__}; "
                        "expected str, int, float, bool or None keys"
                    )
                items.append([self.node(k, where, depth + 1),
                              self.node(v, f"{where}[{k!r}]", depth + 1)])
            return {"$": "dict", "v": items}
        if isinstance(obj, FunctionSpec) and self.allow_functions:
            return {"$": "function", "kind": str(obj.kind),
                    "params": self.node(dict(obj.params), f"{where}.params", depth + 1)}
        raise WireError(
            f"wire.encode: {where} is a {type(obj).__module__}.{type(obj).__qualname__}; "
            "expected plain data (ndarray, number, str, bool, None, list, tuple or dict)"
        )


def encode(
    obj: Any, *, max_bytes: int = DEFAULT_MAX_BYTES, allow_functions: bool = False,
    name: str = "value",
) -> bytes:
    """Encode plain data for the other side of the sandbox.

    Parameters
    ----------
    obj : Any
        Arrays of numbers, Python/NumPy scalars, str, None, lists, tuples and
        dicts of those; `FunctionSpec` when `allow_functions`.
    max_bytes : int
        Cap on the encoded size.
    allow_functions : bool
        Accept `FunctionSpec` nodes (grader -> worker only).
    name : str
        How error messages refer to `obj`, e.g. ``"the return value"``.

    Returns
    -------
    bytes

    Raises
    ------
    WireError
        `obj` holds something else (an object array, a function, ...), or is
        larger than `max_bytes`; the message names where.

    Examples
    --------
    >>> decode(encode((np.arange(3), {"k": 1.5})))
    (array([0, 1, 2]), {'k': 1.5})
    """
    enc = _Encoder(max_bytes, allow_functions)
    tree = enc.node(obj, name, 0)
    header = json.dumps({"tree": tree, "blobs": [len(b) for b in enc.blobs]},
                        allow_nan=False, separators=(",", ":")).encode()
    total = _HEADER.size + len(header) + sum(len(b) for b in enc.blobs)
    if total > max_bytes:
        raise WireError(f"wire.encode: {name} takes {_mib(total)}; the limit is {_mib(max_bytes)}")
    return b"".join([_HEADER.pack(MAGIC, len(header)), header, *enc.blobs])


# --------------------------------------------------------------------------- decoding


# The header of a .npy blob as NumPy writes it for a plain array, and nothing else: parsed
# here, not by numpy.lib.format, whose reader runs `ast.literal_eval`. CPython 3.11's AST
# constructor keeps one recursion counter per interpreter, so parsing in a dispatcher thread
# while the main thread parses a notebook cell raises SystemError in either of them.
_NPY_HEADER = re.compile(
    r"\{'descr': '(?P<descr>[<>|=]?[A-Za-z]+[0-9]*)', "
    r"'fortran_order': (?P<fortran>True|False), "
    r"'shape': \((?P<shape>(?:-?[0-9]+, )*(?:-?[0-9]+,?)?)\), \} *\n")
_NPY_MAGIC = b"\x93NUMPY"


def _npy_header(blob: bytes) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """(shape, fortran_order, dtype, offset of the data) of a .npy blob; raises WireError."""
    if blob[:6] != _NPY_MAGIC or len(blob) < 10:
        raise WireError("wire.decode: invalid .npy header (no .npy magic)")
    version = (blob[6], blob[7])
    if version == (1, 0):
        n, start = int.from_bytes(blob[8:10], "little"), 10
    elif version == (2, 0) and len(blob) >= 12:
        n, start = int.from_bytes(blob[8:12], "little"), 12
    else:
        raise WireError(f"wire.decode: unsupported .npy version {version}")
    text = blob[start:start + n]
    match = _NPY_HEADER.fullmatch(text.decode("latin1")) if len(text) == n else None
    if match is None:
        raise WireError(f"wire.decode: invalid .npy header ({text[:80]!r})")
    try:
        dtype = np.dtype(match["descr"])
    except TypeError as e:
        raise WireError(f"wire.decode: invalid .npy header ({e})") from None
    shape = tuple(int(v) for v in match["shape"].replace(" ", "").split(",") if v)
    if len(match["shape"]) > 0 and "," not in match["shape"]:
        raise WireError(f"wire.decode: invalid .npy header ({text[:80]!r})")  # "(3)": no tuple
    return shape, match["fortran"] == "True", dtype, start + n


def _read_npy(blob: bytes) -> np.ndarray:
    """Read one ``.npy`` blob after checking that its header tells the truth."""
    shape, fortran_order, dtype, offset = _npy_header(blob)
    if dtype.kind not in PLAIN_KINDS or dtype.hasobject or dtype.fields is not None:
        raise WireError(f"wire.decode: array of dtype {dtype} is not plain numbers")
    if any(n < 0 for n in shape):
        raise WireError(
            f"wire.decode: an array header claims shape {shape}, which has a negative dimension"
        )
    if len(shape) > _MAX_NDIM:
        raise WireError(f"wire.decode: an array header claims {len(shape)} dimensions; "
                        f"NumPy allows at most {_MAX_NDIM}")
    claimed = math.prod(shape) * dtype.itemsize
    present = len(blob) - offset
    if claimed != present:
        raise WireError(
            f"wire.decode: an array header claims shape {shape} of {dtype} "
            f"({claimed} bytes) but {present} bytes are present"
        )
    try:
        flat = np.frombuffer(blob, dtype=dtype, count=math.prod(shape), offset=offset)
        return flat.reshape(shape, order="F" if fortran_order else "C").copy(order="K")
    except Exception as e:  # the checks above should leave nothing, but the bytes are foreign
        raise WireError(f"wire.decode: invalid .npy data ({type(e).__name__}: {e})"[:300]) \
            from None


class _Decoder:
    def __init__(self, blobs: list[bytes], allow_functions: bool):
        self.blobs = blobs
        self.allow_functions = allow_functions

    def _blob(self, node: dict) -> np.ndarray:
        i = node.get("blob")
        if type(i) is not int or not 0 <= i < len(self.blobs):
            raise WireError(f"wire.decode: bad blob reference {i!r}")
        return _read_npy(self.blobs[i])

    def _float(self, v: Any) -> float:
        if type(v) is float or type(v) is int:
            return float(v)
        if isinstance(v, dict) and v.get("$") == "float" and v.get("v") in _NONFINITE:
            return _NONFINITE[v["v"]]
        raise WireError(f"wire.decode: expected a float, got {v!r:.80}")

    def node(self, node: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise WireError(f"wire.decode: nested deeper than {MAX_DEPTH} levels")
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is list:
            return [self.node(v, depth + 1) for v in node]
        if type(node) is not dict:
            raise WireError(f"wire.decode: unexpected node {node!r:.80}")
        tag = node.get("$")
        if tag == "float":
            return self._float(node)
        if tag == "tuple" and type(node.get("v")) is list:
            return tuple(self.node(v, depth + 1) for v in node["v"])
        if tag == "dict" and type(node.get("v")) is list:
            out = {}
            for item in node["v"]:
                if type(item) is not list or len(item) != 2:
                    raise WireError(f"wire.decode: bad dict item {item!r:.80}")
                key = self.node(item[0], depth + 1)
                if not (key is None or type(key) in (bool, int, float, str)):
                    raise WireError(f"wire.decode: dict key {key!r:.80} is not a scalar")
                out[key] = self.node(item[1], depth + 1)
            return out
        if tag == "complex":
            return complex(self._float(node.get("re")), self._float(node.get("im")))
        if tag == "ndarray":
            return self._blob(node)
        if tag == "scalar":
            arr = self._blob(node)
            if arr.ndim != 0:
                raise WireError(f"wire.decode: scalar blob has shape {arr.shape}")
            return arr[()]
        if tag == "function" and self.allow_functions and type(node.get("kind")) is str:
            params = self.node(node.get("params"), depth + 1)
            if not isinstance(params, dict):
                raise WireError("wire.decode: function params must be a dict")
            return FunctionSpec(node["kind"], params)
        raise WireError(f"wire.decode: unknown or malformed node {node!r:.80}")


def decode(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, allow_functions: bool = False
) -> Any:
    """Decode bytes made by `encode`, trusting nothing in them.

    Parameters
    ----------
    data : bytes
    max_bytes : int
        Bytes longer than this are refused before parsing.
    allow_functions : bool
        Accept `FunctionSpec` nodes (only the worker, reading the grader's calls).

    Returns
    -------
    Any

    Raises
    ------
    WireError
        Oversize input, bad magic, bad JSON, unknown tags, object or structured
        arrays, array headers whose claimed size differs from the data.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"wire.decode: data expects bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > max_bytes:
        raise WireError(f"wire.decode: {_mib(len(data))} received; the limit is {_mib(max_bytes)}")
    if len(data) < _HEADER.size:
        raise WireError(f"wire.decode: {len(data)} bytes is too short for a header")
    magic, hlen = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise WireError(f"wire.decode: bad magic {magic!r}, expected {MAGIC!r}")
    start = _HEADER.size + hlen
    try:
        header = json.loads(data[_HEADER.size:start], parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        raise WireError(f"wire.decode: invalid JSON header ({e})") from None
    if type(header) is not dict or set(header) != {"tree", "blobs"}:
        raise WireError("wire.decode: header must have exactly 'tree' and 'blobs'")
    lengths = header["blobs"]
    if type(lengths) is not list or not all(type(n) is int and n >= 0 for n in lengths):
        raise WireError("wire.decode: 'blobs' must be a list of lengths")
    if start + sum(lengths) != len(data):
        raise WireError(
            f"wire.decode: blob lengths add up to {sum(lengths)} bytes "
            f"but {len(data) - start} follow the header"
        )
    blobs, at = [], start
    for n in lengths:
        blobs.append(data[at:at + n])
        at += n
    try:
        return _Decoder(blobs, allow_functions).node(header["tree"], 0)
    except RecursionError:
        raise WireError("wire.decode: nested too deeply") from None
    except OverflowError as e:  # a JSON int too large for a float, where a float is expected
        raise WireError(f"wire.decode: {e}") from None


def _reject_constant(name: str) -> Any:
    raise WireError(f"wire.decode: bare {name} is not allowed in JSON")


# --------------------------------------------------------------------------- frames
#
# A frame carries a message: a small "meta" encoding (what happened) and an
# optional "value" encoding (a returned value), kept apart so that a value
# which fails to decode spoils only itself:
#
#     b"CVF1" | u32 n | u32 len(meta) | meta | value      (n counts what follows it)

_U32 = struct.Struct(">I")


def frame(meta: bytes, value: bytes = b"") -> bytes:
    """Pack one message: encoded `meta` and an optional encoded `value`."""
    return _HEADER.pack(FRAME_MAGIC, _U32.size + len(meta) + len(value)) + \
        _U32.pack(len(meta)) + meta + value


def _split(payload: bytes) -> tuple[bytes, bytes]:
    if len(payload) < _U32.size:
        raise WireError("a frame is too short")
    (n,) = _U32.unpack_from(payload)
    if n > len(payload) - _U32.size:
        raise WireError(f"a frame claims {n} bytes of meta but has {len(payload) - _U32.size}")
    return payload[_U32.size:_U32.size + n], payload[_U32.size + n:]


class FrameReader:
    """Split a byte stream into (meta, value) messages, with a cap on the total bytes.

    Parameters
    ----------
    max_bytes : int
        Total budget for all frames of the stream.

    Examples
    --------
    >>> r = FrameReader(100)
    >>> r.feed(frame(b"ab") + frame(b"c", b"v")[:3])
    [(b'ab', b'')]
    >>> r.feed(frame(b"c", b"v")[3:])
    [(b'c', b'v')]
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.received = 0
        self._buf = bytearray()

    def feed(self, chunk: bytes) -> list[tuple[bytes, bytes]]:
        """Add bytes; return the messages now complete.

        Raises
        ------
        WireError
            A bad frame, or more than `max_bytes` in total.
        """
        return list(self.messages(chunk))

    def messages(self, chunk: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Add bytes; yield the messages now complete, one by one.

        Unlike `feed`, the messages before a bad frame are given before the
        `WireError`: what a writer sent before it spoilt the stream still counts.
        """
        self.received += len(chunk)
        if self.received > self.max_bytes:
            raise WireError(f"more than {_mib(self.max_bytes)} of results were sent")
        self._buf += chunk
        while len(self._buf) >= _HEADER.size:
            magic, n = _HEADER.unpack_from(self._buf)
            if magic != FRAME_MAGIC:
                raise WireError(f"bad frame start {bytes(self._buf[:8])!r}")
            if n > self.max_bytes:
                raise WireError(f"a frame claims {n} bytes; the limit is {self.max_bytes}")
            if len(self._buf) < _HEADER.size + n:
                break
            message = _split(bytes(self._buf[_HEADER.size:_HEADER.size + n]))
            del self._buf[:_HEADER.size + n]
            yield message

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame still buffered."""
        return len(self._buf)


def message(obj: Any) -> bytes:
    """A plain-data message (`FunctionSpec` allowed), framed for `send_message`."""
    return frame(encode(obj, allow_functions=True, name="message"))


def send_message(sock: socket.socket, obj: Any, fds: tuple[int, ...] = ()) -> None:
    """Send one message over a Unix socket, optionally passing file descriptors.

    `obj` is plain data, or bytes already made by `message`.
    """
    data = obj if isinstance(obj, bytes) else message(obj)
    if fds:
        sent = socket.send_fds(sock, [data[:_HEADER.size]], list(fds))
        data = data[sent:]
    sock.sendall(data)


def recv_message(
    sock: socket.socket, *, max_bytes: int = DEFAULT_MAX_BYTES, allow_functions: bool = False
) -> tuple[Any, list[int]] | None:
    """Receive one `send_message` message and any descriptors; None at end of stream."""
    data, fds, _, _ = socket.recv_fds(sock, _HEADER.size, 4)
    while data and len(data) < _HEADER.size:
        more = sock.recv(_HEADER.size - len(data))
        if not more:
            break
        data += more
    if not data:
        return None
    reader = FrameReader(max_bytes)
    if len(data) < _HEADER.size:
        raise WireError("recv_message: the stream ended inside a frame header")
    _, n = _HEADER.unpack_from(data)
    if n > max_bytes:
        raise WireError(f"recv_message: a message claims {n} bytes; the limit is {max_bytes}")
    body = bytearray()
    while len(body) < n:
        more = sock.recv(min(n - len(body), 1 << 20))
        if not more:
            raise WireError("recv_message: the stream ended inside a message")
        body += more
    ((meta, _),) = reader.feed(data + bytes(body))
    return decode(meta, max_bytes=max_bytes, allow_functions=allow_functions), fds
