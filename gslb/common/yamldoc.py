"""A YAML reader that remembers where every value came from.

Validation errors must name the file and line (`zones/x.yaml:42: field: message`), so the
document is composed into PyYAML nodes (which carry marks) and turned into plain dicts,
lists and scalars that also know their line. Implicit typing is deliberately narrow: only
decimal integers, decimal floats, `true`/`false` and `null` are converted. YAML 1.1's wider
rules would turn the country code `NO` into False, `1:20` into 80 and a date into a date
object; here those stay strings, which is what an operator means.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from gslb.common.problems import Problems, ProblemsError
from gslb.common.yamlerrors import plain_yaml_error

_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$|^[-+]?[0-9]+[eE][-+]?[0-9]+$")
_BOOL = {"true": True, "false": False}
_NULL = {"", "~", "null"}
# libyaml's parser when PyYAML was built with it (the wheels are): several times faster on big zones.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlError(ValueError):
    """The file is not YAML we accept; `line` is 1-based, 0 when unknown."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class YMap(dict):
    """A mapping whose keys are strings; knows its own line and each key's line."""

    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YList(list):
    """A sequence that knows its own line and each item's line."""

    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


def line_of(value: Any, default: int = 0) -> int:
    """The line of a YMap/YList value, else `default`."""
    return getattr(value, "line", default)


def _scalar(node: yaml.ScalarNode) -> Any:
    text = node.value
    if node.style and node.style in "'\"|>":  # libyaml says "" for plain, PyYAML None
        return text
    if text in _NULL:
        return None
    lowered = text.lower()
    if lowered in _BOOL:
        return _BOOL[lowered]
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text


def _child(node: yaml.Node, line: int, seen: set[int]) -> Any:
    """Convert a node found inside another; meeting the same node twice means an alias (*name)."""
    if id(node) in seen:
        raise YamlError(line, "aliases (*name) are not supported")
    seen.add(id(node))
    return _convert(node, seen)


def _convert(node: yaml.Node, seen: set[int]) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode):
        items = YList(_child(child, child.start_mark.line + 1, seen) for child in node.value)
        items.line = line
        items.item_lines = [child.start_mark.line + 1 for child in node.value]
        return items
    if isinstance(node, yaml.MappingNode):
        result = YMap()
        result.line = line
        result.key_lines = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError(key_line, "a mapping key must be a plain value")
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlError(key_line, "merge keys (<<) are not supported")
            key = key_node.value
            if key in result:
                raise YamlError(key_line, f"duplicate key '{key}' (first on line {result.key_lines[key]})")
            result[key] = _child(value_node, key_line, seen)
            result.key_lines[key] = key_line
        return result
    raise YamlError(line, f"unsupported YAML node {type(node).__name__}")


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError:
        if _LOADER is yaml.SafeLoader:
            raise
        # A broken file: parse it again with PyYAML, whose messages say what it found and where.
        return yaml.compose(text, Loader=yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """Parse one YAML document; aliases are refused (they hide where a value comes from)."""
    try:
        node = _compose(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        raise YamlError(line, f"YAML: unprintable character #x{code:04x} is not allowed") from None
    except yaml.MarkedYAMLError as exc:
        raise YamlError(*plain_yaml_error(exc, text)) from None
    except yaml.YAMLError as exc:
        raise YamlError(0, f"YAML: {exc}") from None
    if node is None:
        return None
    return _convert(node, {id(node)})


def read_file_bytes(path: Path, problems: Problems, kind: type[ProblemsError]) -> bytes:
    """The bytes of a settings or zone file; a file that cannot be read raises `kind` with
    `problems`, worded the same for every file."""
    try:
        return path.read_bytes()
    except OSError as exc:
        problems.add(0, "", f"cannot read: {exc.strerror or exc}")
        problems.raise_if_any(kind)
        raise  # raise_if_any always raises once a problem is added


def parse_yaml_bytes(data: bytes, problems: Problems, kind: type[ProblemsError]) -> Any:
    """A file's bytes as one YAML document; a file that is not UTF-8 or not YAML raises `kind`
    with `problems` (and the line of the fault), so every settings and zone file reports alike."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.add(line, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        problems.raise_if_any(kind)
    try:
        return load_yaml(text)
    except YamlError as exc:
        problems.add(exc.line, "", exc.message)
        problems.raise_if_any(kind)
