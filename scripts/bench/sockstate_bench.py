#!/usr/bin/python3
"""Socket counting with many sockets: `make bench-netdisk` (root).

Runs in a network namespace of its own (unshare --net), so the sockets it opens bother
nobody and are the only ones counted. Fills it with about N sockets on 127.0.0.1 and ::1
(established pairs, CLOSE_WAIT, TIME_WAIT, listeners, UDP), then times the counting by
netlink and by /proc/net (scripts/bench/bench_netdisk.c), and psutil.net_connections
once, whose counts must be the same.

    sockstate_bench.py BENCH_BINARY [N=100000]

BENCH_HALF_CLOSE=1: the CLOSE_WAIT peers shut down their side (shutdown(SHUT_WR)) instead
of closing, so they stay full FIN_WAIT2 sockets instead of becoming FIN_WAIT2 timewait
sockets, which the BPF source must look up one by one.
"""
import collections
import multiprocessing
import os
import resource
import socket
import subprocess
import sys
import time


def fill(n):
    """Makes about n sockets in this process; returns them and their expected counts."""
    pairs = int(n * 0.38)       # 2 ESTABLISHED sockets each
    close_wait = int(n * 0.05)  # + one FIN_WAIT2 peer each: an orphan (no fd) or half-closed (an fd)
    half_close = os.environ.get("BENCH_HALF_CLOSE") == "1"
    time_wait = int(n * 0.10)   # hold no fd
    udp = int(n * 0.05)
    keep = []
    listeners = []
    for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        for _ in range(4):
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.bind((addr, 0))
            s.listen(4096)
            listeners.append(s)
    keep += listeners

    def pair(i):
        lst = listeners[i % len(listeners)]
        c = socket.socket(lst.family, socket.SOCK_STREAM)
        c.connect(lst.getsockname()[:2])
        s, _ = lst.accept()
        return c, s

    i = 0
    for _ in range(pairs):
        keep += pair(i)
        i += 1
    for _ in range(close_wait):
        c, s = pair(i)
        i += 1
        if half_close:
            c.shutdown(socket.SHUT_WR)
            keep.append(c)
        else:
            c.close()
        keep.append(s)
    for batch in range(0, time_wait, 500):
        tw = []
        for _ in range(min(500, time_wait - batch)):
            c, s = pair(i)
            i += 1
            c.close()  # the side that closes first ends in TIME_WAIT
            tw.append(s)
        time.sleep(0.01)
        for s in tw:
            s.close()
    for k in range(udp):
        fam, addr = (socket.AF_INET, "127.0.0.1") if k % 2 else (socket.AF_INET6, "::1")
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.bind((addr, 0))
        keep.append(u)
    want = dict(established=2 * pairs, time_wait=time_wait, close_wait=close_wait,
                listen=len(listeners), udp=udp)
    return keep, want


def worker(n, conn):
    """A process holding its share of the sockets (the fd limit is per process)."""
    keep, want = fill(n)
    conn.send(want)
    conn.recv()  # until the measurements are done
    del keep


def main():
    binary = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else 100000
    if os.environ.get("PW_BENCH_NETNS") != "1":
        env = dict(os.environ, PW_BENCH_NETNS="1")
        return subprocess.call(["unshare", "--net", sys.executable, *sys.argv], env=env)

    subprocess.check_call(["ip", "link", "set", "lo", "up"])
    netlink_env = dict(os.environ, PW_TEST_NO_SOCK_BPF="1")
    print("-- few sockets: the network collector per snapshot")
    subprocess.check_call([binary, "network", "300"])
    subprocess.check_call([binary, "network", "300"], env=netlink_env)
    with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as f:
        f.write("1024 65535")
    # sockets per process: what the fd limit allows (no CAP_SYS_RESOURCE needed)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held = 0.92 if os.environ.get("BENCH_HALF_CLOSE") == "1" else 0.87
    per_proc = max(1000, int((hard - 600) / held))  # fds held: ~87% (92%) of the sockets made
    t0 = time.monotonic()
    procs, want = [], collections.Counter()
    left = n
    while left > 0:
        share = min(left, per_proc)
        left -= share
        a, b = multiprocessing.Pipe()
        p = multiprocessing.Process(target=worker, args=(share, b))
        p.start()
        b.close()  # so that a worker that died reads as EOF, not as a hang
        procs.append((p, a))
    for p, a in procs:
        want.update(a.recv())
    want = dict(want)
    time.sleep(0.5)
    print(f"made {sum(want.values())} sockets in {len(procs)} processes in {time.monotonic() - t0:.1f} s: {want}")
    print(subprocess.run(["ss", "-s"], capture_output=True, text=True).stdout.splitlines()[1])

    subprocess.check_call([binary, "sockets", "20"])
    print(f"-- {sum(want.values())} sockets: the network collector per snapshot")
    subprocess.check_call([binary, "network", "200"])
    subprocess.check_call([binary, "network", "20"], env=netlink_env)

    try:
        import psutil
        t0 = time.monotonic()
        conns = psutil.net_connections("inet")
        dt = time.monotonic() - t0
        c = collections.Counter(x.status if x.type == socket.SOCK_STREAM else "UDP" for x in conns)
        got = dict(established=c["ESTABLISHED"], time_wait=c["TIME_WAIT"], close_wait=c["CLOSE_WAIT"],
                   listen=c["LISTEN"], udp=c["UDP"])
        print(f"psutil.net_connections('inet'): {dt * 1e6:.0f} us, counts {got}")
        if got != want:
            print("psutil counts differ from what was made (see above)")
    except ImportError:
        print("python3-psutil missing: no psutil comparison")
    for p, a in procs:
        a.send(None)
        p.join()
    print("-- the BPF program per TCP state change")
    subprocess.check_call([binary, "bpf-cost", "5000"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
