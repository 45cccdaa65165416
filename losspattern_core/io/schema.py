"""A small declarative JSON schema: types, ranges, sizes; errors name the exact location.

    LAYER = Obj({"type": Str(choices=...), "in": Int(1, 2**20)})
    check(LAYER, value, "network.layers[0]")   # raises SchemaError("network.layers[0].in: ...")

Numbers are checked as JSON gives them: ``Int`` refuses booleans and floats, ``Float``
accepts integers and refuses anything non-finite. Documents are parsed by
``safe_read.parse_json`` first, which already bounds nesting depth and integer length.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class SchemaError(ValueError):
    """A document does not match its schema; ``str()`` starts with the location."""


def _at(where: str) -> str:
    """The location prefix of a message ('' at the top of a document)."""
    return f"{where}: " if where else ""


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number", type(None): "null"}.get(type(value),
                                                                           type(value).__name__)


class Spec:
    """Base class: ``check(value, where)`` returns the value or raises SchemaError."""

    def check(self, value: Any, where: str) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Int(Spec):
    lo: int = -(2**63)
    hi: int = 2**63 - 1

    def check(self, value, where):
        if type(value) is not int:
            raise SchemaError(f"{_at(where)}expected an integer, got {_kind(value)} {_show(value)}")
        if not self.lo <= value <= self.hi:
            raise SchemaError(f"{_at(where)}{value} is outside {self.lo}..{self.hi}")
        return value


@dataclass(frozen=True)
class Float(Spec):
    lo: float = -math.inf
    hi: float = math.inf
    positive: bool = False

    def check(self, value, where):
        if type(value) not in (int, float):
            raise SchemaError(f"{_at(where)}expected a number, got {_kind(value)} {_show(value)}")
        value = float(value)
        if not math.isfinite(value):
            raise SchemaError(f"{_at(where)}non-finite number {value}")
        if not self.lo <= value <= self.hi or (self.positive and value <= 0):
            bound = "> 0 and " if self.positive else ""
            raise SchemaError(f"{_at(where)}{value:g} is outside {bound}[{self.lo:g}, {self.hi:g}]")
        return value


@dataclass(frozen=True)
class Str(Spec):
    max_len: int = 4096
    choices: tuple[str, ...] | None = None

    def check(self, value, where):
        if type(value) is not str:
            raise SchemaError(f"{_at(where)}expected a string, got {_kind(value)} {_show(value)}")
        if len(value) > self.max_len:
            raise SchemaError(f"{_at(where)}a string of {len(value)} characters (limit "
                              f"{self.max_len})")
        if self.choices is not None and value not in self.choices:
            raise SchemaError(f"{_at(where)}{_show(value)} is not one of {', '.join(self.choices)}")
        return value


@dataclass(frozen=True)
class Bool(Spec):
    def check(self, value, where):
        if type(value) is not bool:
            raise SchemaError(f"{_at(where)}expected true or false, got {_show(value)}")
        return value


@dataclass(frozen=True)
class Const(Spec):
    value: Any

    def check(self, value, where):
        if value != self.value or type(value) is not type(self.value):
            raise SchemaError(f"{_at(where)}must be {_show(self.value)}, got {_show(value)}")
        return value


@dataclass(frozen=True)
class List(Spec):
    item: Spec
    min_len: int = 0
    max_len: int = 1_000_000

    def check(self, value, where):
        if type(value) is not list:
            raise SchemaError(f"{_at(where)}expected an array, got {_kind(value)} {_show(value)}")
        if not self.min_len <= len(value) <= self.max_len:
            raise SchemaError(f"{_at(where)}an array of {len(value)} items (need "
                              f"{self.min_len}..{self.max_len})")
        for i, v in enumerate(value):
            self.item.check(v, f"{where}[{i}]")
        return value


@dataclass(frozen=True)
class AnyJSON(Spec):
    """Any JSON value (already bounded by the parser); ``kind`` restricts the top level."""

    kind: type | None = None

    def check(self, value, where):
        if self.kind is not None and type(value) is not self.kind:
            raise SchemaError(f"{_at(where)}expected {_kind(self.kind())}, got {_kind(value)}")
        return value


@dataclass(frozen=True)
class Obj(Spec):
    """An object with ``required`` and ``optional`` keys; ``extra`` allows other keys."""

    required: dict[str, Spec] = field(default_factory=dict)
    optional: dict[str, Spec] = field(default_factory=dict)
    extra: bool = False
    rule: Callable[[dict, str], None] | None = None  # cross-key checks after the keys

    def check(self, value, where):
        if type(value) is not dict:
            raise SchemaError(f"{_at(where)}expected an object, got {_kind(value)} {_show(value)}")
        for key, spec in self.required.items():
            if key not in value:
                raise SchemaError(f"{_at(where)}the key {key!r} is missing")
            spec.check(value[key], f"{where}.{key}" if where else key)
        for key, spec in self.optional.items():
            if key in value:
                spec.check(value[key], f"{where}.{key}" if where else key)
        if not self.extra:
            unknown = sorted(set(value) - set(self.required) - set(self.optional))
            if unknown:
                raise SchemaError(f"{_at(where)}unknown key(s) "
                                  f"{', '.join(map(repr, unknown[:5]))}")
        if self.rule is not None:
            self.rule(value, where)
        return value


@dataclass(frozen=True)
class Tagged(Spec):
    """An object whose ``tag`` key picks its schema; an unknown tag is named."""

    tag: str
    cases: dict[str, Spec]
    what: str = "item"

    def check(self, value, where):
        if type(value) is not dict:
            raise SchemaError(f"{_at(where)}expected an object ({self.what}), got {_kind(value)} "
                              f"{_show(value)}")
        kind = value.get(self.tag)
        hashable = isinstance(kind, (str, int, float, bool, type(None)))
        if not hashable or kind not in self.cases or type(kind) not in {type(k) for k in
                                                                      self.cases}:
            known = ", ".join(str(k) for k in self.cases)
            raise SchemaError(f"{_at(where)}unknown {self.what} {self.tag} {_show(kind)} (known: "
                              f"{known})")
        return self.cases[kind].check(value, where)


@dataclass(frozen=True)
class Lazy(Spec):
    """A spec defined later (recursive structures such as residual layers)."""

    get: Callable[[], Spec]

    def check(self, value, where):
        return self.get().check(value, where)


def check(spec: Spec, value: Any, where: str = "") -> Any:
    """Validate ``value`` against ``spec``; raises SchemaError naming the location."""
    return spec.check(value, where)
