"""Write the benchmark's query files: what dnsperf sends to the server in each mode.

usage: workloads.py OUT_DIR [--queries N] [--signed-only]

- static.txt, www.txt, near.txt: one question each (dnsperf -d), the same bytes every time;
- varied.blob: www A with ECS cycling over 1,536 client /24s (10.1-10.5.X.0 and 192.0.2.X..., the
  last unmapped), so the same query bytes come back every 1,536 queries;
- unique.blob: no two queries alike, as a crowd of real resolvers sends them: the name in random
  letter case (0x20), ECS over the 1,280 mapped /24s of 10.1-10.5, and a DNS COOKIE option with a
  client cookie of its own on one query in three;
- wide.blob: lower case, no cookie; half the client /24s mapped (10.1-10.5), half drawn at random
  from 11-200.x.x.0/24 (unmapped), so most client networks are seen once;
- unique-do.blob: unique.blob's queries with the DO bit set: the same crowd asking for signed answers.
Blobs are dnsperf -B files: each query prefixed by its length in two bytes. The ECS addresses are
only option data: nothing is ever sent to them. The same seed writes the same files.
"""

from __future__ import annotations

import argparse
import random
import struct
from pathlib import Path

SEED = 20261204
EDNS_SIZE = 1232
DO_BIT = 0x8000  # in the OPT record's TTL field: DNSSEC OK
NAME = "www.example.test"


def wire_name(name: str) -> bytes:
    return b"".join(bytes((len(label),)) + label.encode() for label in name.split(".")) + b"\x00"


def query(name: str, options: list[tuple[int, bytes]], do: bool = False) -> bytes:
    """A QUERY for NAME A, RD off, ID 0 (dnsperf sets its own), with an OPT holding `options` (and DO)."""
    header = struct.pack("!HHHHHH", 0, 0, 1, 0, 0, 1)
    question = wire_name(name) + struct.pack("!HH", 1, 1)
    data = b"".join(struct.pack("!HH", code, len(value)) + value for code, value in options)
    opt = b"\x00" + struct.pack("!HHIH", 41, EDNS_SIZE, DO_BIT if do else 0, len(data)) + data
    return header + question + opt


def ecs(a: int, b: int, c: int) -> tuple[int, bytes]:
    """An ECS option for a.b.c.0/24 (family 1, source 24, scope 0)."""
    return 8, struct.pack("!HBB", 1, 24, 0) + bytes((a, b, c))


def mixed_case(name: str, rng: random.Random) -> str:
    return "".join(ch.upper() if ch.isalpha() and rng.random() < 0.5 else ch for ch in name)


def varied(count: int) -> list[bytes]:
    firsts = [(10, 1), (10, 2), (10, 3), (10, 4), (10, 5), (192, 0)]
    return [query(NAME, [ecs(*firsts[i % 6], (i // 6) % 256)]) for i in range(count)]


def unique(count: int, rng: random.Random, do: bool = False) -> list[bytes]:
    queries = []
    for i in range(count):
        options = [ecs(10, 1 + i % 5, (i // 5) % 256)]
        if i % 3 == 0:
            options.append((10, rng.randbytes(8)))  # a client cookie, no server cookie yet
        queries.append(query(mixed_case(NAME, rng), options, do))
    return queries


def wide(count: int, rng: random.Random) -> list[bytes]:
    queries = []
    for i in range(count):
        if i % 2 == 0:
            subnet = (10, rng.randint(1, 5), rng.randint(0, 255))
        else:
            subnet = (rng.randint(11, 200), rng.randint(0, 255), rng.randint(0, 255))
        queries.append(query(NAME, [ecs(*subnet)]))
    return queries


def with_do(queries: list[bytes]) -> list[bytes]:
    """The same queries with the DO bit set in their OPT record (which follows the one question)."""
    signed = []
    for data in queries:
        pos = 12
        while data[pos]:
            pos += data[pos] + 1
        flags = pos + 1 + 4 + 7  # past the name's root byte and QTYPE/QCLASS: the OPT's flags byte
        signed.append(data[:flags] + bytes((data[flags] | 0x80,)) + data[flags + 1:])
    return signed


def write_blob(path: Path, queries: list[bytes]) -> None:
    path.write_bytes(b"".join(struct.pack("!H", len(q)) + q for q in queries))


def read_blob(path: Path) -> list[bytes]:
    """The queries of a -B file (for the in-process measurement)."""
    data, queries, pos = path.read_bytes(), [], 0
    while pos < len(data):
        length = struct.unpack_from("!H", data, pos)[0]
        queries.append(data[pos + 2 : pos + 2 + length])
        pos += 2 + length
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--queries", type=int, default=400_000, help="queries in unique.blob and wide.blob")
    parser.add_argument("--signed-only", action="store_true",
                        help="only write unique-do.blob, from the unique.blob already in OUT_DIR (the peers' files)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.signed_only:
        write_blob(args.out / "unique-do.blob", with_do(read_blob(args.out / "unique.blob")))
        return
    for name, text in (("static", "static.example.test A"), ("www", "www.example.test A"),
                       ("near", "near.example.test A")):
        (args.out / f"{name}.txt").write_text(text + "\n")
    write_blob(args.out / "varied.blob", varied(1536))
    write_blob(args.out / "unique.blob", unique(args.queries, random.Random(SEED)))
    write_blob(args.out / "unique-do.blob", unique(args.queries, random.Random(SEED), do=True))
    write_blob(args.out / "wide.blob", wide(args.queries, random.Random(SEED + 1)))


if __name__ == "__main__":
    main()
