#!/usr/bin/python3
"""Holds N real sockets open while it runs some commands: the real-kernel socket scaling
rows of `make bench` (PerfWatch counts socket states with sock_diag, which a fixture tree
cannot stand in for).

Meant to run in a network namespace of its own (`unshare -n`), so the sockets, their
ports and the loopback traffic stay out of the machine's own namespace:

    unshare -n sh -c 'ip link set lo up && exec socket_load.py N PLAN.json'

PLAN.json is a list of [argv, stdout_path]; each command runs in turn, with the sockets
open, its stdout written to the path. The mix: 5 % UDP sockets, 4 listening TCP sockets,
the rest ESTABLISHED TCP connections on loopback (both ends count). Prints one JSON line
with what it held. Without CAP_SYS_RESOURCE the open-file limit may be far below N: the
sockets are then spread over several holder processes.
"""
import json
import os
import resource
import socket
import subprocess
import sys


def hold(n):
    """Opens n sockets in this process; returns them and what they are."""
    socks = []
    n_udp = n // 20
    for _ in range(n_udp):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        socks.append(u)
    listeners = []
    for _ in range(min(4, n - n_udp)):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", 0))
        ls.listen(4096)
        listeners.append(ls)
        socks.append(ls)
    pairs = max(0, (n - n_udp - len(listeners)) // 2) if listeners else 0
    for i in range(pairs):
        ls = listeners[i % len(listeners)]
        c = socket.socket()
        c.connect(ls.getsockname())
        a, _ = ls.accept()
        socks.extend((c, a))
    return socks, {"udp": n_udp, "listen": len(listeners), "established": 2 * pairs, "total": len(socks)}


def fd_budget():
    """How many sockets one process may hold: RLIMIT_NOFILE raised as far as allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for want in (1 << 20, hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
            soft = want
            break
        except (ValueError, OSError):
            continue
    return max(64, soft - 256)


def hold_spread(n):
    """n sockets over as many processes as the fd limit needs (without CAP_SYS_RESOURCE the
    hard limit may be far below n). Returns (release, held): close release to free them."""
    budget = fd_budget()
    shares = [min(budget, n - i) for i in range(0, n, budget)]
    release_r, release_w = os.pipe()
    held = {"udp": 0, "listen": 0, "established": 0, "total": 0, "processes": len(shares)}
    kids = []
    for share in shares:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # a holder: open its share, report, wait for the release
            os.close(r)
            os.close(release_w)
            code = 0
            try:
                _, h = hold(share)
                os.write(w, json.dumps(h).encode())
            except Exception as e:  # noqa: BLE001 - reported to the parent
                os.write(w, json.dumps({"error": str(e)}).encode())
                code = 1
            os.close(w)
            os.read(release_r, 1)
            os._exit(code)
        os.close(w)
        kids.append(pid)
        with os.fdopen(r) as f:
            h = json.loads(f.read() or '{"error": "holder died"}')
        if "error" in h:
            raise RuntimeError(h["error"])
        for k in ("udp", "listen", "established", "total"):
            held[k] += h[k]
    os.close(release_r)
    return release_w, kids, held


def main(argv):
    if len(argv) != 3:
        print("usage: socket_load.py N PLAN.json", file=sys.stderr)
        return 2
    with open(argv[2]) as f:
        plan = json.load(f)
    release, kids, held = hold_spread(int(argv[1]))
    rcs = []
    try:
        for cmd, out in plan:
            with open(out, "wb") as o:
                rcs.append(subprocess.run(cmd, stdout=o, stderr=subprocess.DEVNULL, timeout=300).returncode)
    finally:
        os.close(release)
        for pid in kids:
            os.waitpid(pid, 0)
    print(json.dumps({"held": held, "rcs": rcs}))
    return 0 if not any(rcs) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
