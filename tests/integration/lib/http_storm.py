#!/usr/bin/python3
"""http_storm.py — N HTTP clients at once against one server, over real TCP.

    http_storm.py HOST PORT N PATH [--source ADDR] [--timeout S] [--hold]

Opens N connections concurrently (asyncio, one socket each, optionally bound to a source
address), sends one "GET PATH" on each and reads the answer to EOF. --hold sends only
half of the request line first and the rest after every connection is open, so all N are
in the server at the same moment. Prints one summary line of counts:
  status_200=.. status_429=.. status_503=.. status_other=.. closed=.. connect_error=.. timeout=..
"closed" is a connection the server accepted and closed without an answer (how
libmicrohttpd refuses one over its connection limits); "connect_error" a refused connect.
"""
import asyncio
import collections
import sys


async def one(host, port, path, source, timeout, hold, gate, counts):
    try:
        r, w = await asyncio.wait_for(
            asyncio.open_connection(host, port, local_addr=(source, 0) if source else None), timeout)
    except asyncio.TimeoutError:
        counts["timeout"] += 1
        if gate:
            gate[1] += 1
        return
    except OSError:
        counts["connect_error"] += 1
        if gate:
            gate[1] += 1
        return
    req = f"GET {path} HTTP/1.1\r\nHost: storm\r\nConnection: close\r\n\r\n".encode()
    try:
        if hold:
            w.write(req[:5])
            await w.drain()
            gate[1] += 1
            await gate[0].wait()
            req = req[5:]
        w.write(req)
        await w.drain()
        data = await asyncio.wait_for(r.read(), timeout)
    except asyncio.TimeoutError:
        counts["timeout"] += 1
        w.close()
        return
    except OSError:
        data = b""
    w.close()
    if not data:
        counts["closed"] += 1
        return
    try:
        status = int(data.split(b" ", 2)[1])
    except (IndexError, ValueError):
        counts["status_other"] += 1
        return
    key = f"status_{status}" if status in (200, 429, 503) else "status_other"
    counts[key] += 1


async def main():
    host, port, n, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    args = sys.argv[5:]
    source = args[args.index("--source") + 1] if "--source" in args else None
    timeout = float(args[args.index("--timeout") + 1]) if "--timeout" in args else 30.0
    hold = "--hold" in args
    counts = collections.Counter()
    gate = [asyncio.Event(), 0] if hold else None
    tasks = [asyncio.create_task(one(host, port, path, source, timeout, hold, gate, counts))
             for _ in range(n)]
    if hold:
        for _ in range(int(timeout * 10)):
            if gate[1] >= n:
                break
            await asyncio.sleep(0.1)
        gate[0].set()
    await asyncio.gather(*tasks)
    keys = ["status_200", "status_429", "status_503", "status_other", "closed",
            "connect_error", "timeout"]
    print(" ".join(f"{k}={counts[k]}" for k in keys))


asyncio.run(main())
