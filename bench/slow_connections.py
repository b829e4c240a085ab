"""Holds slow and idle connections against a server on loopback, for bench/slow-connections.sh.

SLOW connections each send a request head that never ends, one byte per
--interval seconds; when the server closes one, another takes its place, so
that SLOW are held for the whole run. IDLE connections make one request,
kept alive, and then send nothing. After --hold seconds it prints how long
the server let each kind live. Every connection goes to 127.0.0.1 only.
"""

import argparse
import asyncio
import statistics
import time

HEAD = b"GET /feed.rss HTTP/1.1\r\nHost: bench\r\nX-Slow: "


async def closed_by_server(reader):
    """Resolves when the server closes the connection (end of stream or reset)."""
    try:
        while await reader.read(4096):
            pass
    except (ConnectionError, OSError):
        pass


async def slow(port, interval, deadline, lifetimes, opened):
    """One slow slot: a connection trickling a head; replaced when the server drops it."""
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        opened[0] += 1
        started = time.monotonic()
        gone = asyncio.ensure_future(closed_by_server(reader))
        position = 0
        while not gone.done() and time.monotonic() < deadline:
            byte = HEAD[position:position + 1] or b"a"
            position += 1
            try:
                writer.write(byte)
                await writer.drain()
            except (ConnectionError, OSError):
                break
            await asyncio.wait([gone], timeout=interval)
        if time.monotonic() < deadline:
            await asyncio.wait([gone], timeout=max(0.0, deadline - time.monotonic()))
        if gone.done():
            lifetimes.append(time.monotonic() - started)
        else:
            gone.cancel()
        writer.close()


async def idle(port, deadline, lifetimes):
    """One request kept alive, then nothing until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n")
    await writer.drain()
    answer = await reader.readuntil(b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200"), answer
    await reader.readexactly(2)  # "ok"
    started = time.monotonic()
    try:
        await asyncio.wait_for(closed_by_server(reader), timeout=max(0.0, deadline - started))
        lifetimes.append(time.monotonic() - started)
    except asyncio.TimeoutError:
        pass
    writer.close()


def describe(label, lifetimes, held):
    if not lifetimes:
        return f"{label}: none closed by the server ({held} held)"
    lifetimes = sorted(lifetimes)
    return (f"{label}: {len(lifetimes)} closed by the server, lifetime "
            f"min {lifetimes[0]:.2f} s, median {statistics.median(lifetimes):.2f} s, "
            f"max {lifetimes[-1]:.2f} s")


async def main(args):
    deadline = time.monotonic() + args.hold
    slow_lifetimes, idle_lifetimes, opened = [], [], [0]
    # Open them in batches, as a client with a connect rate would.
    tasks = []
    for start in range(0, args.slow, 500):
        for _ in range(start, min(args.slow, start + 500)):
            tasks.append(asyncio.ensure_future(
                slow(args.port, args.interval, deadline, slow_lifetimes, opened)))
        await asyncio.sleep(0.05)
    idle_tasks = [asyncio.ensure_future(idle(args.port, deadline, idle_lifetimes))
                  for _ in range(args.idle)]
    await asyncio.sleep(1)
    print(f"holding {args.slow} slow and {args.idle} idle connections for {args.hold} s", flush=True)
    await asyncio.gather(*tasks, *idle_tasks)
    within = sum(1 for t in slow_lifetimes if t <= args.header_timeout + 1)
    print(f"slow: {opened[0]} opened over {args.hold} s (each replaced when dropped)")
    print(describe("slow", slow_lifetimes, args.slow))
    print(f"slow: {within} of {len(slow_lifetimes)} closed within the header-read "
          f"timeout + 1 s ({args.header_timeout + 1} s)")
    print(describe("idle", idle_lifetimes, args.idle))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--slow", type=int, default=3000)
    parser.add_argument("--idle", type=int, default=200)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--hold", type=float, default=75.0)
    parser.add_argument("--header-timeout", type=float, default=10.0)
    asyncio.run(main(parser.parse_args()))
