"""`gslb dnssec keygen|ds|status|activate|retire|remove`: the keys of signed zones (docs/dnssec.md).

Keys live in the folder `dnssec.keys` of the config names (or `--keys`), in BIND's file format, so
`dnssec-keygen`, `dnssec-dsfromkey` and `dnssec-settime` work on the same files. The rollover steps
(activate, retire, remove) only write timing metadata; the server acts on it at the time given
once it has read the files (a reload: SIGHUP or `POST /v1/reload`).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gslb.config.load import load_config
from gslb.dnssec.algorithms import ALGORITHMS, BY_OPTION, PrivateKey
from gslb.dnssec.keyfiles import (
    KeyFile,
    KeyFileError,
    key_files,
    parse_time,
    read_key,
    update_times,
    write_key,
)
from gslb.dnssec.keys import key_state, load_zone_keys, published, signing, state_name, syncing
from gslb.dnssec.records import SEP, ZONE_KEY, ds_rdata, format_time
from gslb.dnssec.signer import Signer
from gslb.wire.name import BadNameError, Name
from gslb.zones.directory import load_zone_paths, zone_files

_OFFSET = re.compile(r"^\+(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def register(subparsers: Any, add_config_arg: Callable[[argparse.ArgumentParser], Any]) -> None:
    """Add `dnssec` and its subcommands; each gets -c/--config and --keys."""
    parser = subparsers.add_parser("dnssec", help="keys of signed zones: make them, their DS, their state, rollovers",
                                   description=__doc__.split("\n\n", 1)[1] if __doc__ else None)
    commands = parser.add_subparsers(dest="dnssec_command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str, func: Callable[[argparse.Namespace], int], zone: bool = True
                ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".")
        add_config_arg(sub)
        sub.add_argument("--keys", metavar="DIR", help="the key folder (default: dnssec.keys of the config)")
        if zone:
            sub.add_argument("zone", metavar="ZONE", help="the zone, e.g. example.com")
        sub.set_defaults(func=func)
        return sub

    keygen = command("keygen", "make a key for a zone and write its two files in the key folder", _keygen)
    keygen.add_argument("--algorithm", choices=sorted(BY_OPTION), default="ecdsa256",
                        help="ecdsa256: ECDSA P-256 SHA-256, algorithm 13 (default); ed25519: algorithm 15")
    role = keygen.add_mutually_exclusive_group()
    role.add_argument("--ksk", action="store_true", help="a key-signing key (flags 257), for a KSK/ZSK split")
    role.add_argument("--zsk", action="store_true", help="a zone-signing key (flags 256), for a KSK/ZSK split")
    keygen.add_argument("--prepublish", action="store_true",
                        help="published now but not signing until `gslb dnssec activate` (a rollover's first step)")
    command("ds", "print the DS records to give the parent zone (the registrar)", _ds)
    status = command("status", "print each signed zone's keys: tags, what each signs, signature lifetimes",
                     _status, zone=False)
    status.add_argument("zones", nargs="*", metavar="ZONE", help="only these zones (default: every signed zone)")
    for name, field, what in (("activate", "Activate", "let a key sign (and publish it, if it is not yet)"),
                              ("retire", "Inactive", "stop a key signing; it stays published"),
                              ("remove", "Delete", "take a key out of the DNSKEY set")):
        sub = command(name, what, _timing)
        sub.add_argument("tag", type=int, metavar="TAG", help="the key's tag (see gslb dnssec status)")
        sub.add_argument("--at", default="now", metavar="WHEN",
                         help="now (default), +30m, +2h, +3d, or YYYYMMDDHHMMSS in UTC")
        sub.set_defaults(field=field)


def _folder(args: argparse.Namespace) -> Path:
    return Path(args.keys) if args.keys else load_config(args.config).dnssec.keys


def _zone(text: str) -> Name:
    try:
        return Name.from_text(text)
    except BadNameError as exc:
        raise SystemExit(f"gslb dnssec: '{text}' is not a zone name: {exc}") from None


def when(text: str, now: float) -> int:
    """A moment as the rollover commands take it: now, +N[smhd], or YYYYMMDDHHMMSS (UTC)."""
    if text == "now":
        return int(now)
    match = _OFFSET.match(text)
    if match is not None:
        return int(now) + int(match[1]) * _UNITS[match[2]]
    return parse_time(text)


def _keygen(args: argparse.Namespace) -> int:
    folder = _folder(args)
    zone = _zone(args.zone)
    folder.mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    times = {"Created": now, "Publish": now}
    if not args.prepublish:
        times["Activate"] = now
    flags = ZONE_KEY if args.zsk else ZONE_KEY | SEP
    key = write_key(folder, zone, PrivateKey.generate(BY_OPTION[args.algorithm].number), flags, times)
    print(key.stem)
    print(f"{key.path.with_suffix('.key')}: {'KSK/CSK' if key.sep else 'ZSK'} {key.tag}, "
          f"{'published, not signing yet' if args.prepublish else 'published and signing'}; reload the server "
          "to use it", file=sys.stderr)
    return 0


def _ds(args: argparse.Namespace) -> int:
    """The DS of every key-signing key the parent should hold now (the CDS set)."""
    zone = _zone(args.zone)
    try:
        keys = load_zone_keys(_folder(args), zone)
    except KeyFileError as exc:
        print(f"gslb dnssec ds: {exc}", file=sys.stderr)
        return 1
    now = time.time()
    wanted = [key for key in keys if syncing(key, now)] or [key for key in keys if key.sep and signing(key, now)]
    if not wanted:
        print(f"gslb dnssec ds: no key-signing key of {zone.text} is published now", file=sys.stderr)
        return 1
    for key in wanted:
        print(f"{zone.text} IN DS {ds_rdata(zone, key.dnskey).text}")
    return 0


def _timing(args: argparse.Namespace) -> int:
    zone = _zone(args.zone)
    folder = _folder(args)
    try:
        moment = when(args.at, time.time())
    except ValueError as exc:
        print(f"gslb dnssec {args.dnssec_command}: --at: {exc}", file=sys.stderr)
        return 2
    matches: list[KeyFile] = []
    for path in key_files(folder, zone):
        try:
            key = read_key(path)
        except KeyFileError as exc:
            print(f"gslb dnssec {args.dnssec_command}: {exc}", file=sys.stderr)
            return 1
        if key.tag == args.tag:
            matches.append(key)
    if len(matches) != 1:
        found = "no key" if not matches else f"{len(matches)} keys"
        print(f"gslb dnssec {args.dnssec_command}: {found} of {zone.text} with tag {args.tag} in {folder}",
              file=sys.stderr)
        return 1
    key = matches[0]
    changes: dict[str, int | None] = {args.field: moment}
    if args.field == "Activate" and "Publish" not in key.times:
        changes["Publish"] = moment
    if args.field == "Delete":
        changes["SyncDelete"] = min(moment, key.times.get("SyncDelete", moment))
    key = update_times(key, changes)
    print(f"{key.stem}: {args.field} {format_time(moment)}; it is {state_name(key, moment)} from then "
          "(reload the server to use it)")
    return 0


def _status(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    folder = Path(args.keys) if args.keys else config.dnssec.keys
    report = load_zone_paths(zone_files(config.zones))
    wanted = {_zone(text) for text in args.zones}
    zones = [z for z in report.loaded if (z.origin in wanted if wanted else z.dnssec)]
    if not zones:
        print(f"no signed zone in {config.zones} (a zone is signed with 'dnssec: true' in its file)")
        return 0 if not wanted else 1
    signer = Signer(config.dnssec)
    now = time.time()
    inception, expiration, renew = signer.period(now)
    print(f"key folder: {folder}")
    print(f"signatures made now: valid {format_time(inception)} to {format_time(expiration)} UTC, "
          f"made again from {format_time(int(renew))} UTC")
    failed = False
    for zone in zones:
        print(f"\n{zone.origin.text}{'' if zone.dnssec else ' (not signed: dnssec is not true in its file)'}")
        try:
            keys = load_zone_keys(folder, zone.origin)
        except KeyFileError as exc:
            print(f"  problem: {exc}")
            failed = True
            continue
        state = key_state(zone.origin, keys, now, zone.default_ttl)
        for key in keys:
            print("  " + _describe(key, now, state.split))
        if not state.usable:
            print("  problem: no key signs now: answers would go out unsigned")
            failed = True
        if state.until != float("inf"):
            print(f"  next change: {format_time(int(state.until))} UTC")
    return 1 if failed else 0


def _describe(key: KeyFile, now: float, split: bool) -> str:
    role = ("KSK" if split else "CSK") if key.sep else "ZSK"
    signs = []
    if signing(key, now) and not (key.sep and split):
        signs.append("zone data")
    if key.sep and published(key, now):
        signs.append("DNSKEY, CDS, CDNSKEY")
    text = f"{role} tag {key.tag} {ALGORITHMS[key.algorithm].mnemonic}: {state_name(key, now)}"
    text += f"; signs: {', '.join(signs) or 'nothing'}" + ("; in CDS/CDNSKEY" if syncing(key, now) else "")
    dates = [f"{name} {format_time(value)}" for name, value in sorted(key.times.items(), key=lambda item: item[1])
             if name != "Created"]
    return text + (f" ({', '.join(dates)})" if dates else "") + f"\n    {key.path}"
