"""Validation problems, collected rather than raised one at a time.

An operator fixing a file wants every mistake in one pass, each pointing at a line, so readers
(zone files, `gslb.yaml`, `prober.yaml`) append to a `Problems` list and raise once at the end.
Every problem reads `file:line: field: message`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ProblemsError(Exception):
    """A file was rejected; `problems` lists every reason found, in line order."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.file = file
        self.problems = problems


class Problems:
    """Collects problems for one file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Problem] = []

    def add(self, line: int, field: str, message: str) -> None:
        self.items.append(Problem(self.file, line, field, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, kind: type[ProblemsError] = ProblemsError) -> None:
        """Raise `kind` with every problem, sorted by line, if there is any."""
        if self.items:
            raise kind(self.file, sorted(self.items, key=lambda p: p.line))
