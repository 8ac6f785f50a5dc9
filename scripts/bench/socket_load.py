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
with what it held.
"""
import json
import resource
import socket
import subprocess
import sys


def hold(n):
    need = n + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(need, soft), max(need, hard)))
    socks = []
    n_udp = n // 20
    for _ in range(n_udp):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        socks.append(u)
    listeners = []
    for _ in range(4):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", 0))
        ls.listen(4096)
        listeners.append(ls)
        socks.append(ls)
    pairs = max(0, (n - n_udp - len(listeners)) // 2)
    for i in range(pairs):
        ls = listeners[i % len(listeners)]
        c = socket.socket()
        c.connect(ls.getsockname())
        a, _ = ls.accept()
        socks.extend((c, a))
    return socks, {"udp": n_udp, "listen": len(listeners), "established": 2 * pairs, "total": len(socks)}


def main(argv):
    if len(argv) != 3:
        print("usage: socket_load.py N PLAN.json", file=sys.stderr)
        return 2
    socks, held = hold(int(argv[1]))
    with open(argv[2]) as f:
        plan = json.load(f)
    rcs = []
    for cmd, out in plan:
        with open(out, "wb") as o:
            rcs.append(subprocess.run(cmd, stdout=o, stderr=subprocess.DEVNULL, timeout=300).returncode)
    print(json.dumps({"held": held, "rcs": rcs}))
    for s in socks:
        s.close()
    return 0 if not any(rcs) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
