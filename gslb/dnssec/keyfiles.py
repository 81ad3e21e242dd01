"""Key files in BIND's format: `K<zone>+<alg>+<tag>.key` and `.private`.

The same files as `dnssec-keygen` writes and `dnssec-dsfromkey`, `dnssec-settime` and named read,
so keys move between gslb and BIND tools in both directions. The `.key` file holds the DNSKEY
record; the `.private` file the private key and the key's timing metadata (Publish, Activate,
Inactive, Delete, SyncPublish, SyncDelete), which say when the key is published and when it signs.
A file that does not make a whole, consistent key is refused with a message saying what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import dataclasses
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from gslb.common.statefile import write_atomically
from gslb.dnssec.algorithms import ALGORITHMS, KeyMaterialError, PrivateKey
from gslb.dnssec.records import PROTOCOL, SEP, TIME_FORMAT, ZONE_KEY, dnskey_rdata, format_time, key_tag
from gslb.wire.name import BadNameError, Name
from gslb.wire.records import Rdata

TIMES = ("Created", "Publish", "Activate", "Revoke", "Inactive", "Delete", "SyncPublish", "SyncDelete")
_STEM = re.compile(r"^K(?P<zone>.+)\+(?P<alg>\d{3})\+(?P<tag>\d{5})$")
_STAMP = re.compile(r"^\d{14}$")
PRIVATE_FORMAT = "v1.3"


class KeyFileError(ValueError):
    """A key file that cannot be used, with the file it is about."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class KeyFile:
    """One key as its two files describe it; its DNSKEY data and key tag are worked out once."""

    path: Path  # the .private file
    zone: Name
    flags: int
    key: PrivateKey = field(repr=False)
    times: dict[str, int]  # the timing metadata present, as UNIX times
    dnskey: Rdata = field(init=False, repr=False)
    tag: int = field(init=False)

    def __post_init__(self) -> None:
        dnskey, tag = _dnskey_and_tag(self.flags, self.key)
        object.__setattr__(self, "dnskey", dnskey)
        object.__setattr__(self, "tag", tag)

    @property
    def algorithm(self) -> int:
        return self.key.algorithm

    @property
    def sep(self) -> bool:
        """A key-signing key, or a combined signing key (flags 257)."""
        return bool(self.flags & SEP)

    @property
    def stem(self) -> str:
        return file_stem(self.zone, self.algorithm, self.tag)


def _dnskey_and_tag(flags: int, key: PrivateKey) -> tuple[Rdata, int]:
    """The key's DNSKEY data and its key tag, which names the key's files."""
    dnskey = dnskey_rdata(flags, key.algorithm, key.public)
    return dnskey, key_tag(dnskey.parts[0])  # type: ignore[arg-type]


def file_stem(zone: Name, algorithm: int, tag: int) -> str:
    return f"K{zone.text}+{algorithm:03d}+{tag:05d}"


def parse_time(text: str) -> int:
    """A YYYYMMDDHHMMSS timestamp (UTC), as BIND writes them."""
    if not _STAMP.match(text):
        raise ValueError(f"'{text}' is not a YYYYMMDDHHMMSS time")
    try:
        return calendar.timegm(time.strptime(text, TIME_FORMAT))
    except ValueError:
        raise ValueError(f"'{text}' is not a valid date and time") from None


def key_files(folder: Path, zone: Name) -> list[Path]:
    """The .private files of the zone's keys in the folder, in name order (letter case ignored)."""
    return key_files_by_zone(folder).get(zone.wire, [])


def key_files_by_zone(folder: Path) -> dict[bytes, list[Path]]:
    """Every key's .private file in the folder, by its zone's wire form: one listing for all zones."""
    if not folder.is_dir():
        return {}
    found: dict[bytes, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        match = _STEM.match(path.name.removesuffix(".private")) if path.name.endswith(".private") else None
        if match is None:
            continue
        try:
            owner = Name.from_text(match["zone"])
        except BadNameError:
            continue
        found.setdefault(owner.wire, []).append(path)
    return found


def file_version(private: Path) -> tuple[int, ...]:
    """What changes when either file of a key is written: their sizes and modification times."""
    try:
        first, second = private.stat(), private.with_name(private.name.removesuffix(".private") + ".key").stat()
    except OSError:
        return ()
    return first.st_mtime_ns, first.st_size, second.st_mtime_ns, second.st_size


def read_key(private: Path) -> KeyFile:
    """Read a key from its .private file and the .key file beside it; raises KeyFileError."""
    match = _STEM.match(private.name.removesuffix(".private"))
    if match is None or not private.name.endswith(".private"):
        raise KeyFileError(private, "not a key file name (K<zone>+<algorithm>+<tag>.private)")
    public_path = private.with_name(private.name.removesuffix(".private") + ".key")
    zone, flags, algorithm, public = _read_public(public_path)
    fields = _read_fields(private)
    if not fields.get("Private-key-format", "").startswith("v1."):
        raise KeyFileError(private, "no 'Private-key-format: v1.x' line: not a BIND private key file")
    stated = fields.get("Algorithm", "").split()
    if not stated or not stated[0].isdigit() or int(stated[0]) != algorithm:
        raise KeyFileError(private, f"algorithm {' '.join(stated) or 'missing'} does not match the .key file's "
                                    f"{algorithm}")
    try:
        key = PrivateKey.from_base64(algorithm, fields.get("PrivateKey", ""))
    except KeyMaterialError as exc:
        raise KeyFileError(private, str(exc)) from None
    if key.public != public:
        raise KeyFileError(private, f"the private key does not belong to the public key in {public_path.name}")
    times: dict[str, int] = {}
    for name in TIMES:
        if name in fields:
            try:
                times[name] = parse_time(fields[name])
            except ValueError as exc:
                raise KeyFileError(private, f"{name}: {exc}") from None
    keyfile = KeyFile(private, zone, flags, key, times)
    if Name.from_text(match["zone"]) != zone:
        raise KeyFileError(private, f"the file name is for {match['zone']} but the key is for {zone.text}")
    if int(match["alg"]) != algorithm or int(match["tag"]) != keyfile.tag:
        raise KeyFileError(private, f"the file name says algorithm {int(match['alg'])} tag {int(match['tag'])}, "
                                    f"the key is algorithm {algorithm} tag {keyfile.tag}")
    return keyfile


def _read_public(path: Path) -> tuple[Name, int, int, bytes]:
    """The DNSKEY record of a .key file: owner, flags, algorithm and public key."""
    text = _read_text(path)
    tokens: list[str] = []
    for line in text.splitlines():
        tokens += line.split(";", 1)[0].replace("(", " ").replace(")", " ").split()
    if "DNSKEY" not in (t.upper() for t in tokens):
        raise KeyFileError(path, "no DNSKEY record")
    at = [t.upper() for t in tokens].index("DNSKEY")
    head, body = tokens[:at], tokens[at + 1:]
    if not head or any(not (t.isdigit() or t.upper() == "IN") for t in head[1:]):
        raise KeyFileError(path, "expected '<zone> [TTL] [IN] DNSKEY <flags> 3 <algorithm> <key>'")
    try:
        zone = Name.from_text(head[0])
    except BadNameError as exc:
        raise KeyFileError(path, f"owner '{head[0]}': {exc}") from None
    if len(body) < 4 or not all(t.isdigit() for t in body[:3]):
        raise KeyFileError(path, "expected '<flags> 3 <algorithm> <key>' after DNSKEY")
    flags, protocol, algorithm = (int(t) for t in body[:3])
    if flags not in (ZONE_KEY, ZONE_KEY | SEP):
        raise KeyFileError(path, f"flags {flags}: 256 (a zone-signing key) or 257 (a key- or combined signing "
                                 "key) expected")
    if protocol != PROTOCOL:
        raise KeyFileError(path, f"protocol {protocol}: must be 3")
    if algorithm not in ALGORITHMS:
        raise KeyFileError(path, f"algorithm {algorithm} is not supported (13 ECDSAP256SHA256, 15 ED25519)")
    try:
        public = base64.b64decode("".join(body[3:]), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(path, "the public key is not base64") from None
    return zone, flags, algorithm, public


def _read_text(path: Path) -> str:
    """A key file's text; ASCII, as BIND writes them."""
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(path, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None


def _read_fields(path: Path) -> dict[str, str]:
    """The `Name: value` lines of a .private file."""
    text = _read_text(path)
    fields: dict[str, str] = {}
    for line in text.splitlines():
        name, colon, value = line.partition(":")
        if colon:
            fields[name.strip()] = value.strip()
    return fields


def write_key(folder: Path, zone: Name, key: PrivateKey, flags: int, times: dict[str, int]) -> KeyFile:
    """Write a new key's two files (the .private readable by its owner only) and return it."""
    _, tag = _dnskey_and_tag(flags, key)
    keyfile = KeyFile(folder / (file_stem(zone, key.algorithm, tag) + ".private"), zone, flags, key, dict(times))
    if keyfile.path.exists():
        raise KeyFileError(keyfile.path, "a key with this tag exists already")
    _write_files(keyfile)
    return keyfile


def update_times(keyfile: KeyFile, changes: dict[str, int | None]) -> KeyFile:
    """The key with timing metadata set (or removed, for None), written back to both files."""
    times = dict(keyfile.times)
    for name, value in changes.items():
        if value is None:
            times.pop(name, None)
        else:
            times[name] = value
    updated = dataclasses.replace(keyfile, times=times)
    _write_files(updated)
    return updated


def _write_files(keyfile: KeyFile) -> None:
    kind = "key-signing" if keyfile.sep else "zone-signing"
    lines = [f"; This is a {kind} key, keyid {keyfile.tag}, for {keyfile.zone.text}"]
    for name in TIMES:
        if name in keyfile.times:
            value = keyfile.times[name]
            lines.append(f"; {name}: {format_time(value)} ({time.asctime(time.gmtime(value))})")
    lines.append(f"{keyfile.zone.text} IN DNSKEY {keyfile.dnskey.text}")
    private = [f"Private-key-format: {PRIVATE_FORMAT}",
               f"Algorithm: {keyfile.algorithm} ({ALGORITHMS[keyfile.algorithm].mnemonic})",
               f"PrivateKey: {keyfile.key.to_base64()}"]
    private += [f"{name}: {format_time(keyfile.times[name])}" for name in TIMES if name in keyfile.times]
    write_atomically(keyfile.path, "\n".join(private) + "\n", 0o600)
    write_atomically(keyfile.path.with_name(keyfile.stem + ".key"), "\n".join(lines) + "\n", 0o644)
