"""Health churn during a benchmark run: flip a pool down and up, and check every answer meanwhile.

usage: churn.py --dns-port P --http-port H --token-file F --seconds S [--every 0.1]

Every `--every` seconds an operator override takes the `eu` pool of example.test down, or lifts
it (PUT and DELETE /v1/overrides/example.test/pools/eu). Meanwhile a client in Frankfurt (ECS
10.3.0.0/24, whose failover order is eu, us, asia) asks for www.example.test A about 200 times
a second and writes down what it got. Afterwards each answer is checked against the state of the
pool at its moment: the eu addresses while eu was up, the us addresses while it was down. A change
takes effect somewhere between the request that makes it and its response, so an answer whose
query overlapped that window may show either state. Prints one line of JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import struct
import time
import urllib.request
from pathlib import Path

EU = {"203.0.113.1", "203.0.113.2"}
US = {"198.51.100.1", "198.51.100.2"}
ZONE, POOL = "example.test", "eu"


def frankfurt_query(query_id: int) -> bytes:
    name = b"".join(bytes((len(p),)) + p for p in (b"www", b"example", b"test")) + b"\x00"
    ecs = struct.pack("!HHHBB", 8, 7, 1, 24, 0) + bytes((10, 3, 0))
    opt = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, len(ecs)) + ecs
    return struct.pack("!HHHHHH", query_id, 0, 1, 0, 0, 1) + name + b"\x00\x01\x00\x01" + opt


def answer_addresses(reply: bytes) -> set[str]:
    """The A records of a reply to `frankfurt_query` (uncompressed question, compressed owners)."""
    count = struct.unpack_from("!H", reply, 6)[0]
    pos = 12 + 18 + 4  # header, www.example.test, type and class
    found = set()
    for _ in range(count):
        while reply[pos] and reply[pos] & 0xC0 != 0xC0:  # labels, up to a pointer or the root
            pos += reply[pos] + 1
        pos += 2 if reply[pos] else 1
        rtype, _, _, length = struct.unpack_from("!HHIH", reply, pos)
        pos += 10
        if rtype == 1:
            found.add(socket.inet_ntoa(reply[pos : pos + 4]))
        pos += length
    return found


def set_override(http_port: int, token: str, down: bool) -> None:
    url = f"http://127.0.0.1:{http_port}/v1/overrides/{ZONE}/pools/{POOL}"
    body = json.dumps({"state": "down", "reason": "bench churn"}).encode() if down else None
    request = urllib.request.Request(url, data=body, method="PUT" if down else "DELETE",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()


async def flip(args: argparse.Namespace, token: str, changes: list[tuple[float, float, bool]], until: float) -> None:
    down = False
    while time.monotonic() < until:
        down = not down
        started = time.monotonic()
        await asyncio.to_thread(set_override, args.http_port, token, down)
        changes.append((started, time.monotonic(), down))
        await asyncio.sleep(max(0.0, started + args.every - time.monotonic()))
    if down:
        await asyncio.to_thread(set_override, args.http_port, token, False)


async def ask(args: argparse.Namespace, answers: list[tuple[float, float, set[str]]], until: float) -> None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.connect(("127.0.0.1", args.dns_port))
    rng = random.Random(7)
    while time.monotonic() < until:
        query_id = rng.randrange(65536)
        sent = time.monotonic()
        await loop.sock_sendall(sock, frankfurt_query(query_id))
        try:
            reply = await asyncio.wait_for(loop.sock_recv(sock, 4096), 1.0)
        except TimeoutError:
            continue  # lost under load: nothing to check
        if reply[:2] == struct.pack("!H", query_id):
            answers.append((sent, time.monotonic(), answer_addresses(reply)))
        await asyncio.sleep(0.005)
    sock.close()


def possible_states(changes: list[tuple[float, float, bool]], start: float, end: float) -> set[bool]:
    """Whether eu may have been down at some moment of [start, end] (True) or up (False)."""
    states, current = set(), False
    for began, ended, down in changes:
        if ended < start:
            current = down
        elif began <= end:
            states.add(down)  # this change may have taken effect during the query
    states.add(current)
    return states


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dns-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--token-file", type=Path, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--every", type=float, default=0.1)
    args = parser.parse_args()
    token = args.token_file.read_text().strip()
    changes: list[tuple[float, float, bool]] = []
    answers: list[tuple[float, float, set[str]]] = []

    async def both() -> None:
        until = time.monotonic() + args.seconds
        await asyncio.gather(flip(args, token, changes, until), ask(args, answers, until))

    asyncio.run(both())
    wrong = 0
    for sent, received, addresses in answers:
        allowed = [US if down else EU for down in possible_states(changes, sent, received)]
        wrong += addresses not in allowed
    print(json.dumps({"flips": len(changes), "answers": len(answers), "wrong": wrong,
                      "eu_answers": sum(a == EU for _, _, a in answers),
                      "us_answers": sum(a == US for _, _, a in answers)}))


if __name__ == "__main__":
    main()
