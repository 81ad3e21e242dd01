"""Reading a settings file (`gslb.yaml`, `prober.yaml`) into frozen dataclasses, from a table.

Each file is described once, as nested `Section`s of `Setting`s: which keys exist, how each
value is checked and converted, and which dataclass a section becomes. Defaults are not in the
table: they are the dataclass fields' own defaults, written once, so a key left out of the file
simply keeps its field's default. Every problem (an unknown key, a value of the wrong kind) is
collected as `file:line: field: message` and the file is rejected whole.

Values come from `gslb.common.yamldoc`, whose typing is narrow: `NO` stays the text "NO" and
`1:20` stays a string, so converters see what the operator wrote.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gslb.common.durations import parse_duration
from gslb.common.problems import Problems, ProblemsError
from gslb.common.yamldoc import YMap, parse_yaml_bytes, read_file_bytes

Convert = Callable[[Any], Any]  # raises ValueError with a message for the operator


@dataclass(frozen=True)
class Setting:
    """One key: how its value is checked. `path`: a file path (or a list of them, each one),
    relative to the file's folder."""

    convert: Convert
    path: bool = False


@dataclass(frozen=True)
class Section:
    """A mapping of keys that becomes one dataclass (`model`).

    `optional`: the section is None unless the file has it (an empty mapping gives the
    defaults, as `rate_limit: {}` does).
    """

    model: type
    settings: Mapping[str, Setting | Section]
    optional: bool = False


class SettingsReader:
    """Reads one document against a `Section` table, collecting problems as it goes."""

    def __init__(self, path: Path, problems: Problems) -> None:
        self.base = path.parent
        self.problems = problems

    def read(self, node: YMap, section: Section, prefix: str = "") -> Any:
        expected = ", ".join(section.settings)
        for key in node:
            if key not in section.settings:
                self.problems.add(node.line_of(key), f"{prefix}{key}", f"unknown key (expected one of: {expected})")
        values: dict[str, Any] = {}
        for key, spec in section.settings.items():
            if key not in node or (node[key] is None and not isinstance(spec, Section)):
                continue
            value = node[key]
            if isinstance(spec, Section):
                if value is None and spec.optional:
                    continue
                if value is None:
                    value = empty_map(node.line_of(key))
                if not isinstance(value, YMap):
                    self.problems.add(node.line_of(key), f"{prefix}{key}", "must be a mapping")
                    continue
                values[key] = self.read(value, spec, f"{prefix}{key}.")
                continue
            try:
                converted = spec.convert(value)
            except (ValueError, TypeError) as exc:
                self.problems.add(node.line_of(key), f"{prefix}{key}", str(exc))
                continue
            values[key] = self.resolve_all(converted) if spec.path else converted
        return section.model(**values)

    def resolve_all(self, value: Any) -> Any:
        """A path setting's converted value: one text or each text of a tuple or list, resolved."""
        if isinstance(value, str):
            return self.resolve(value)
        if isinstance(value, tuple | list):
            return type(value)(self.resolve(item) if isinstance(item, str) else item for item in value)
        return value

    def resolve(self, text: str) -> Path:
        """A path from the file: relative ones are taken from the file's folder."""
        path = Path(text)
        return path if path.is_absolute() else self.base / path


def empty_map(line: int) -> YMap:
    """An empty mapping that knows its line (for a section the file leaves out or writes as null)."""
    node = YMap()
    node.line, node.key_lines = line, {}
    return node


def read_document(path: Path, kind: type[ProblemsError], what: str) -> tuple[YMap, Problems]:
    """The file's top-level mapping, and the problem list to add to; raises `kind` when unreadable.

    `what` names the file in messages ("the config", "the prober config").
    """
    problems = Problems(str(path))
    doc = parse_yaml_bytes(read_file_bytes(path, problems, kind), problems, kind)
    if doc is None:
        return empty_map(1), problems
    if not isinstance(doc, YMap):
        problems.add(1, "", f"{what} must be a mapping")
        problems.raise_if_any(kind)
    return doc, problems


# -- converters shared by every settings file -------------------------------------------------


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def whole(minimum: int, maximum: int | None = None, note: str = "", what: str = "a whole number") -> Convert:
    """A whole number in [minimum, maximum]; `what` and `note` shape the message."""

    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
                maximum is not None and value > maximum):
            span = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
            raise ValueError(f"'{value}' is not {what} {span}{note}")
        return value

    return convert


def above_zero(value: Any) -> float:
    if not _is_number(value) or value <= 0:
        raise ValueError(f"'{value}' is not a number above 0")
    return float(value)


def share(note: str = "") -> Convert:
    """A number from 0 to 1."""

    def convert(value: Any) -> float:
        if not _is_number(value) or not 0 <= value <= 1:
            raise ValueError(f"'{value}' is not a share from 0 to 1{note}")
        return float(value)

    return convert


def duration(value: Any) -> float:
    """A duration (30s, 500ms, 2m, or seconds) longer than 0."""
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError(f"'{value}' must be longer than 0")
    return seconds


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"'{value}' is not true or false")
    return value


def choice(*allowed: str, upper: bool = False) -> Convert:
    """One of a few words (compared upper-cased when `upper`)."""

    def convert(value: Any) -> str:
        text = value.upper() if upper and isinstance(value, str) else value
        if text not in allowed:
            raise ValueError(f"'{value}' is not {_either(allowed)}")
        return text

    return convert


def text(minimum: int = 1, maximum: int = 1000) -> Convert:
    """Text of `minimum` to `maximum` bytes (numbers written plainly become their text)."""

    def convert(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(f"'{value}' is not text")
        result = str(value)
        if not minimum <= len(result.encode()) <= maximum:
            raise ValueError(f"must be {minimum} to {maximum} bytes")
        return result

    return convert


def one_or_more(value: Any) -> list[Any]:
    """A value written alone or as a list, as a list: `key: a` reads as `key: [a]`."""
    return list(value) if isinstance(value, list) else [value]


def nonempty_texts(value: Any, message: str) -> list[str]:
    """One non-empty text or a list of them (not an empty one); ValueError(`message`) otherwise."""
    items = one_or_more(value)
    if not items or not all(isinstance(item, str) and item for item in items):
        raise ValueError(message)
    return items


def path_text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"'{value}' is not a path")
    return value


def coordinates(value: Any) -> tuple[float, float]:
    """[latitude, longitude] in range."""
    if not isinstance(value, list) or len(value) != 2 or not all(_is_number(v) for v in value):
        raise ValueError(f"'{value}' is not [latitude, longitude]")
    latitude, longitude = float(value[0]), float(value[1])
    if not -90 <= latitude <= 90:
        raise ValueError(f"latitude {value[0]} is out of range (-90 to 90)")
    if not -180 <= longitude <= 180:
        raise ValueError(f"longitude {value[1]} is out of range (-180 to 180)")
    return latitude, longitude


def _either(words: tuple[str, ...]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" or {words[-1]}"
