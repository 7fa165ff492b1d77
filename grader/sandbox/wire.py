"""The wire codec between the grading process and the sandboxed child.

A message is one frame: ``MAGIC | u32 header length | u64 payload length | header | payload``.
The header is UTF-8 JSON in which every value is tagged (``{"t": "list", "v": [...]}``); arrays
and tensors live in the payload, a safetensors blob, and the header refers to them by key.
Decoding parses JSON and safetensors only: nothing in a frame can make the decoder run code
(no pickle, no ``torch.load``, no ``eval``; object arrays cannot be expressed at all).

Objects that are not plain data never cross: the child keeps them and sends a handle tag
(``{"t": "handle", "id": 7, "type": "Target"}``), which the caller turns into a proxy.

torch is imported only when a tensor (or a torch dtype or device) crosses, or is already
imported: a numpy assignment's frames are encoded and decoded with numpy alone.
"""

from __future__ import annotations

import base64
import json
import math
import struct
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

MAGIC = b"GRW1"
_PREFIX = struct.Struct("<4sIQ")
MAX_HEADER_BYTES = 64 * 1024 * 1024
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024 * 1024
MAX_DEPTH = 64

# numpy dtypes safetensors can carry (bool and the fixed-width numbers).
_NUMPY_KINDS = frozenset("biuf")


class WireError(Exception):
    """A frame that is malformed, too large, or holds something the codec refuses."""


class Unencodable(Exception):
    """Raised by `encode_value` for an object that is not plain data (the child makes a handle)."""


def _torch() -> Any:
    import torch

    return torch


def _is_tensor(obj: Any) -> bool:
    mod = type(obj).__module__
    return mod.startswith("torch") and type(obj).__name__ in {"Tensor", "Parameter"}


class Encoder:
    """Builds one frame; `make_handle` decides what to send for an object that is not data."""

    def __init__(self, make_handle: Callable[[Any], dict[str, Any]] | None = None) -> None:
        self._make_handle = make_handle
        self._arrays: dict[str, Any] = {}
        self._tensors: dict[str, Any] = {}

    def value(self, obj: Any, depth: int = 0) -> dict[str, Any]:
        """The tagged JSON form of `obj`."""
        if depth > MAX_DEPTH:
            raise Unencodable("nested deeper than the codec allows")
        if obj is None:
            return {"t": "none"}
        if isinstance(obj, bool):
            return {"t": "bool", "v": obj}
        if type(obj) is int:
            return {"t": "int", "v": str(obj)}
        if isinstance(obj, float) and type(obj) is float:
            return {"t": "float", "v": _float_text(obj)}
        if isinstance(obj, str) and type(obj) is str:
            return {"t": "str", "v": obj}
        if isinstance(obj, bytes | bytearray):
            return {"t": "bytes", "v": base64.b64encode(bytes(obj)).decode("ascii")}
        if type(obj) in (list, tuple) or _is_torch_size(obj):
            tag = "list" if type(obj) is list else "tuple"
            return {"t": tag, "v": [self.value(x, depth + 1) for x in obj]}
        if isinstance(obj, dict) and type(obj).__module__ in ("builtins", "collections"):
            return {
                "t": "dict",
                "v": [[self.value(k, depth + 1), self.value(v, depth + 1)] for k, v in obj.items()],
            }
        if type(obj) in (set, frozenset):
            return {"t": "set", "v": [self.value(x, depth + 1) for x in obj]}
        if isinstance(obj, np.ndarray) and type(obj) is np.ndarray:
            return self._array(obj, scalar=False)
        if isinstance(obj, np.generic) and obj.dtype.kind in _NUMPY_KINDS:
            return self._array(np.asarray(obj), scalar=True)
        if _is_tensor(obj):
            return self._tensor(obj)
        if type(obj).__module__ == "torch" and type(obj).__name__ == "dtype":
            return {"t": "torch_dtype", "v": str(obj).removeprefix("torch.")}
        if type(obj).__module__ == "torch" and type(obj).__name__ == "device":
            return {"t": "torch_device", "v": str(obj)}
        if isinstance(obj, np.dtype) and obj.kind in _NUMPY_KINDS:
            return {"t": "np_dtype", "v": obj.str}
        if self._make_handle is None:
            raise Unencodable(f"{type(obj).__name__} is not plain data")
        return self._make_handle(obj)

    def _array(self, arr: np.ndarray, *, scalar: bool) -> dict[str, Any]:
        if arr.dtype.kind not in _NUMPY_KINDS or arr.dtype.byteorder == ">":
            if self._make_handle is None:
                raise Unencodable(f"numpy arrays of dtype {arr.dtype} do not cross the wire")
            return self._make_handle(arr)
        key = f"a{len(self._arrays) + len(self._tensors)}"
        self._arrays[key] = np.ascontiguousarray(arr)
        return {"t": "npscalar" if scalar else "ndarray", "k": key, "shape": list(arr.shape)}

    def _tensor(self, t: Any) -> dict[str, Any]:
        torch = _torch()
        if t.is_complex() or t.is_sparse or t.is_quantized or t.layout != torch.strided:
            if self._make_handle is None:
                raise Unencodable(f"{t.dtype} / {t.layout} tensors do not cross the wire")
            return self._make_handle(t)
        key = f"a{len(self._arrays) + len(self._tensors)}"
        self._tensors[key] = t.detach().to("cpu").contiguous().clone()
        return {
            "t": "tensor",
            "k": key,
            "grad": bool(t.requires_grad),
            "param": type(t).__name__ == "Parameter",
            "device": str(t.device),
            "shape": list(t.shape),
        }

    def payload(self) -> bytes:
        """The safetensors blob holding every array and tensor met so far."""
        if not self._arrays and not self._tensors:
            return b""
        if self._tensors:
            from safetensors.torch import save

            torch = _torch()
            merged = dict(self._tensors)
            for k, a in self._arrays.items():
                merged[k] = torch.from_numpy(a.copy())
            return save(merged)
        from safetensors.numpy import save as np_save

        return np_save(self._arrays)


def _is_torch_size(obj: Any) -> bool:
    return type(obj).__module__ == "torch" and type(obj).__name__ == "Size"


def _float_text(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def encode(message: dict[str, Any], make_handle: Callable[[Any], dict[str, Any]] | None = None) -> bytes:
    """Encode a message: a dict of str keys whose values are encoded with the tagged codec.

    Keys starting with "_" are raw JSON (protocol fields such as op names and ids); all other
    values go through the codec.
    """
    enc = Encoder(make_handle)
    header: dict[str, Any] = {}
    for key, val in message.items():
        header[key] = val if key.startswith("_") else enc.value(val)
    head = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")
    payload = enc.payload()
    return _PREFIX.pack(MAGIC, len(head), len(payload)) + head + payload


def frame_sizes(prefix: bytes, *, check_size: bool = True) -> tuple[int, int]:
    """Header and payload lengths from a frame's 16-byte prefix (WireError if invalid).

    With `check_size=False` the caller applies limits of its own (tighter ones) to the sizes.
    """
    if len(prefix) != _PREFIX.size:
        raise WireError("truncated frame prefix")
    magic, head_len, payload_len = _PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise WireError("not a grader frame (bad magic)")
    if check_size and (head_len > MAX_HEADER_BYTES or payload_len > MAX_PAYLOAD_BYTES):
        raise WireError(f"frame too large ({head_len} + {payload_len} bytes)")
    return head_len, payload_len


PREFIX_SIZE = _PREFIX.size


def decode(frame: bytes, make_proxy: Callable[[dict[str, Any]], Any] | None = None) -> dict[str, Any]:
    """Decode a whole frame (prefix included) into a message dict."""
    head_len, payload_len = frame_sizes(frame[:PREFIX_SIZE])
    if len(frame) != PREFIX_SIZE + head_len + payload_len:
        short = len(frame) < PREFIX_SIZE + head_len + payload_len
        raise WireError("truncated frame" if short else "trailing bytes after frame")
    head = frame[PREFIX_SIZE : PREFIX_SIZE + head_len]
    payload = frame[PREFIX_SIZE + head_len :]
    return decode_parts(head, payload, make_proxy)


def decode_parts(
    head: bytes, payload: bytes, make_proxy: Callable[[dict[str, Any]], Any] | None = None
) -> dict[str, Any]:
    """Decode a frame given its header and payload bytes."""
    try:
        header = json.loads(head.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise WireError(f"frame header is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise WireError("frame header is not a JSON object")
    torch_needed = _torch_loaded() or _mentions_tensor(header)
    blobs = _load_payload(payload, torch_needed) if payload else {}
    dec = _Decoder(blobs, make_proxy)
    out: dict[str, Any] = {}
    try:
        for key, val in header.items():
            out[key] = val if key.startswith("_") else dec.value(val, 0)
    except (TypeError, ValueError, RuntimeError, RecursionError) as exc:
        raise WireError(f"malformed value in frame: {exc}") from None
    return out


def _reject_constant(name: str) -> Any:
    raise WireError(f"frame header holds the non-JSON constant {name}")


def _torch_loaded() -> bool:
    return "torch" in sys.modules


def _mentions_tensor(header: Any) -> bool:
    """True when some value of the header is tagged as a tensor (the payload then needs torch)."""
    stack, seen = [header], 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > 10_000_000:  # a header is at most 64 MiB of JSON; this only bounds the walk
            return True
        if isinstance(node, dict):
            if node.get("t") == "tensor":
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _load_payload(payload: bytes, torch_needed: bool) -> dict[str, Any]:
    """The payload's arrays: torch tensors when `torch_needed`, else numpy arrays."""
    from safetensors import SafetensorError

    if torch_needed:
        from safetensors.torch import load
    else:
        from safetensors.numpy import load
    try:
        return load(payload)
    except (SafetensorError, ValueError, RuntimeError, OverflowError, TypeError, KeyError) as exc:
        raise WireError(f"frame payload is not a valid safetensors blob: {exc}") from None


class _Decoder:
    def __init__(self, blobs: dict[str, Any], make_proxy: Callable[[dict[str, Any]], Any] | None):
        self._blobs = blobs
        self._make_proxy = make_proxy

    def value(self, node: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise WireError("value nested too deeply")
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise WireError("malformed value in frame header")
        tag, v = node["t"], node.get("v")
        match tag:
            case "none":
                return None
            case "bool" if isinstance(v, bool):
                return v
            case "int" if isinstance(v, str) and len(v) <= 4400:
                try:
                    return int(v)
                except ValueError:
                    raise WireError("malformed int") from None
            case "float" if isinstance(v, str):
                try:
                    return float(v)
                except ValueError:
                    raise WireError("malformed float") from None
            case "str" if isinstance(v, str):
                return v
            case "bytes" if isinstance(v, str):
                try:
                    return base64.b64decode(v, validate=True)
                except ValueError:
                    raise WireError("malformed bytes") from None
            case "list" if isinstance(v, list):
                return [self.value(x, depth + 1) for x in v]
            case "tuple" if isinstance(v, list):
                return tuple(self.value(x, depth + 1) for x in v)
            case "set" if isinstance(v, list):
                return {self._hashable(self.value(x, depth + 1)) for x in v}
            case "dict" if isinstance(v, list):
                out = {}
                for pair in v:
                    if not isinstance(pair, list) or len(pair) != 2:
                        raise WireError("malformed dict entry")
                    out[self._hashable(self.value(pair[0], depth + 1))] = self.value(pair[1], depth + 1)
                return out
            case "ndarray" | "npscalar":
                arr = self._blob(node)
                arr = arr if isinstance(arr, np.ndarray) else arr.numpy()
                return arr[()] if tag == "npscalar" else arr
            case "tensor":
                t = self._blob(node)
                return t.requires_grad_(True) if node.get("grad") is True and t.is_floating_point() else t
            case "torch_dtype" if isinstance(v, str):
                torch = _torch()
                dt = getattr(torch, v, None)
                if not isinstance(dt, torch.dtype):
                    raise WireError(f"unknown torch dtype {v!r}")
                return dt
            case "torch_device" if isinstance(v, str):
                torch = _torch()
                try:
                    return torch.device(v)
                except RuntimeError:
                    raise WireError(f"malformed device {v!r}") from None
            case "np_dtype" if isinstance(v, str):
                dt = np.dtype(v) if len(v) <= 8 and v[1:2] in _NUMPY_KINDS else None
                if dt is None:
                    raise WireError(f"refused numpy dtype {v!r}")
                return dt
            case "handle" if isinstance(node.get("id"), int):
                if self._make_proxy is None:
                    raise WireError("a handle arrived where only plain data may")
                return self._make_proxy(node)
        raise WireError(f"unknown or malformed value tag {tag!r}")

    def _blob(self, node: dict[str, Any]) -> Any:
        key, shape = node.get("k"), node.get("shape")
        if not isinstance(key, str) or key not in self._blobs:
            raise WireError("value refers to a missing array")
        blob = self._blobs[key]
        if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
            raise WireError("array without a valid shape")
        if math.prod(shape) != (blob.size if isinstance(blob, np.ndarray) else blob.numel()):
            raise WireError("array shape does not match its data")
        return blob.reshape(shape)

    @staticmethod
    def _hashable(x: Any) -> Any:
        try:
            hash(x)
        except TypeError:
            raise WireError("unhashable set element or dict key") from None
        return x
