#!/usr/bin/env python3
"""Writes the lxc_metrics.json fixtures of tests/unit/test_replay_reference.c, in the exact
format the reference's lxc_monitor writes (json.dumps(indent=4, sort_keys=True) of a list of
snapshots; naive ISO timestamps with microseconds; a summary per snapshot).

    python3 tests/data/replay_reference/make_fixtures.py   # rewrites the files beside it

Seeded: the same files every time. The expected decisions in the C test were checked
against the reference's own loop run on these files (see the README beside them)."""
import datetime, json, os, random

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = datetime.datetime(2026, 3, 2, 10, 0, 0, 123456)


def record(ts, cpu, mem, swap=0.0, swap_total=512.0, procs=40, io=(1000, 2000), net=(5000, 7000),
           fs=(2.0, 8.0)):
    return {
        "timestamp": ts.isoformat(),
        "cpu_usage_percent": float(cpu),
        "memory_usage_mb": float(mem),
        "swap_usage_mb": float(swap),
        "swap_total_mb": float(swap_total),
        "process_count": int(procs),
        "io_stats": {"reads": int(io[0]), "writes": int(io[1])},
        "network_usage": {"rx_bytes": int(net[0]), "tx_bytes": int(net[1])},
        "filesystem_usage_gb": float(fs[0]),
        "filesystem_total_gb": float(fs[1]),
        "filesystem_free_gb": float(fs[1] - fs[0]),
    }


def summary(start, end, n):
    return {
        "collection_start_time": start.isoformat(),
        "collection_end_time": end.isoformat(),
        "total_containers": n,
        "collected_containers": n,
        "total_duration_seconds": (end - start).total_seconds(),
        "monitor_cpu_percent": 1.5,
        "monitor_memory_usage_mb": 45.25,
    }


def write(name, snapshots):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(json.dumps(snapshots, indent=4, sort_keys=True))


def history(n_snapshots, containers, stagger):
    """containers: {vmid: fn(k, rng) -> record kwargs}; stagger(k, rng) -> {vmid: µs offset}
    or None for one timestamp per snapshot (an idealised monitor)."""
    rng = random.Random(22)
    out = []
    counters = {v: [10_000 * i, 20_000 * i, 50_000 * i, 70_000 * i] for i, v in enumerate(containers, 1)}
    for k in range(n_snapshots):
        start = BASE + datetime.timedelta(seconds=60 * k)
        offsets = stagger(k, rng) if stagger else None
        snap, last = {}, start
        for vmid, fn in containers.items():
            ts = start + datetime.timedelta(microseconds=offsets[vmid] if offsets else 0)
            last = max(last, ts)
            c = counters[vmid]
            c[0] += rng.randint(0, 400)
            c[1] += rng.randint(0, 900)
            c[2] += rng.randint(0, 90_000)
            c[3] += rng.randint(0, 30_000)
            kw = fn(k, rng)
            kw.setdefault("io", (c[0], c[1]))
            kw.setdefault("net", (c[2], c[3]))
            snap[str(vmid)] = record(ts, **kw)
        snap["summary"] = summary(start, last + datetime.timedelta(milliseconds=3), len(containers))
        out.append(snap)
    return out


def noisy(rng, x, spread):
    return round(x + rng.uniform(-spread, spread), 2)


# 1. swap in use: 104 holds 500 MB and 300 MB of swap in 2048 MB (24 % without swap, 39 %
#    with it); 105 holds 1100 + 600 (54 % / 83 %)
write("swap.json", history(25, {
    104: lambda k, r: dict(cpu=noisy(r, 50, 5), mem=noisy(r, 500, 4), swap=300.0, procs=60),
    105: lambda k, r: dict(cpu=noisy(r, 50, 5), mem=noisy(r, 1100, 6), swap=600.0, procs=80),
}, None))

# 2. the monitor's own timestamps: every container stamped when its collection ended, a few
#    ms apart, in an order that changes from cycle to cycle; all of them busy (90 % CPU)
def rotate(k, rng):
    order = [201, 202, 203]
    rng.shuffle(order)
    return {v: 1000 + 2500 * i + rng.randint(0, 999) for i, v in enumerate(order)}
write("stamps.json", history(25, {
    201: lambda k, r: dict(cpu=noisy(r, 90, 3), mem=noisy(r, 900, 5)),
    202: lambda k, r: dict(cpu=noisy(r, 90, 3), mem=noisy(r, 900, 5)),
    203: lambda k, r: dict(cpu=noisy(r, 90, 3), mem=noisy(r, 900, 5)),
}, rotate))

# 3. allocations outside min/max (with below_min/<vmid>.conf): 301 has 1 core and 512 MB and
#    is idle, 302 has 6 cores and 4096 MB and is busy, 303's config sets no cores
write("below_min.json", history(13, {
    301: lambda k, r: dict(cpu=noisy(r, 10, 2), mem=noisy(r, 100, 2), procs=12),
    302: lambda k, r: dict(cpu=noisy(r, 90, 2), mem=noisy(r, 3500, 10), procs=300),
    303: lambda k, r: dict(cpu=noisy(r, 90, 2), mem=noisy(r, 1900, 10), procs=30),
}, None))

# 4. min_confidence 30: four containers whose load jumps around, so the rule wants to act at
#    most cycles and the model's confidence decides
write("confidence.json", history(61, {
    401: lambda k, r: dict(cpu=round(r.uniform(2, 98), 2), mem=round(r.uniform(200, 1900), 2), procs=r.randint(20, 90)),
    402: lambda k, r: dict(cpu=round(r.uniform(2, 98), 2), mem=round(r.uniform(200, 1900), 2), procs=r.randint(20, 90)),
    403: lambda k, r: dict(cpu=round(r.choice([5, 95]) + r.uniform(-3, 3), 2), mem=noisy(r, 1000, 400), procs=50),
    404: lambda k, r: dict(cpu=noisy(r, 20, 15), mem=noisy(r, 700, 300), swap=round(r.uniform(0, 200), 2), procs=35),
}, None))

# 5. all of it at once, as a real host writes it: per-container stamps, swap, a container
#    below min_cpu_cores (monitor/<vmid>.conf), min_confidence 30, an hour and a half
def jitter(k, rng):
    order = [501, 502, 503, 504, 505]
    rng.shuffle(order)
    return {v: 500 + 1800 * i + rng.randint(0, 1700) for i, v in enumerate(order)}
write("monitor.json", history(91, {
    501: lambda k, r: dict(cpu=noisy(r, 85 if (k // 15) % 2 else 20, 10), mem=noisy(r, 1200, 300), swap=round(r.uniform(100, 400), 2), procs=r.randint(80, 120)),
    502: lambda k, r: dict(cpu=noisy(r, 12, 8), mem=noisy(r, 300, 80), procs=r.randint(10, 20)),
    503: lambda k, r: dict(cpu=round(r.uniform(2, 98), 2), mem=round(r.uniform(200, 3000), 2), swap=round(r.uniform(0, 50), 2), procs=r.randint(30, 60)),
    504: lambda k, r: dict(cpu=noisy(r, 60 + k / 3, 8), mem=noisy(r, 600 + 12 * k, 40), procs=45),
    505: lambda k, r: dict(cpu=noisy(r, 40, 35), mem=noisy(r, 2500, 900), swap=round(r.uniform(0, 500), 2), procs=r.randint(100, 200)),
}, jitter))
