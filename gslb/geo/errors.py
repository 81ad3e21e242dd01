"""Typed errors of the geo package, so callers can tell a bad file from a bug."""


class GeoError(Exception):
    """Base class of every error raised by gslb.geo."""


class GeoDatabaseError(GeoError):
    """A geo database cannot be opened, read or built (missing, corrupt, missing package)."""


class GeoWalkLimitError(GeoDatabaseError):
    """A walk of the search tree met more networks than the caller allowed."""


class GeoCsvError(GeoError):
    """A CSV source for `geodb build` is invalid; carries every problem found, one per line.

    Each problem reads `file:line: column: message`, like the zone validator's errors,
    so an operator fixes them all in one pass.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))
