"""Sockets of known states in the network namespace this runs in, made on command.

Run as `python3 sockworld.py` inside a namespace (`ip netns exec NS ...`); it reads one
command per line on stdin, answers "ok <json>" on stdout when the sockets are in place,
and keeps every socket it made open until "quit":

    make N M K T U   N listeners, M established pairs, K CLOSE_WAIT (the client closed:
                     it is a FIN_WAIT2 timewait socket), T TIME_WAIT, U UDP sockets
    peers_close      the K CLOSE_WAIT servers close (their clients' timewait sockets
                     turn from FIN_WAIT2 into TIME_WAIT)
    churn C          C connections opened and closed in several ways (client first,
                     server first, reset, half-closed, 1 in 50 through a FIN_WAIT2
                     timewait socket), some listeners and UDP sockets opened and closed
    quit
IPv4 and IPv6 alternate, on 127.0.0.1 and ::1.
"""
import json
import resource
import socket
import struct
import sys
import time

FAMILIES = ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1"))


class World:
    def __init__(self):
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.keep = []
        self.listeners = []
        self.cw_servers = []

    def listener(self, i):
        fam, addr = FAMILIES[i % 2]
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.bind((addr, 0))
        s.listen(4096)
        return s

    def pair(self, i):
        lst = self.listeners[i % len(self.listeners)]
        c = socket.socket(lst.family, socket.SOCK_STREAM)
        c.connect(lst.getsockname()[:2])
        s, _ = lst.accept()
        return c, s

    @staticmethod
    def close_to_fin_wait2_timewait(c):
        """Closes c so that it leaves a FIN_WAIT2 timewait socket (see tests/unit/sock_kernel.h:
        a plain close() may leave a full FIN_WAIT2 orphan instead)."""
        c.shutdown(socket.SHUT_WR)
        for _ in range(1000):
            if c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] == 5:  # tcpi_state FIN_WAIT2
                break
            time.sleep(0.001)
        c.close()

    def make(self, n, m, k, t, u):
        for i in range(n):
            self.listeners.append(self.listener(i))
        for i in range(m):
            self.keep += self.pair(i)
        for i in range(k):
            c, s = self.pair(i)
            self.close_to_fin_wait2_timewait(c)
            self.cw_servers.append(s)
        for i in range(t):
            c, s = self.pair(i)
            c.close()
            time.sleep(0.002)
            s.close()  # the client, which closed first, ends in TIME_WAIT
        for i in range(u):
            fam, addr = FAMILIES[i % 2]
            d = socket.socket(fam, socket.SOCK_DGRAM)
            d.bind((addr, 0))
            self.keep.append(d)

    def peers_close(self):
        for s in self.cw_servers:
            s.close()
        self.cw_servers = []

    def churn(self, count):
        held = []
        for i in range(count):
            c, s = self.pair(i)
            kind = i % 5
            if kind == 3 and i % 50 == 3:
                self.close_to_fin_wait2_timewait(c)
                held.append(s)  # FIN_WAIT2 timewait socket until the server closes below
            elif kind == 0 or kind == 3:
                c.close()
                s.close()
            elif kind == 1:
                s.close()
                c.close()
            elif kind == 2:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                c.close()  # reset: no TIME_WAIT
                s.close()
            else:
                c.shutdown(socket.SHUT_WR)
                s.close()
                c.close()
            if i % 250 == 0:
                lst = self.listener(i)
                lst.close()
                fam, addr = FAMILIES[i % 2]
                d = socket.socket(fam, socket.SOCK_DGRAM)
                d.bind((addr, 0))
                d.close()
        for s in held:
            s.close()


def main():
    w = World()
    for line in sys.stdin:
        cmd, *args = line.split()
        if cmd == "make":
            w.make(*map(int, args))
        elif cmd == "peers_close":
            w.peers_close()
        elif cmd == "churn":
            w.churn(int(args[0]))
        elif cmd == "quit":
            break
        time.sleep(0.2)  # the last FINs and ACKs of loopback are processed by now
        print("ok", json.dumps({"done": time.time()}), flush=True)


if __name__ == "__main__":
    main()
