"""A bounded HTTP load generator for a server on this machine: N clients fetch
each URL path in turn for a fixed time (and/or a fixed number of requests) and
it prints requests/s and latency percentiles per path.

Standard library only (threads + http.client). It refuses any host that does
not resolve to loopback addresses only: it is for measuring our own server, and
nothing else may be loaded.

Run:
    .venv/bin/python benchmarks/load.py --port 8000 /articles/some-slug/ /
    .venv/bin/python benchmarks/load.py --clients 16 --duration 20 --requests 5000 /

Paths are loaded one at a time, never together: a warm-up per path, then the
measured time in --rounds turns (path A, path B, path A, ...), so a machine
busy with something else for a while slows every path alike and the ratio
between them holds. In each turn the clients stop starting requests at the
deadline (or when the path's request count is spent); the turn ends when the
last request in flight is answered, and requests/s divides by that whole time,
so a slow page's tail counts. Exits 1 if any response was not 200 or failed.
"""

import argparse
import http.client
import ipaddress
import os
import resource
import socket
import sys
import threading
import time
from dataclasses import dataclass, field

# A queued request on the big thread can wait behind many slow renders.
TIMEOUT_SECONDS = 120


def loopback_address(host, port):
    """The address to connect to, if every address ``host`` resolves to is
    loopback; otherwise SystemExit."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise SystemExit(f"load.py: cannot resolve {host!r}: {error}") from None
    addresses = {info[4][0] for info in infos}
    outside = [a for a in addresses if not ipaddress.ip_address(a).is_loopback]
    if outside or not addresses:
        raise SystemExit(
            f"load.py: refusing {host!r}: it resolves to {sorted(addresses)}, "
            "and only loopback addresses may be loaded."
        )
    # Prefer IPv4: the server binds 127.0.0.1 by default.
    return sorted(addresses, key=lambda a: ":" in a)[0]


@dataclass
class Result:
    """What one path got, summed over its turns."""

    latencies: list = field(default_factory=list)  # seconds, 200 responses only
    sizes: list = field(default_factory=list)  # body bytes, 200 responses only
    errors: dict = field(default_factory=dict)  # "status 500" / exception -> count
    elapsed: float = 0.0  # seconds under load
    cpu: dict = field(default_factory=dict)  # CpuMeter.delta() values, summed

    @property
    def ok(self):
        return len(self.latencies)

    @property
    def error_count(self):
        return sum(self.errors.values())

    def rate(self):
        """200 responses a second."""
        return self.ok / self.elapsed if self.elapsed else 0.0

    def add_cpu(self, delta):
        for name, value in delta.items():
            known = value is not None and self.cpu.get(name, 0) is not None
            self.cpu[name] = self.cpu.get(name, 0) + value if known else None


def client(address, port, headers, path, deadline, budget, result, lock):
    """Fetch ``path`` until ``deadline`` or until ``budget`` runs out.

    One connection per client, kept alive when the server allows it;
    http.client reconnects by itself when the server closes it (gunicorn's sync
    workers close after every response), and the reconnect counts in the
    latency, as it would for a browser.
    """
    connection = http.client.HTTPConnection(address, port, timeout=TIMEOUT_SECONDS)
    while time.perf_counter() < deadline and budget.take():
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            with lock:
                key = type(error).__name__
                result.errors[key] = result.errors.get(key, 0) + 1
            continue
        elapsed = time.perf_counter() - started
        with lock:
            if response.status == 200:
                result.latencies.append(elapsed)
                result.sizes.append(len(body))
            else:
                key = f"status {response.status}"
                result.errors[key] = result.errors.get(key, 0) + 1
    connection.close()


class Budget:
    """A shared request count; unlimited when ``total`` is None."""

    def __init__(self, total):
        self.left = total
        self.lock = threading.Lock()

    def take(self):
        if self.left is None:
            return True
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


def run_turn(target, result, *, clients, duration, budget):
    """Load ``target`` (address, port, request headers, path) with ``clients``
    clients for ``duration`` seconds, adding what they get to ``result``."""
    lock = threading.Lock()
    started = time.perf_counter()
    threads = [
        threading.Thread(
            target=client,
            args=(*target, started + duration, budget, result, lock),
            daemon=True,
        )
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed += time.perf_counter() - started


def percentile(ordered, fraction):
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return float("nan")
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


class CpuMeter:
    """CPU time used while loading, as shares of all cores: the whole machine
    (Linux /proc/stat), this script, and the process trees of the server and
    the database if their pids are given (Linux /proc). The machine may be
    shared: the rest is someone else."""

    def __init__(self, server_pid=None, db_pid=None):
        self.pids = {"server": server_pid, "db": db_pid}
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.cores = os.cpu_count() or 1

    def read(self):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        machine = self._machine()
        return {
            "wall": time.perf_counter(),
            "machine_busy": machine and machine[0],
            "machine_all": machine and machine[1],
            "loadgen": usage.ru_utime + usage.ru_stime,
            **{name: pid and self._tree(pid) for name, pid in self.pids.items()},
        }

    @staticmethod
    def delta(before, after):
        """What ``after`` adds to ``before``, None where either cannot tell."""
        known = [name for name in before if None not in (before[name], after[name])]
        return {
            name: after[name] - before[name] if name in known else None
            for name in before
        }

    def shares(self, cpu):
        """Shares of all cores from summed deltas: {"machine", "server", "db",
        "loadgen"} -> fraction or None."""
        wall = cpu.get("wall") or 0
        shares = dict.fromkeys(("machine", "server", "db", "loadgen"))
        if cpu.get("machine_all"):
            shares["machine"] = cpu["machine_busy"] / cpu["machine_all"]
        for name in ("server", "db", "loadgen"):
            if cpu.get(name) is not None and wall:
                shares[name] = cpu[name] / wall / self.cores
        return shares

    @staticmethod
    def _machine():
        """(busy, total) ticks of all cores since boot, or None off Linux."""
        try:
            with open("/proc/stat") as stat:
                fields = [int(v) for v in stat.readline().split()[1:]]
        except OSError:
            return None
        return sum(fields) - fields[3] - fields[4], sum(fields)  # minus idle, iowait

    def _tree(self, root):
        """CPU seconds of ``root`` and its descendants (gunicorn: the master and
        its workers), or None when /proc cannot tell."""
        parents, cpu = {}, {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    # Fields after the ")" that closes the command name.
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid = int(entry.name)
            parents[pid] = int(fields[1])
            # utime + stime, and cutime + cstime: the processes it has reaped
            # (PostgreSQL backends of closed connections, replaced workers).
            cpu[pid] = sum(int(v) for v in fields[11:15]) / self.ticks
        if root not in cpu:
            return None
        tree, grew = {root}, True
        while grew:
            children = {pid for pid, ppid in parents.items() if ppid in tree}
            grew = not children <= tree
            tree |= children
        return sum(cpu[pid] for pid in tree)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", help="URL paths, e.g. /articles/x/")
    parser.add_argument("--host", default="127.0.0.1", help="loopback only")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument(
        "--duration", type=float, default=20, help="seconds measured per path"
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=None,
        help="stop a path after this many requests (default: duration only)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="split each path's time into this many turns, taken in rotation",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=2,
        help="seconds of unmeasured requests per path first, one client (at least "
        "one request): templates, connections, caches",
    )
    parser.add_argument(
        "--gzip",
        action="store_true",
        help="ask for gzip as browsers do (bytes are then as sent, compressed)",
    )
    parser.add_argument(
        "--server-pid",
        type=int,
        default=None,
        help="report the CPU share of this process and its children (gunicorn)",
    )
    parser.add_argument(
        "--db-pid",
        type=int,
        default=None,
        help="the same for the database server (PostgreSQL's postmaster)",
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.rounds < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("need --clients, --rounds >= 1, --duration > 0, --warmup >= 0")
    if args.requests is not None and args.requests < 1:
        parser.error("--requests must be at least 1")
    for path in args.paths:
        if not path.startswith("/"):
            parser.error(f"{path!r}: give a path starting with /, not a URL")

    address = loopback_address(args.host, args.port)
    host_header = args.host if args.port == 80 else f"{args.host}:{args.port}"
    print(
        f"load: http://{host_header} ({address}), {args.clients} clients, "
        f"{args.duration:g} s per path"
        + (f" or {args.requests} requests" if args.requests else "")
        + f" in {args.rounds} turn{'s' if args.rounds > 1 else ''}"
        + f", after {args.warmup:g} s of warm-up"
        + (", Accept-Encoding: gzip" if args.gzip else ""),
        flush=True,
    )
    meter = CpuMeter(args.server_pid, args.db_pid)
    headers = {"Host": host_header, "User-Agent": "forum-benchmarks-load/1"}
    if args.gzip:
        headers["Accept-Encoding"] = "gzip"
    targets = [(address, args.port, headers, path) for path in args.paths]
    results = {path: Result() for path in args.paths}
    budgets = {path: Budget(args.requests) for path in args.paths}
    if args.warmup:
        for target in targets:
            # One client: a slow page's warm-up then costs one render, not a
            # queue of them (a turn always waits for requests in flight).
            run_turn(
                target, Result(), clients=1, duration=args.warmup, budget=Budget(None)
            )
    for _ in range(args.rounds):
        for target in targets:
            path = target[-1]
            before = meter.read()
            run_turn(
                target,
                results[path],
                clients=args.clients,
                duration=args.duration / args.rounds,
                budget=budgets[path],
            )
            results[path].add_cpu(meter.delta(before, meter.read()))

    print_table(list(results.items()), meter=meter)
    return 1 if any(r.error_count for r in results.values()) else 0


def print_table(rows, *, meter):
    width = max(len("path"), *(len(path) for path, _ in rows))
    header = (
        f"{'path':<{width}} {'requests':>8} {'errors':>6} {'req/s':>8} {'÷ first':>7} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'bytes':>10} "
        f"{'machine':>7} {'server':>6} {'db':>4} {'loadgen':>7} {'srv ms/req':>10}"
    )
    print(header)
    print("-" * len(header))
    first_rate = rows[0][1].rate()
    for path, result in rows:
        rate = result.rate()
        ratio = f"{rate / first_rate:.3f}" if first_rate else "n/a"
        ordered = sorted(result.latencies)
        p50, p95, p99 = (percentile(ordered, f) * 1000 for f in (0.50, 0.95, 0.99))
        size = round(sum(result.sizes) / len(result.sizes)) if result.sizes else 0
        shares = meter.shares(result.cpu)
        machine, server, db, loadgen = (
            "n/a" if shares[name] is None else f"{shares[name]:.0%}"
            for name in ("machine", "server", "db", "loadgen")
        )
        per_request = "n/a"
        if result.cpu.get("server") is not None and result.ok:
            per_request = f"{result.cpu['server'] * 1000 / result.ok:.1f}"
        print(
            f"{path:<{width}} {result.ok + result.error_count:>8} "
            f"{result.error_count:>6} {rate:>8.1f} {ratio:>7} "
            f"{p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {size:>10,} "
            f"{machine:>7} {server:>6} {db:>4} {loadgen:>7} {per_request:>10}"
        )
        for kind, count in sorted(result.errors.items()):
            print(f"    error: {kind} x{count}")
    first, first_cpu = rows[0][0], rows[0][1].cpu.get("server")
    for path, result in rows[1:]:
        if first_rate:
            ratio = result.rate() / first_rate
            print(f"ratio: req/s of {path} ÷ {first} = {ratio:.3f}")
        if first_cpu and rows[0][1].ok and result.cpu.get("server") and result.ok:
            # Server CPU a request, inverted: what the req/s ratio would be if
            # the server alone were the limit.
            ratio = (first_cpu / rows[0][1].ok) / (result.cpu["server"] / result.ok)
            print(f"ratio: srv ms/req of {first} ÷ {path} = {ratio:.3f}")
    print(
        "req/s: 200 responses a second; ÷ first: against the first path's req/s; "
        "latencies and bytes (one body, as sent): of 200 responses.\n"
        f"CPU as shares of all {meter.cores} cores: machine busy, server "
        "(--server-pid and its children), db (--db-pid, all its clients), loadgen "
        "(this script); the rest is anything else running.\n"
        "srv ms/req: server CPU time per 200 response, the figure that holds when "
        "others share the machine."
    )


if __name__ == "__main__":
    sys.exit(main())
