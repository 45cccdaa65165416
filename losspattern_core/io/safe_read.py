"""Reading untrusted files: regular files only, sizes first, no pickle, one error type.

Every reader here takes the error class its caller raises (``BundleError``, ``DatasetError``,
``PatternError``) and turns whatever a malformed file provokes into that error with the file's
name: a FIFO or a device is refused before any read can block; a size is checked against the
limits before anything is read or allocated; ``.npy`` headers are parsed here (a literal dict,
numeric dtypes only) so that a corrupt header, an object array or a header claiming 10^10
values is refused with the figure instead of a traceback or a huge allocation.
"""

from __future__ import annotations

import ast
import io
import json
import math
import os
import stat
import zipfile
from pathlib import Path

import numpy as np

from losspattern_core.errors import LossPatternError
from losspattern_core.io.limits import (
    MAX_INT_DIGITS,
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    MAX_ZIP_MEMBERS,
    check_file_size,
    check_memory,
    human,
)

Err = type[LossPatternError]
NUMERIC = "biuf"            # bool, signed, unsigned, float: what array readers accept by default
MAX_NPY_HEADER = 65536
_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder"}


def read_bytes(path: str | os.PathLike, error: Err, limit: int, what: str = "") -> bytes:
    """The whole content of a regular file of at most ``limit`` bytes.

    The file is opened non-blocking (a FIFO cannot stall the open) and checked with fstat
    on the open descriptor (no race between the check and the read).
    """
    path = Path(path)
    label = what or str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError as exc:
        raise error(f"{label}: missing (no such file)") from exc
    except OSError as exc:
        raise error(f"{label}: cannot open ({exc.strerror or exc})") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
            raise error(f"{label} is {kind}, not a regular file: refused")
        check_file_size(st.st_size, limit, label, error)
        chunks, left = [], st.st_size
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 24))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"{label}: cannot read ({exc.strerror or exc})") from exc
    finally:
        os.close(fd)


# --- JSON --------------------------------------------------------------------------------------

def _parse_int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(digits)} digits (the limit is {MAX_INT_DIGITS})")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} overflows to {value}")
    return value


def _parse_constant(text: str):
    raise ValueError(f"non-finite number {text} (NaN and Infinity are not allowed)")


def json_depth_ok(obj, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays/objects nest at most ``limit`` deep (iterative: no recursion)."""
    stack = [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return False
            values = item.values() if isinstance(item, dict) else item
            stack.extend((v, depth + 1) for v in values)
    return True


def parse_json(raw: bytes, label: str, error: Err):
    """Strict JSON from bytes: UTF-8, finite numbers, short integers, bounded nesting."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{label}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                    f"{exc.start})") from exc
    try:
        doc = json.loads(text, parse_int=_parse_int, parse_float=_parse_float,
                         parse_constant=_parse_constant)
    except RecursionError as exc:
        raise error(f"{label}: JSON nested too deeply (the limit is {MAX_JSON_DEPTH})") from exc
    except json.JSONDecodeError as exc:
        raise error(f"{label}: not valid JSON ({exc})") from exc
    except ValueError as exc:  # from the hooks above (and int's own digit limit)
        raise error(f"{label}: not accepted JSON: {exc}") from exc
    if not json_depth_ok(doc):
        raise error(f"{label}: JSON nested more than {MAX_JSON_DEPTH} levels deep")
    return doc


def read_json(path: str | os.PathLike, error: Err, what: str = "",
              limit: int = MAX_JSON_BYTES):
    """A JSON document from a regular file of at most ``limit`` bytes."""
    return parse_json(read_bytes(path, error, limit, what), what or str(path), error)


# --- .npy / .npz -------------------------------------------------------------------------------

def _npy_header(head: bytes, label: str, error: Err) -> tuple[np.dtype, tuple, bool, int]:
    """Parse the magic and header dict of an .npy; returns (dtype, shape, fortran, offset)."""
    if len(head) < 10 or head[:6] != b"\x93NUMPY":
        raise error(f"{label}: not an .npy array (bad magic bytes)")
    major = head[6]
    if major == 1:
        hlen, start = int.from_bytes(head[8:10], "little"), 10
    elif major in (2, 3):
        if len(head) < 12:
            raise error(f"{label}: truncated .npy header")
        hlen, start = int.from_bytes(head[8:12], "little"), 12
    else:
        raise error(f"{label}: unknown .npy format version {major}")
    if hlen > MAX_NPY_HEADER or len(head) < start + hlen:
        raise error(f"{label}: .npy header of {hlen} bytes is truncated or too long")
    try:
        text = head[start:start + hlen].decode("utf-8" if major == 3 else "latin-1")
        header = ast.literal_eval(text.strip())
    except Exception as exc:  # literal_eval raises many kinds on malformed text
        raise error(f"{label}: corrupt .npy header ({type(exc).__name__})") from exc
    if not isinstance(header, dict) or set(header) != {"descr", "shape", "fortran_order"}:
        raise error(f"{label}: corrupt .npy header (expected descr, shape, fortran_order)")
    descr, shape, fortran = header["descr"], header["shape"], header["fortran_order"]
    if not isinstance(descr, str):
        raise error(f"{label}: structured arrays are not accepted (descr {str(descr)[:60]})")
    try:
        dtype = np.dtype(descr)
    except (TypeError, ValueError) as exc:
        raise error(f"{label}: unknown dtype {descr[:40]!r} in the .npy header") from exc
    if (not isinstance(shape, tuple) or not isinstance(fortran, bool)
            or not all(type(s) is int and 0 <= s < 2**48 for s in shape) or len(shape) > 32):
        raise error(f"{label}: corrupt .npy header (shape {str(shape)[:60]})")
    return dtype, shape, fortran, start + hlen


def _check_dtype(dtype: np.dtype, label: str, error: Err, kinds: str) -> None:
    if dtype.hasobject:
        raise error(f"{label}: holds Python objects (dtype object); only numeric arrays are "
                    "read (nothing is unpickled)")
    if dtype.kind not in kinds:
        names = {"b": "bool", "i": "integer", "u": "unsigned integer", "f": "float"}
        want = ", ".join(names.get(k, k) for k in kinds)
        raise error(f"{label}: dtype {dtype} is not accepted here (need {want})")


def npy_from_stream(fh, label: str, error: Err, kinds: str = NUMERIC,
                    max_bytes: int | None = None) -> np.ndarray:
    """Read one .npy from a binary stream, header checked before the data is read."""
    head = fh.read(10)
    if len(head) < 10:
        raise error(f"{label}: empty or truncated .npy file ({len(head)} bytes)")
    if head[6] != 1:
        head += fh.read(2)
    prefix = 10 if head[6] == 1 else 12
    hlen = int.from_bytes(head[8:prefix], "little")
    if hlen > MAX_NPY_HEADER:
        raise error(f"{label}: .npy header of {hlen} bytes is too long")
    head += fh.read(hlen)
    dtype, shape, fortran, offset = _npy_header(head, label, error)
    _check_dtype(dtype, label, error, kinds)
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    if max_bytes is not None and nbytes > max_bytes:
        raise error(f"{label}: the header claims {count} values ({human(nbytes)}), more than "
                    f"the file holds ({human(max_bytes)})")
    check_memory(nbytes, f"{label} (shape {shape}, {dtype})", error)
    data = fh.read(nbytes) if offset == len(head) else b""
    if len(data) != nbytes:
        raise error(f"{label}: truncated: the header needs {nbytes} data bytes, the file has "
                    f"{len(data)}")
    if fh.read(1):
        raise error(f"{label}: trailing bytes after the array data")
    arr = np.frombuffer(data, dtype=dtype, count=count).reshape(shape,
                                                                order="F" if fortran else "C")
    return np.ascontiguousarray(arr, dtype=dtype.newbyteorder("="))


def npy_from_bytes(raw: bytes, label: str, error: Err, kinds: str = NUMERIC) -> np.ndarray:
    """One .npy from bytes already read (size checked by the caller)."""
    return npy_from_stream(io.BytesIO(raw), label, error, kinds, max_bytes=len(raw))


def npz_from_bytes(raw: bytes, label: str, error: Err, names: tuple[str, ...] | None = None,
                   kinds: str = NUMERIC) -> dict[str, np.ndarray]:
    """The arrays of an .npz (all of them, or ``names``; a missing one is an error).

    Each member's declared size is checked before it is decompressed, reading stops at the
    size the member's header claims (a zip bomb inflates no further), and reading to the end
    makes zipfile check the CRC.
    """
    if raw[:4] == b"\x93NUM":
        raise error(f"{label}: is an .npy file, not an .npz archive")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise error(f"{label}: {len(infos)} members; at most {MAX_ZIP_MEMBERS} accepted")
            by_name = {i.filename.removesuffix(".npy"): i for i in infos}
            wanted = names if names is not None else tuple(by_name)
            missing = [n for n in wanted if n not in by_name]
            if missing:
                raise error(f"{label}: lacks array(s) {missing}")
            total = sum(by_name[n].file_size for n in wanted)
            check_memory(total, f"{label} (uncompressed {human(total)})", error)
            out = {}
            for n in wanted:
                with zf.open(by_name[n]) as fh:
                    out[n] = npy_from_stream(fh, f"{label}[{n}]", error, kinds,
                                             max_bytes=by_name[n].file_size)
            return out
    except LossPatternError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError, KeyError) as exc:
        # BadZipFile: not a zip, or a bad CRC; NotImplementedError: unknown compression;
        # RuntimeError: encrypted members; EOFError/zlib errors: truncated data.
        raise error(f"{label}: not a readable .npz archive ({type(exc).__name__}: "
                    f"{str(exc)[:120]})") from exc
    except Exception as exc:  # zlib.error and other codec errors of the stdlib decompressors
        raise error(f"{label}: corrupt compressed data ({type(exc).__name__})") from exc


def read_npy(path: str | os.PathLike, error: Err, limit: int, kinds: str = NUMERIC,
             what: str = "") -> np.ndarray:
    raw = read_bytes(path, error, limit, what)
    return npy_from_bytes(raw, what or str(path), error, kinds)


def read_npz(path: str | os.PathLike, error: Err, limit: int,
             names: tuple[str, ...] | None = None, kinds: str = NUMERIC,
             what: str = "") -> dict[str, np.ndarray]:
    raw = read_bytes(path, error, limit, what)
    return npz_from_bytes(raw, what or str(path), error, names, kinds)


def require_finite(arr: np.ndarray, label: str, error: Err) -> np.ndarray:
    """Refuse NaN or infinite values, naming the first one's position."""
    if arr.dtype.kind == "f" and arr.size and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        value = arr[tuple(bad)]
        where = tuple(int(i) for i in bad)
        raise error(f"{label}: holds NaN or infinite values (the first: {value} at index "
                    f"{where})")
    return arr
