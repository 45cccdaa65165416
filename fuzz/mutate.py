"""Byte mutators as Hypothesis strategies: flips, overwrites, truncations, insertions,
deletions and duplications at drawn positions of a valid file."""

from __future__ import annotations

from hypothesis import strategies as st

INTERESTING = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff",
               b"NaN", b"inf", b"-1", b"99999999999999999999", b"\n", b"{", b"[", b'"']


@st.composite
def mutated(draw, data: bytes, max_ops: int = 3) -> tuple[bytes, str]:
    """``data`` with 1..max_ops mutations; returns (bytes, a short description)."""
    buf = bytearray(data)
    done = []
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(("flip", "set", "truncate", "insert", "delete", "dup",
                                   "zero")))
        n = len(buf)
        pos = draw(st.integers(0, max(0, n - 1)))
        if op == "flip" and n:
            buf[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and n:
            buf[pos] = draw(st.integers(0, 255))
        elif op == "truncate":
            del buf[pos:]
        elif op == "insert":
            buf[pos:pos] = draw(st.sampled_from(INTERESTING) | st.binary(min_size=1,
                                                                          max_size=16))
        elif op == "delete":
            del buf[pos:pos + draw(st.integers(1, 64))]
        elif op == "dup":
            buf[pos:pos] = buf[pos:pos + draw(st.integers(1, 256))]
        elif op == "zero":
            end = pos + draw(st.integers(1, 256))
            buf[pos:end] = bytes(len(buf[pos:end]))
        done.append(f"{op}@{pos}")
    return bytes(buf), ",".join(done)
