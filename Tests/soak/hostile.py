#!/usr/bin/env python3
"""Hostile clients for the soak: bounded, self-stopping abuse of a running `circle serve`.

    python3 Tests/soak/hostile.py --port PORT --secret-file FILE --duration SECONDS [--json OUT]

Every worker runs episodes until the deadline and stops by itself; each kind has a byte or message rate cap.
Kinds (each in its own rooms, `soak-h-*`, so the good load's rooms are never touched):
  pinger     joins, reads nothing after the 101, sends 125-byte pings (RFC 6455 5.5.2) at a capped rate
  binary     floods one-byte binary frames in bursts, reading what comes back
  slowloris  opens connections and sends a request head one byte a second
  oversized  announces frames over the 128 KiB limit (and one of 2^62 bytes), expects close 1009
  badtoken   upgrades with bad tokens (garbage, wrong signature, alg none, expired, other room), expects 401
  slow       a member that joins with a tiny receive buffer and never reads, while a peer signals it 48 KiB payloads
  fragments  text messages of 48 KiB sent in 16-byte fragments
It prints (and writes with --json) one JSON object: per kind, what it sent and what the server answered.
Nothing here is pass/fail: the soak judges the server by its memory, descriptors and the good clients' errors.
"""
import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import random
import socket
import struct
import sys
import time
from collections import Counter

HOST = "127.0.0.1"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(secret, room, sub, role="member", exp_in=7200, alg="HS256", sign_with=None):
    """An HS256 JWT as `circle token` mints it (claims: sub, name, room, role, exp)."""
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"sub": sub, "name": "Soak " + sub, "room": room, "role": role, "exp": int(time.time()) + exp_in}
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing = f"{header}.{payload}".encode()
    if alg == "none":
        return f"{header}.{payload}."
    mac = hmac.new(sign_with if sign_with is not None else secret, signing, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(mac)}"


def frame(opcode, payload, fin=True):
    """A masked client frame."""
    head = bytearray([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head.append(0x80 | n)
    elif n < 1 << 16:
        head.append(0x80 | 126)
        head += struct.pack("!H", n)
    else:
        head.append(0x80 | 127)
        head += struct.pack("!Q", n)
    mask = os.urandom(4)
    body = bytes(b ^ mask[i & 3] for i, b in enumerate(payload)) if n <= 256 else _mask_long(payload, mask)
    return bytes(head) + mask + body


def _mask_long(payload, mask):
    m = int.from_bytes(mask * (len(payload) // 4 + 1), "little")
    return (int.from_bytes(payload, "little") ^ (m & ((1 << (8 * len(payload))) - 1))).to_bytes(len(payload), "little")


class Stats:
    def __init__(self):
        self.kinds = {}

    def of(self, kind):
        return self.kinds.setdefault(kind, Counter())


async def open_ws(port, path, rcvbuf=None, timeout=5.0):
    """TCP connect, send the upgrade, read the response head. Returns (reader, writer, status)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.sock_connect(sock, (HOST, port)), timeout)
    except BaseException:
        sock.close()
        raise
    reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 20)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except BaseException:
        writer.close()
        raise
    status = int(head.split(b" ", 2)[1])
    return reader, writer, status


async def read_frame(reader):
    """One server frame: (opcode, payload). Raises on EOF."""
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    return b0 & 0x0F, await reader.readexactly(n)


async def drain_replies(reader, st, until):
    """Reads frames until EOF or `until`; counts error codes and the close code."""
    while time.monotonic() < until:
        try:
            op, payload = await asyncio.wait_for(read_frame(reader), max(0.05, until - time.monotonic()))
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, OSError):
            return
        if op == 8:
            st[f"close_{struct.unpack('!H', payload[:2])[0] if len(payload) >= 2 else 'none'}"] += 1
            return
        if op == 1:
            try:
                msg = json.loads(payload)
            except ValueError:
                st["reply_unparsed"] += 1
                continue
            t = msg.get("type")
            st[f"reply_{t}_{msg['code']}" if t == "error" else f"reply_{t}"] += 1


def close_quietly(writer):
    try:
        writer.close()
    except Exception:
        pass


class Hostile:
    def __init__(self, args, secret):
        self.port = args.port
        self.secret = secret
        self.deadline = time.monotonic() + args.duration
        self.scale = args.scale
        self.stats = Stats()
        self.run_id = "%06x" % random.getrandbits(24)

    def left(self):
        return self.deadline - time.monotonic()

    def room_path(self, room, sub, role="member"):
        return f"/rooms/{room}?access_token={mint(self.secret, room, sub, role)}"

    def room(self, kind, n):
        return f"soak-h-{kind}-{self.run_id}-{n}"

    async def sleep(self, seconds):
        await asyncio.sleep(max(0.0, min(seconds, self.left())))

    async def pinger(self, n, bytes_per_second):
        """Pings without ever reading: each ping wants a pong the server cannot deliver."""
        st = self.stats.of("pinger")
        ping = frame(0x9, b"p" * 125)
        per_tick = max(1, int(bytes_per_second * 0.05 / len(ping)))
        while self.left() > 1:
            try:
                _, writer, status = await open_ws(self.port, self.room_path(self.room("ping", n), "m1"), rcvbuf=4096)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
                st["connect_failed"] += 1
                await self.sleep(1)
                continue
            st[f"status_{status}"] += 1
            started = time.monotonic()
            try:
                while self.left() > 0:
                    writer.write(ping * per_tick)
                    st["pings"] += per_tick
                    await asyncio.wait_for(writer.drain(), 5)
                    await asyncio.sleep(0.05)
                st["alive_at_end"] += 1
            except (OSError, asyncio.TimeoutError) as e:
                st["closed_by_server" if not isinstance(e, asyncio.TimeoutError) else "write_stalled"] += 1
                st["seconds_until_closed"] = max(st["seconds_until_closed"], round(time.monotonic() - started))
            close_quietly(writer)
            await self.sleep(1)

    async def binary(self, n, frames_per_second, burst_seconds=5.0, pause=5.0):
        """Bursts of one-byte binary frames; reads the replies (and the close, if one comes)."""
        st = self.stats.of("binary")
        one = frame(0x2, b"\x00")
        per_tick = max(1, int(frames_per_second * 0.05))
        while self.left() > 1:
            try:
                reader, writer, status = await open_ws(self.port, self.room_path(self.room("bin", n), "m1"))
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
                st["connect_failed"] += 1
                await self.sleep(1)
                continue
            st[f"status_{status}"] += 1
            replies = asyncio.ensure_future(drain_replies(reader, st, time.monotonic() + burst_seconds + 3))
            end = time.monotonic() + min(burst_seconds, self.left())
            try:
                while time.monotonic() < end and not replies.done():
                    writer.write(one * per_tick)
                    st["frames"] += per_tick
                    await asyncio.wait_for(writer.drain(), 5)
                    await asyncio.sleep(0.05)
            except (OSError, asyncio.TimeoutError):
                st["send_failed"] += 1
            await replies
            close_quietly(writer)
            await self.sleep(pause)

    async def slowloris(self, n, connections=10):
        """Request heads sent a byte a second; the server should drop each one at its head timeout."""
        st = self.stats.of("slowloris")

        async def one():
            head = (f"GET {self.room_path(self.room('loris', n), 'm1')} HTTP/1.1\r\nHost: x\r\n"
                    "Upgrade: websocket\r\nConnection: Upgrade\r\n").encode()
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, self.port), 5)
            except (OSError, asyncio.TimeoutError):
                st["connect_failed"] += 1
                return
            started = time.monotonic()
            st["opened"] += 1
            try:
                for i in range(len(head)):
                    if self.left() <= 0:
                        st["still_open_at_end"] += 1
                        return
                    writer.write(head[i:i + 1])
                    await writer.drain()
                    try:
                        data = await asyncio.wait_for(reader.read(1024), 1.0)
                    except asyncio.TimeoutError:
                        continue
                    st["closed_by_server"] += 1
                    st["answered_" + (data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "eof")] += 1
                    st["max_seconds_open"] = max(st["max_seconds_open"], round(time.monotonic() - started))
                    return
                st["head_finished_unclosed"] += 1
            except (OSError, ConnectionError):
                st["closed_by_server"] += 1
                st["max_seconds_open"] = max(st["max_seconds_open"], round(time.monotonic() - started))
            finally:
                close_quietly(writer)

        while self.left() > 2:
            await asyncio.gather(*(one() for _ in range(connections)))
            await self.sleep(1)

    async def oversized(self, n, pause=2.0):
        """Frames announcing more than the 128 KiB limit: the server must close 1009 before buffering them."""
        st = self.stats.of("oversized")
        k = 0
        while self.left() > 1:
            k += 1
            try:
                reader, writer, status = await open_ws(self.port, self.room_path(self.room("big", n), f"m{k % 4}"))
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
                st["connect_failed"] += 1
                await self.sleep(1)
                continue
            st[f"status_{status}"] += 1
            length = (1 << 62) if k % 2 else 200 * 1024
            writer.write(bytes([0x81, 0x80 | 127]) + struct.pack("!Q", length) + os.urandom(4) + b"x" * 4096)
            st["frames"] += 1
            try:
                await writer.drain()
            except OSError:
                pass
            await drain_replies(reader, st, time.monotonic() + 5)
            close_quietly(writer)
            await self.sleep(pause)

    async def badtoken(self, n, per_second=5.0):
        """Upgrades with tokens that must be refused with 401 before any WebSocket opens."""
        st = self.stats.of("badtoken")
        room = self.room("tok", n)
        good = mint(self.secret, room, "m1")
        bad = [
            "garbage",
            "a.b.c",
            mint(self.secret, room, "m1", sign_with=b"not the secret at all!!"),
            mint(self.secret, room, "m1", alg="none"),
            mint(self.secret, room, "m1", exp_in=-600),
            mint(self.secret, "another-room", "m1"),
            good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
            "x" * 5000,
        ]
        k = 0
        while self.left() > 1:
            token = bad[k % len(bad)]
            k += 1
            try:
                _, writer, status = await open_ws(self.port, f"/rooms/{room}?access_token={token}")
                st[f"status_{status}"] += 1
                close_quietly(writer)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
                st["failed"] += 1
            await self.sleep(1 / per_second)

    async def slow(self, n, payload_bytes=48 * 1024, per_second=15.0, episode=25.0):
        """A member that never reads (tiny receive buffer) while a peer signals it: a slow consumer."""
        st = self.stats.of("slow")
        room = self.room("slow", n)
        payload = json.dumps("s" * payload_bytes)
        while self.left() > 2:
            try:
                t_reader, t_writer, t_status = await open_ws(self.port, self.room_path(room, "talker"))
                _, s_writer, s_status = await open_ws(self.port, self.room_path(room, "sleeper"), rcvbuf=4096)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
                st["connect_failed"] += 1
                await self.sleep(1)
                continue
            st[f"status_{t_status}_{s_status}"] += 1
            replies = Counter()
            reading = asyncio.ensure_future(drain_replies(t_reader, replies, time.monotonic() + episode + 2))
            started = time.monotonic()
            end = started + min(episode, self.left())
            k = 0
            try:
                while time.monotonic() < end and not reading.done():
                    k += 1
                    msg = f'{{"type":"signal","id":"s{k}","to":"sleeper","payload":{payload}}}'.encode()
                    t_writer.write(frame(0x1, msg))
                    st["signals"] += 1
                    await asyncio.wait_for(t_writer.drain(), 5)
                    if replies["reply_error_not_found"]:
                        st["sleeper_dropped"] += 1
                        st["max_seconds_to_drop"] = max(st["max_seconds_to_drop"], round(time.monotonic() - started))
                        break
                    await asyncio.sleep(1 / per_second)
                else:
                    st["sleeper_not_dropped"] += 1
            except (OSError, asyncio.TimeoutError):
                st["talker_send_failed"] += 1
            reading.cancel()
            for k2, v in replies.items():
                st[k2] += v
            close_quietly(t_writer)
            close_quietly(s_writer)
            await self.sleep(2)

    async def fragments(self, n, message_bytes=48 * 1024, fragment=16, pause=1.0):
        """Text messages in many tiny fragments (continuation frames): costs the server CPU, not memory."""
        st = self.stats.of("fragments")
        k = 0
        while self.left() > 1:
            try:
                reader, writer, status = await open_ws(self.port, self.room_path(self.room("frag", n), "m1"))
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
                st["connect_failed"] += 1
                await self.sleep(1)
                continue
            st[f"status_{status}"] += 1
            replies = asyncio.ensure_future(drain_replies(reader, st, self.deadline + 2))
            try:
                while self.left() > 0 and not replies.done():
                    k += 1
                    pad = "f" * (message_bytes - 64)
                    msg = f'{{"type":"signal","id":"f{k}","to_all":true,"payload":"{pad}"}}'.encode()
                    parts = [msg[i:i + fragment] for i in range(0, len(msg), fragment)]
                    wire = b"".join(frame(0x1 if i == 0 else 0x0, p, fin=i == len(parts) - 1)
                                    for i, p in enumerate(parts))
                    writer.write(wire)
                    st["messages"] += 1
                    st["frames"] += len(parts)
                    await asyncio.wait_for(writer.drain(), 5)
                    await self.sleep(pause)
            except (OSError, asyncio.TimeoutError):
                st["send_failed"] += 1
            replies.cancel()
            close_quietly(writer)
            await self.sleep(2)

    async def run(self):
        s = self.scale
        workers = [self.pinger(i, 100_000 * s) for i in range(2)]
        workers += [self.binary(0, 2000 * s), self.slowloris(0, connections=max(1, int(10 * s))),
                    self.oversized(0), self.badtoken(0, per_second=5 * s), self.slow(0), self.fragments(0)]
        tasks = [asyncio.ensure_future(w) for w in workers]
        # A worker stuck past the deadline is cancelled: the program always ends.
        done, pending = await asyncio.wait(tasks, timeout=self.left() + 15)
        for t in pending:
            t.cancel()
        for t in done:
            if t.exception() is not None:
                self.stats.of("harness")["worker_exception:" + type(t.exception()).__name__] += 1
        if pending:
            self.stats.of("harness")["workers_cancelled"] = len(pending)
        return {k: dict(sorted(v.items())) for k, v in sorted(self.stats.kinds.items())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--secret-file", required=True)
    ap.add_argument("--duration", type=float, required=True, help="seconds; every worker stops by then")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the rate caps (default 1)")
    ap.add_argument("--json", help="also write the summary here")
    args = ap.parse_args()
    with open(args.secret_file, "rb") as f:
        secret = f.read().rstrip(b"\r\n")
    summary = asyncio.run(Hostile(args, secret).run())
    text = json.dumps(summary, sort_keys=True)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    sys.exit(main())
