"""TSIG keys from files in BIND's format, which nsupdate, certbot and tsig-keygen users already have.

    key "acme" {
        algorithm hmac-sha256;
        secret "base64...";
    };

A file may hold several keys; comments (`#`, `//`, `/* */`) are skipped. Anything else is an
error naming the file and line, and the server refuses to start with it (or keeps its keys on
a reload), so a broken key file is never half read. Secrets never appear in messages or logs.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from gslb.wire.name import BadNameError, Name
from gslb.wire.tsig import ALGORITHMS, TsigKey

_TOKEN = re.compile(r'\s+|#[^\n]*|//[^\n]*|/\*.*?\*/|"(?:[^"\\\n]|\\.)*"|[{};]|[^\s{};"#]+', re.S)


class KeyFileError(ValueError):
    """A key file that cannot be read or is not in the expected format."""


def _tokens(text: str, file: str) -> Iterator[tuple[str, int]]:
    """Words, quoted strings (without quotes) and punctuation, with their line."""
    pos, line = 0, 1
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise KeyFileError(f"{file}:{line}: unexpected {text[pos]!r}")
        token = match.group()
        if not token.isspace() and not token.startswith(("#", "//", "/*")):
            yield (token[1:-1] if token.startswith('"') else token), line
        line += token.count("\n")
        pos = match.end()


class _Parser:
    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.tokens = _tokens(text, file)
        self.line = 1

    def next(self, what: str) -> str:
        try:
            token, self.line = next(self.tokens)
        except StopIteration:
            raise KeyFileError(f"{self.file}:{self.line}: the file ends where {what} was expected") from None
        return token

    def expect(self, wanted: str) -> None:
        token = self.next(f"'{wanted}'")
        if token != wanted:
            raise KeyFileError(f"{self.file}:{self.line}: expected '{wanted}', found '{token}'")

    def keys(self) -> Iterator[TsigKey]:
        for token, line in self.tokens:
            self.line = line
            if token != "key":
                raise KeyFileError(f"{self.file}:{self.line}: expected 'key', found '{token}'")
            yield self.key()

    def key(self) -> TsigKey:
        line = self.line
        name_text = self.next("a key name")
        self.expect("{")
        values: dict[str, str] = {}
        while (word := self.next("'algorithm', 'secret' or '}'")) != "}":
            if word not in ("algorithm", "secret"):
                raise KeyFileError(f"{self.file}:{self.line}: unknown statement '{word}' (algorithm, secret)")
            values[word] = self.next(f"the {word}")
            self.expect(";")
        self.expect(";")
        return self.build(name_text, values, line)

    def build(self, name_text: str, values: dict[str, str], line: int) -> TsigKey:
        where = f"{self.file}:{line}: key '{name_text}'"
        try:
            name = Name.from_text(name_text)
        except BadNameError as exc:
            raise KeyFileError(f"{where}: not a domain name ({exc})") from None
        if "algorithm" not in values or "secret" not in values:
            raise KeyFileError(f"{where}: needs both 'algorithm' and 'secret'")
        algorithm = values["algorithm"].lower().rstrip(".") + "."
        if algorithm not in ALGORITHMS:
            known = ", ".join(a.rstrip(".") for a in ALGORITHMS)
            raise KeyFileError(f"{where}: algorithm {values['algorithm']} is not one of {known}")
        try:
            secret = base64.b64decode(values["secret"], validate=True)
        except (binascii.Error, ValueError):
            raise KeyFileError(f"{where}: the secret is not base64") from None
        if not secret:
            raise KeyFileError(f"{where}: the secret is empty")
        return TsigKey(name, Name.from_text(algorithm), secret)


def parse_keys(text: str, file: str = "<keys>") -> list[TsigKey]:
    return list(_Parser(text, file).keys())


def load_keys(paths: Iterable[Path]) -> dict[bytes, TsigKey]:
    """Every key of every file, by the wire form of its name; raises KeyFileError."""
    keys: dict[bytes, TsigKey] = {}
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyFileError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
        for key in parse_keys(text, str(path)):
            if key.name.wire in keys:
                raise KeyFileError(f"{path}: key '{key.name.text}' is defined twice")
            keys[key.name.wire] = key
    return keys
