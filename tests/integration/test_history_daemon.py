"""History with the real daemon, read back from the file it wrote (Python's sqlite3 and the
sqlite3 program): writing, restarts, kill -9, refusing foreign files, and the failures it
must ride out (full disk, read-only filesystem, a lock held by another process).

These need no HTTP server: the database file and the daemon's log are the evidence.
test_history_api.py covers /api/history and /healthz.
"""
import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import tempfile
import struct
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import PW_BIN, PW_SAN_BIN, free_port, sqlite_exclusive_lock

INTERVAL = 0.1
# the failure paths run under ASan + UBSan when that build is there
DAEMON_BIN = PW_SAN_BIN if Path(PW_SAN_BIN).is_file() else PW_BIN


class Run:
    """perfwatch writing history to db, its log in a file (no HTTP readiness needed)."""

    def __init__(self, db, *args, interval=INTERVAL, env=None, preexec_fn=None, binary=None):
        self.db = str(db) if db else None
        self.log = tempfile.NamedTemporaryFile(prefix="perfwatch-history-", suffix=".log", delete=False)
        cmd = [binary or DAEMON_BIN, "--interval", str(interval), "--listen", f"127.0.0.1:{free_port()}"]
        if db and not any(a.startswith("--db") or a == "--no-db" for a in args):
            cmd += ["--db", self.db]
        self.proc = subprocess.Popen(cmd + list(args), stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=preexec_fn)

    def text(self):
        return Path(self.log.name).read_text(errors="replace")

    def wait_log(self, needle, timeout=15, after=0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            t = self.text()
            if needle in t[after:]:
                return t
            assert self.proc.poll() is None, f"perfwatch exited {self.proc.returncode}: {t}"
            time.sleep(0.05)
        raise AssertionError(f"'{needle}' not logged within {timeout}s: {self.text()}")

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop(signal.SIGKILL if exc[0] else signal.SIGTERM)
        self.log.close()
        os.unlink(self.log.name)


@contextmanager
def connect(db):
    """A connection that is closed on leaving (sqlite3's own `with` only commits)."""
    c = sqlite3.connect(db, timeout=5)
    try:
        yield c
    finally:
        c.close()


JOURNAL_MAGIC = b"PWjrnl1\n"


def journal_times(db):
    """t_ms of each record of the journal file the open hour is kept in (src/history/journal.h),
    when the database does not hold its generation yet. Read before the database, as the
    daemon's own queries do: a seal in between is then in what the database says."""
    try:
        data = Path(str(db) + "-pending").read_bytes()
    except FileNotFoundError:
        return []
    if len(data) < 32 or data[:8] != JOURNAL_MAGIC or zlib.crc32(data[:24]) != struct.unpack_from("<I", data, 24)[0]:
        return []
    fid, gen = struct.unpack_from("<QQ", data, 8)
    with connect(db) as c:
        meta = dict(c.execute("SELECT key, value FROM meta WHERE key IN ('journal_id', 'journal_sealed')"))
    if fid != meta.get("journal_id") or gen <= meta.get("journal_sealed", 0):
        return []
    out, off = [], 32
    while len(data) - off >= 28:
        n, crc, g, t_ms, _ = struct.unpack_from("<IIQqI", data, off)
        if off + 28 + n > len(data) or zlib.crc32(data[off + 8:off + 28 + n]) != crc or g != gen:
            break  # torn or damaged: the end, as the daemon reads it
        out.append(t_ms)
        off += 28 + n
    return out


def times(db):
    """Every stored snapshot's time in ms that is not sealed yet: the journal's records after
    any pending rows of older versions (sealed chunks need the C decoder, and none is sealed in
    a test this short unless a clock hour turns)."""
    journal = journal_times(db)
    with connect(db) as c:
        return [r[0] for r in c.execute("SELECT t_ms FROM pending ORDER BY seq")] + journal


def rows(db):
    return len(times(db))


def integrity(db):
    with connect(db) as c:
        return c.execute("PRAGMA integrity_check").fetchall()


def wait_rows(db, n, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if rows(db) >= n:
                return
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{db}: fewer than {n} snapshots stored within {timeout}s")


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@contextmanager
def tmpfs(size):
    """A small tmpfs of its own (root only: mount)."""
    d = tempfile.mkdtemp(prefix="pw-history-fs-")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", d], capture_output=True,
                       text=True)
    if r.returncode != 0:
        os.rmdir(d)
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()}): needs root")
    try:
        yield Path(d)
    finally:
        subprocess.run(["umount", "-l", d], check=False)
        os.rmdir(d)


def test_every_snapshot_is_stored_and_a_restart_continues(tmp_path):
    db = tmp_path / "history.db"
    with Run(db) as r:
        r.wait_log("history: " + str(db))
        wait_rows(db, 10)
        assert r.stop() == 0
    first = times(db)
    assert len(first) >= 10
    with connect(db) as c:
        assert c.execute("PRAGMA application_id").fetchone()[0] == 0x50576831
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        paths = {p for (p,) in c.execute("SELECT path FROM series")}
    assert {"self.rss_bytes", "self.cycle_cpu_ns"} <= paths, paths

    time.sleep(1.0)  # the daemon is down: a gap
    with Run(db) as r:
        wait_rows(db, len(first) + 10)
        assert r.stop() == 0
    both = times(db)
    assert both[:len(first)] == first, "the first run's snapshots are all still there"
    steps = [b - a for a, b in zip(both, both[1:])]
    gap = steps[len(first) - 1]
    assert gap >= 1000, f"the restart shows as a gap of at least the downtime, got {gap} ms"
    assert max(steps[:len(first) - 1]) < gap and max(steps[len(first):]) < gap
    assert integrity(db) == [("ok",)]


def test_kill_9_loses_at_most_the_snapshot_being_written(tmp_path):
    db = tmp_path / "history.db"
    rnd = random.Random(6)
    for _ in range(5):
        with Run(db, interval=0.05) as r:
            wait_rows(db, rows(db) + 5 if db.exists() else 5)
            time.sleep(rnd.uniform(0.05, 0.6))
            committed = rows(db)
            r.proc.send_signal(signal.SIGKILL)
            r.proc.wait()
        after = rows(db)
        assert after >= committed, f"{committed - after} committed snapshots lost to kill -9"
        assert after <= committed + 3, "only what was written in the moment before the kill is extra"
        assert integrity(db) == [("ok",)]
    with Run(db) as r:
        wait_rows(db, after + 5)
        assert r.stop() == 0
    assert integrity(db) == [("ok",)]


def foreign_text(p):
    p.write_text("a file someone keeps here\n" * 100)


def foreign_sqlite(p):
    with connect(p) as c:
        c.execute("CREATE TABLE invoices(id INTEGER PRIMARY KEY, amount)")
        c.execute("INSERT INTO invoices(amount) VALUES (42)")
        c.commit()


def damaged_history(p):
    with Run(p) as r:
        wait_rows(p, 20)
        assert r.stop() == 0
    with connect(p) as c:
        c.execute("PRAGMA journal_mode=DELETE")
    data = bytearray(p.read_bytes())
    data[4096 * 2:4096 * 3] = b"\x5a" * 4096  # a b-tree page of the schema's tables
    p.write_bytes(bytes(data))


@pytest.mark.parametrize("make,says", [
    (foreign_text, "not an SQLite database"),
    (foreign_sqlite, "another program"),
    (damaged_history, "damaged"),
])
def test_a_file_that_is_not_our_history_is_refused_and_left_alone(tmp_path, make, says):
    db = tmp_path / "history.db"
    make(db)
    before = sha(db)
    p = subprocess.run([PW_BIN, "--interval", "0.1", "--db", str(db), "--listen", f"127.0.0.1:{free_port()}"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 1, p.stderr
    assert says in p.stderr and str(db) in p.stderr, p.stderr
    assert "not touching it" in p.stderr
    assert sha(db) == before, "the file was written to"
    assert not Path(str(db) + "-wal").exists()


def test_a_missing_folder_or_bad_retention_fails_at_start(tmp_path):
    p = subprocess.run([PW_BIN, "--db", str(tmp_path / "nope" / "h.db"), "--listen", f"127.0.0.1:{free_port()}"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 1 and "does not exist" in p.stderr, p.stderr
    p = subprocess.run([PW_BIN, "--db", str(tmp_path / "h.db"), "--retention", "raw=forever",
                        "--listen", f"127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=20)
    assert p.returncode == 2 and "--retention" in p.stderr  # a usage error, p.stderr
    assert not (tmp_path / "h.db").exists()


def test_locked_by_another_process_then_writing_resumes(tmp_path):
    """Snapshots go to the journal file: the database itself is written when it is created and
    when an hour is sealed. A lock held on a new file is ridden out with the snapshots in memory
    (the unit tests hold one across a seal)."""
    db = tmp_path / "history.db"
    lock = sqlite_exclusive_lock(db)
    lock.__enter__()
    held = True
    try:
        with Run(db) as r:
            t = r.wait_log("locked by another process")
            assert "held in memory" in t
            time.sleep(1.0)
            assert r.proc.poll() is None, "the daemon keeps running while history is locked"
            mark = len(r.text())
            held = False
            lock.__exit__(None, None, None)
            r.wait_log("writing again, nothing lost", timeout=40, after=mark)
            wait_rows(db, 20)
            assert r.stop() == 0
    finally:
        if held:
            lock.__exit__(None, None, None)
    ts = times(db)
    steps = [b - a for a, b in zip(ts, ts[1:])]
    assert max(steps) < 1000, f"no hole where the lock was held: largest step {max(steps)} ms"
    assert integrity(db) == [("ok",)]


def test_a_second_daemon_on_the_same_history_waits_for_the_first(tmp_path):
    """Two writers appending to one journal would write over each other's records."""
    db = tmp_path / "history.db"
    with Run(db) as first:
        wait_rows(db, 5)
        with Run(db) as second:
            t = second.wait_log("another perfwatch writes it")
            assert "held in memory" in t
            n0, t0 = rows(db), time.time()
            time.sleep(2.0)
            per_s = (rows(db) - n0) / (time.time() - t0)
            assert per_s < 1.6 / INTERVAL, f"{per_s:.1f} snapshots/s stored: both daemons are writing"
            assert second.proc.poll() is None
            assert first.stop() == 0
            mark = len(second.text())
            second.wait_log("writing again", timeout=40, after=mark)
            n = rows(db)
            wait_rows(db, n + 5)
            assert second.stop() == 0
    assert integrity(db) == [("ok",)]


def test_full_disk_then_writing_resumes(tmp_path):
    with tmpfs("1m") as fs:
        db = fs / "history.db"
        with Run(db) as r:
            wait_rows(db, 5)
            with open(fs / "filler", "wb") as f:  # take the rest of the filesystem
                try:
                    while True:
                        f.write(b"\0" * 65536)
                        f.flush()
                except OSError:
                    pass
            t = r.wait_log("database or disk is full")
            assert "held in memory" in t
            time.sleep(0.5)
            assert r.proc.poll() is None
            mark = len(r.text())
            (fs / "filler").unlink()
            r.wait_log("writing again", timeout=40, after=mark)
            n = rows(db)
            wait_rows(db, n + 5)
            assert r.stop() == 0
        ts = times(db)
        steps = [b - a for a, b in zip(ts, ts[1:])]
        assert max(steps) < 1000, f"snapshots taken while full were kept and written: largest step {max(steps)} ms"
        assert integrity(db) == [("ok",)]


def test_read_only_filesystem_at_start_then_writing_resumes():
    with tmpfs("4m") as fs:
        db = fs / "history.db"
        with Run(db) as r:
            wait_rows(db, 3)
            assert r.stop() == 0
        before = rows(db)
        subprocess.run(["mount", "-o", "remount,ro", str(fs)], check=True)
        with Run(db) as r:
            r.wait_log("read-only")
            time.sleep(0.5)
            assert r.proc.poll() is None, "a read-only database does not stop the daemon"
            mark = len(r.text())
            subprocess.run(["mount", "-o", "remount,rw", str(fs)], check=True)
            r.wait_log("writing again", timeout=40, after=mark)
            wait_rows(db, before + 10)
            assert r.stop() == 0
        assert integrity(db) == [("ok",)]


@pytest.fixture
def open_tmp():
    """A scratch folder another user can reach (pytest's own are private)."""
    d = Path(tempfile.mkdtemp(prefix="pw-history-user-"))
    os.chmod(d, 0o755)
    yield d
    subprocess.run(["rm", "-rf", str(d)], check=False)


def test_default_location_for_a_user_and_no_db(open_tmp):
    uid = 65534
    state = open_tmp / "state"
    state.mkdir()
    os.chown(state, uid, uid)

    def as_nobody():
        os.setgid(uid)
        os.setgroups([])
        os.setuid(uid)

    if os.geteuid() != 0:
        pytest.skip("needs root to run the daemon as another user")
    probe = subprocess.run([PW_BIN, "--version"], preexec_fn=as_nobody, capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"{PW_BIN} cannot be run by uid {uid} here (its folders are private)")
    env = dict(os.environ, XDG_STATE_HOME=str(state), HOME="/nonexistent")
    db = state / "perfwatch" / "history.db"
    with Run(None, "--interval", "0.1", env=env, preexec_fn=as_nobody) as r:
        r.wait_log("history: " + str(db))
        wait_rows(db, 3)
        assert r.stop() == 0
    assert (state / "perfwatch").stat().st_mode & 0o777 == 0o700
    assert db.stat().st_uid == uid

    db.unlink()
    with Run(None, "--no-db", env=env, preexec_fn=as_nobody) as r:
        r.wait_log("history: off (--no-db)")
        time.sleep(0.5)
        assert r.stop() == 0
    assert not db.exists()
