"""The network and disk sections of the real binary over fixture trees (--proc-root),
against psutil 5.9 reading the same files (psutil.PROCFS_PATH): the same interfaces,
devices, partitions and socket counts, to the byte. The lead's test compares the live
machine; this one covers the machines we do not have (NVMe/md/dm, old kernels, odd
interface names, nasty files)."""
import collections
import os
import socket
from pathlib import Path

import psutil
import pytest

from conftest import PW_BIN, PW_SAN_BIN, REPO, run_json, validate

FIXTURES = REPO / "tests" / "fixtures" / "proc"
TREES = ["debian12-vm", "nvme-md-dm-server", "kernel-3.10-14-fields", "odd-ifnames"]  # psutil raises on nasty ones


def psutil_view(tree):
    psutil.PROCFS_PATH = str(FIXTURES / tree)
    try:
        out = {}
        if (FIXTURES / tree / "net" / "dev").exists():
            out["interfaces"] = {k: v for k, v in psutil.net_io_counters(pernic=True, nowrap=False).items()
                                 if k != "lo"}
        if (FIXTURES / tree / "diskstats").exists():
            out["devices"] = {k: v for k, v in psutil.disk_io_counters(perdisk=True, nowrap=False).items()
                              if not k.startswith("loop")}
        if (FIXTURES / tree / "self" / "mounts").exists():
            out["partitions"] = {p.mountpoint: p for p in psutil.disk_partitions(all=False)
                                 if "loop" not in p.device}
        if (FIXTURES / tree / "net" / "tcp").exists():
            c = collections.Counter(x.status if x.type == socket.SOCK_STREAM else "UDP"
                                    for x in psutil.net_connections("inet"))
            out["connections"] = {"tcp_established": c["ESTABLISHED"], "tcp_time_wait": c["TIME_WAIT"],
                                  "tcp_close_wait": c["CLOSE_WAIT"], "tcp_listen": c["LISTEN"],
                                  "udp_count": c["UDP"]}
        return out
    finally:
        psutil.PROCFS_PATH = "/proc"


def json_name(raw):
    """A name as it reaches JSON: invalid UTF-8 bytes become U+FFFD (jsonw)."""
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@pytest.mark.parametrize("tree", TREES)
def test_fixture_tree_matches_psutil(tree, schema):
    snap = run_json("--interval", "0.2", "--proc-root", str(FIXTURES / tree))[0]
    validate(snap, schema)
    want = psutil_view(tree)
    net, disk = snap["network"], snap["disk"]

    if "interfaces" in want:
        assert net is not None, snap["errors"]
        got = net["interfaces"]
        assert set(got) == {json_name(k) for k in want["interfaces"]}
        for name, c in want["interfaces"].items():
            g = got[json_name(name)]
            assert (g["bytes_sent"], g["bytes_recv"], g["packets_sent"], g["packets_recv"], g["errors_in"],
                    g["errors_out"], g["drops_in"], g["drops_out"]) == tuple(c), name
            # the same file twice, one interval apart: nothing moved
            assert g["bytes_sent_per_sec"] == 0 and g["packets_recv_per_sec"] == 0, name
    else:
        assert net is None and "net/dev" in snap["errors"]["network"]

    if "connections" in want:
        assert net["connections"] == want["connections"]

    if "devices" in want:
        assert disk is not None or "partitions" not in want, snap["errors"]
    if disk is not None:
        got = disk["devices"]
        assert set(got) == set(want["devices"])
        for name, c in want["devices"].items():
            g = got[name]
            assert (g["read_count"], g["write_count"], g["read_bytes"], g["write_bytes"], g["read_time_ms"],
                    g["write_time_ms"]) == (c.read_count, c.write_count, c.read_bytes, c.write_bytes,
                                            c.read_time, c.write_time), name
            assert g["read_iops"] == 0 and g["write_bytes_per_sec"] == 0, name
            assert g["read_latency_ms"] is None and g["write_latency_ms"] is None, name  # no I/O completed

        # statvfs runs on this machine's paths: only the fixture's mount points that exist here
        parts = disk["partitions"]
        expect = {m: p for m, p in want["partitions"].items() if os.path.exists(m)}
        assert set(parts) == set(expect)
        for m, p in expect.items():
            dev = p.device
            if Path(dev).name == "vda" and tree != "debian12-vm":
                continue  # psutil resolved the fixture's /dev/root from this machine's stat("/")
            assert (parts[m]["device"], parts[m]["fstype"], parts[m]["mountpoint"]) == (dev, p.fstype, m)


@pytest.mark.parametrize("tree", ["nasty-garbage", "nasty-empty", "counters-backwards-t0", "odd-ifnames"])
def test_nasty_trees_under_sanitizers(tree, schema):
    """The ASan+UBSan build over garbage: exit 0, valid JSON, errors named, no report."""
    if not Path(PW_SAN_BIN).exists():
        pytest.skip(f"{PW_SAN_BIN} not built (make integration builds it)")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1", UBSAN_OPTIONS="halt_on_error=1")
    snaps = run_json("--interval", "0.1", "--count", "2", "--proc-root", str(FIXTURES / tree),
                     binary=PW_SAN_BIN, env=env)
    assert len(snaps) == 2
    for s in snaps:
        validate(s, schema)
