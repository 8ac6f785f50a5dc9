#!/usr/bin/python3
"""`make bench`: PerfWatch against the tools users would pick instead, in one run.

Called by scripts/bench.sh (which installs what is missing first). Runs every contender
on this machine, one after another and interleaved over BENCH_RUNS runs (the order
rotates each run), each for a window of BENCH_SECONDS after a warm-up, then PerfWatch's
own rows (procfs floor, stages, scaling) and the other areas' pieces. Prints one markdown
report and writes build/bench/results.json and build/bench/results.md.

How a cycle's CPU is measured: every process of a tool runs in a cgroup of its own, whose
CPU counter (ns) is read at t0, t0+T, ..., t0+N*T with T = 5 s, the tools' interval. A
window of exactly N intervals holds exactly N cycles of a tool that runs every T seconds,
whatever its phase; t0 is also put mid-way between two of the tool's bursts (found by
sampling its CPU every 100 ms during the warm-up), so jitter cannot move a burst across
the window's edge. node_exporter collects only when scraped: the benchmark scrapes it
every T, mid-way between two samples.

Environment: BENCH_SECONDS (60), BENCH_RUNS (3), BENCH_QUICK (0; 1 = 1 run x 10 s and
fewer scaling trees), BENCH_CONTENDERS (comma list of keys, default all), BENCH_PARTS
(comma list of contenders,floor,stages,scaling,pieces; default all), BENCH_WARMUP (s).
"""
import argparse
import json
import os
import statistics
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contenders as C  # noqa: E402
import pieces  # noqa: E402
import pwrows  # noqa: E402
import report  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def mono():
    return time.monotonic()


def sleep_until(t):
    d = t - mono()
    if d > 0:
        time.sleep(d)


def find_phase(tp, period, span=None):
    """Samples the tool's CPU every 100 ms for one period; returns the monotonic time of its
    biggest burst, or None when it did not use any CPU."""
    span = span or period
    samples = []
    t = mono()
    end = t + span + 0.2
    while t < end:
        samples.append((t, tp.cpu_ns()))
        t += 0.1
        sleep_until(t)
    best, when = 0, None
    for (t0, c0), (t1, c1) in zip(samples, samples[1:]):
        if c1 - c0 > best:
            best, when = c1 - c0, (t0 + t1) / 2
    return when


def measure(c, seconds, warmup):
    """One run of one contender: {"cycles_ns": [...], "rss_peak", "hwm", ...}."""
    T = c.interval
    n = max(1, round(seconds / T))
    tp = c.start()
    res = {"method": tp.method}
    try:
        c.ready(timeout=45)
        start = mono()
        rss_peak = rss_peak_nobpf = 0
        scrape_cpu, scrape_wall, scrape_bytes = [], [], []

        def sample_rss():
            nonlocal rss_peak, rss_peak_nobpf
            rss = tp.rss_bytes()
            rss_peak = max(rss_peak, rss)
            rss_peak_nobpf = max(rss_peak_nobpf, rss - tp.bpf_map_rss_bytes())

        def scrape():
            t_cpu, t_wall = time.thread_time_ns(), mono()
            nbytes = c.scrape()
            scrape_cpu.append(time.thread_time_ns() - t_cpu)
            scrape_wall.append(mono() - t_wall)
            scrape_bytes.append(nbytes)

        if c.scrape_driven:
            nxt = mono()
            while mono() < start + warmup:
                if mono() >= nxt:
                    scrape()
                    nxt += T
                sample_rss()
                time.sleep(0.25)
            while nxt - T / 2 < mono() + 0.05:
                nxt += T
            t0 = nxt - T / 2
        else:
            sleep_until(start + max(0.0, warmup - T - 0.3))
            burst = find_phase(tp, T)
            t0 = mono() + 0.05
            if burst is not None:
                t0 = burst + T / 2
                while t0 < mono() + 0.05:
                    t0 += T
        if not tp.alive():
            raise C.Unavailable(f"exited with status {tp.proc.returncode}: {c.log_tail()}")
        scrape_cpu, scrape_wall, scrape_bytes = [], [], []

        events = [(t0 + k * T, "sample") for k in range(n + 1)]
        if c.scrape_driven:
            events += [(t0 + (k + 0.5) * T, "scrape") for k in range(n)]
        events.sort()
        cpu, next_rss = [], mono()
        wall0 = None
        for when, what in events:
            while mono() < when - 0.01:
                if mono() >= next_rss:
                    sample_rss()
                    next_rss += 1.0
                sleep_until(min(when, next_rss))
            sleep_until(when)
            if what == "sample":
                cpu.append(tp.cpu_ns())
                if wall0 is None:
                    wall0 = mono()
            else:
                scrape()
        wall = mono() - wall0
        sample_rss()
        bpf_map_rss = tp.bpf_map_rss_bytes()
        if not tp.alive():
            raise C.Unavailable(f"exited during the window with status {tp.proc.returncode}: {c.log_tail()}")
        res.update({
            "cycles_ns": [b - a for a, b in zip(cpu, cpu[1:])],
            "window_s": wall, "n": n,
            "rss_peak": rss_peak, "hwm": tp.hwm_bytes(),
            # BPF maps the tool mmapped stay mapped from load to exit: apart from RSS and VmHWM
            "bpf_map_rss": bpf_map_rss, "rss_peak_nobpf": rss_peak_nobpf,
            "procs": sorted(tp.commands()),
        })
        if c.scrape_driven:
            res.update({"scraper_cpu_ns": scrape_cpu, "scrape_wall_s": scrape_wall,
                        "scrape_bytes": scrape_bytes})
        res["window_end_epoch"] = time.time()
        res["window_s_epoch"] = time.time() - wall
        try:
            res["output"] = c.output()
        except Exception as e:
            res["output"] = {"error": f"{type(e).__name__}: {e}"}
        if isinstance(c, C.PerfWatchDaemon):
            res["history_self"] = c.history_self(res["window_s_epoch"])
        if isinstance(c, C.PerfWatchJson):
            snaps = res["output"].pop("snapshots", [])
            lo, hi = res["window_s_epoch"], res["window_end_epoch"]
            res["stage_snaps"] = [s for s in snaps if lo <= s.get("timestamp", 0) <= hi + 1] or snaps[-3:]
    finally:
        c.stop()
    return res


def summarize(key, runs):
    ok = [r for r in runs if "error" not in r]
    s = {"runs": len(runs), "ok": len(ok), "errors": [r["error"] for r in runs if "error" in r]}
    if not ok:
        return s
    per_run = [sum(r["cycles_ns"]) / len(r["cycles_ns"]) for r in ok]
    pooled = sorted(x for r in ok for x in r["cycles_ns"])
    s.update({
        "cpu_ms": statistics.median(per_run) / 1e6,
        "cpu_ms_min": min(per_run) / 1e6, "cpu_ms_max": max(per_run) / 1e6,
        "cpu_ms_per_run": [x / 1e6 for x in per_run],
        "cycle_p50_ms": pooled[len(pooled) // 2] / 1e6,
        "cycle_p95_ms": pooled[min(len(pooled) - 1, int(len(pooled) * 0.95))] / 1e6,
        "rss_peak": max(r["rss_peak"] for r in ok), "hwm": max(r["hwm"] for r in ok),
        "bpf_map_rss": max(r.get("bpf_map_rss", 0) for r in ok),
        "rss_peak_nobpf": max(r.get("rss_peak_nobpf", r["rss_peak"]) for r in ok),
        "hwm_nobpf": max(r["hwm"] - r.get("bpf_map_rss", 0) for r in ok),
        "procs": max((r["procs"] for r in ok), key=len), "method": ok[0]["method"],
    })
    s["cpu_pct"] = s["cpu_ms"] / 5000 * 100
    out = next((r["output"] for r in ok if r.get("output") and "error" not in r["output"]), None)
    s["output"] = {k: v for k, v in (out or ok[-1].get("output") or {}).items() if k != "snapshot"}
    if "scraper_cpu_ns" in ok[0]:
        sc = [x for r in ok for x in r["scraper_cpu_ns"]]
        sw = [x for r in ok for x in r["scrape_wall_s"]]
        if sc:
            s["scraper_cpu_ms"] = statistics.median(sc) / 1e6
            s["scrape_wall_ms"] = statistics.median(sw) * 1e3
    return s


def settings():
    quick = os.environ.get("BENCH_QUICK", "0") not in ("", "0", "no", "false")
    seconds = float(os.environ.get("BENCH_SECONDS", "10" if quick else "60"))
    runs = int(os.environ.get("BENCH_RUNS", "1" if quick else "3"))
    warm = os.environ.get("BENCH_WARMUP")
    return {
        "quick": quick,
        "seconds": max(5.0, round(seconds / 5) * 5),
        "runs": max(1, runs),
        "warmup": float(warm) if warm else (7.0 if quick else 11.0),
        "contenders": [x for x in os.environ.get("BENCH_CONTENDERS", "").split(",") if x],
        "parts": [x for x in os.environ.get("BENCH_PARTS", "").split(",") if x]
                 or ["contenders", "floor", "stages", "scaling", "pieces"],
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description="PerfWatch's side-by-side benchmark")
    ap.add_argument("--build", default="build")
    args = ap.parse_args(argv)
    build = (REPO / args.build).resolve() if not Path(args.build).is_absolute() else Path(args.build)
    out = build / "bench"
    out.mkdir(parents=True, exist_ok=True)
    cfg = settings()
    env = {"PW_BIN": str(build / "perfwatch"), "BUILD": str(build)}
    floor_bin = out / "procfs_floor"
    t_begin = time.time()
    results = {"settings": cfg, "started": t_begin, "host": os.uname().nodename,
               "kernel": os.uname().release, "cpus": os.cpu_count()}
    try:
        import subprocess
        results["version"] = subprocess.run([env["PW_BIN"], "--version"], capture_output=True,
                                            text=True, timeout=10).stdout.strip()
    except Exception:
        results["version"] = None

    log(f"bench: {cfg['runs']} run(s) x {cfg['seconds']:.0f} s per contender, warm-up "
        f"{cfg['warmup']:.0f} s{' (quick)' if cfg['quick'] else ''}; results in {out}")

    # ------------------------------------------------------------ contenders, interleaved
    classes = [k for k in C.ALL if not cfg["contenders"] or k.key in cfg["contenders"]]
    runs = {k.key: [] for k in classes}
    unavailable = {}
    if "contenders" in cfg["parts"]:
        live = []
        for k in classes:
            try:
                k(out / "work" / k.key, env).check()
                live.append(k)
            except C.Unavailable as e:
                unavailable[k.key] = str(e)
                log(f"bench: {k.key}: n/a ({e})")
        for r in range(cfg["runs"]):
            order = live[r % len(live):] + live[:r % len(live)] if live else []
            if r % 2:
                order.reverse()
            for k in order:
                c = k(out / "work" / k.key, env)
                c.check()
                # netdata's first half-minute (plugins starting, first apps/cgroups scans) is
                # not its steady state
                warm = cfg["warmup"] + ((8.0 if cfg["quick"] else 20.0) if k is C.Netdata else 0.0)
                log(f"bench: run {r + 1}/{cfg['runs']}: {k.key} ({cfg['seconds']:.0f} s + {warm:.0f} s warm-up)")
                try:
                    res = measure(c, cfg["seconds"], warm)
                    log(f"bench:   {k.key}: {sum(res['cycles_ns']) / len(res['cycles_ns']) / 1e6:.2f} ms CPU/cycle,"
                        f" peak RSS {res['rss_peak'] / 2**20:.1f} MiB ({res['method']})")
                except C.Unavailable as e:
                    res = {"error": str(e)}
                    log(f"bench:   {k.key}: n/a ({e})")
                except Exception as e:
                    res = {"error": f"{type(e).__name__}: {e}"}
                    log(f"bench:   {k.key}: failed: {traceback.format_exc()}")
                runs[k.key].append(res)
    results["runs"] = {k: [{x: y for x, y in r.items() if x not in ("output", "stage_snaps", "history_self")}
                           for r in v] for k, v in runs.items()}
    results["contenders"] = {}
    for k in classes:
        if k.key in unavailable:
            results["contenders"][k.key] = {"label": k.label, "unavailable": unavailable[k.key]}
        elif runs[k.key]:
            results["contenders"][k.key] = {"label": k.label, **summarize(k.key, runs[k.key])}
        else:
            results["contenders"][k.key] = {"label": k.label, "unavailable": "not run (BENCH_PARTS)"}

    # ------------------------------------------------------------ PerfWatch's own rows
    pw = {}
    pw_ok = os.access(env["PW_BIN"], os.X_OK)
    if "floor" in cfg["parts"]:
        log("bench: procfs floor")
        pw["floor"] = (pwrows.floor_row(floor_bin, env["PW_BIN"], out, cfg["quick"]) if pw_ok
                       else {"error": "perfwatch not built"})
    if "stages" in cfg["parts"]:
        stages = {}
        # the daemon's own snapshots only (not the --json stand-in used while it has no server)
        daemon_snaps = [r["output"]["snapshot"] for r in runs.get("perfwatch", [])
                        if r.get("output", {}).get("snapshot") and r["output"].get("source") == "/api/snapshot"]
        hist = [pwrows.history_self_values(r.get("history_self")) for r in runs.get("perfwatch", [])]
        hist = {k: v for h in hist for k, v in h.items()}
        if daemon_snaps:
            stages["daemon"] = pwrows.stage_medians(daemon_snaps)
            stages["daemon_source"] = "the last snapshot of each run (/api/snapshot)"
        if hist:
            # every cycle of the windows, where the history keeps the figure
            stages.setdefault("daemon", {}).update(
                {k: {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}
                 for k, v in hist.items() if v})
            stages["daemon_source"] = (stages.get("daemon_source", "") + "; " if daemon_snaps else "") + \
                f"{', '.join(sorted(hist))} from /api/history over each run's window"
        if daemon_snaps:
            maps = [pwrows.bpf_map_bytes(s) for s in daemon_snaps]
            pw["bpf_map_bytes"] = next((m for m in maps if m is not None), None)
        json_snaps = [s for r in runs.get("perfwatch-json", []) for s in r.get("stage_snaps", [])]
        if not json_snaps and pw_ok:
            log("bench: stages from perfwatch --json --interval 1 --count 6")
            import subprocess
            p = subprocess.run([env["PW_BIN"], "--json", "--interval", "1", "--count", "6", "--log-level", "warn"],
                               capture_output=True, text=True, timeout=60)
            json_snaps = [json.loads(l) for l in p.stdout.splitlines() if l.strip()][1:]
        if json_snaps:
            stages["json"] = pwrows.stage_medians(json_snaps)
            if pw.get("bpf_map_bytes") is None:
                pw["bpf_map_bytes"] = next((m for m in map(pwrows.bpf_map_bytes, json_snaps) if m is not None), None)
            last = json_snaps[-1]
            pw["bpf_programs"] = pwrows.bpf_programs(last)
            pw["null_sections"] = [k for k in ("cpu", "memory", "network", "disk") if last.get(k) is None]
            pw["errors"] = last.get("errors") or {}
            pw["perf_source"] = (last.get("perf") or {}).get("source")
        pw["stages"] = stages
    if "scaling" in cfg["parts"]:
        if pw_ok and floor_bin.exists():
            log("bench: scaling on fixture trees")
            try:
                pw["scaling"] = pwrows.scaling(env["PW_BIN"], floor_bin, out / "fixtures",
                                               out / "floor-list.txt", cfg["quick"], log)
            except Exception as e:
                pw["scaling"] = {"error": f"{type(e).__name__}: {e}"}
                log(traceback.format_exc())
        else:
            pw["scaling"] = {"error": "perfwatch or the floor program not built"}
    results["perfwatch"] = pw

    if "pieces" in cfg["parts"]:
        log("bench: the other areas' pieces")
        penv = {"PW_BIN": env["PW_BIN"], "PW_BUILD": env["BUILD"], "BENCH_QUICK": "1" if cfg["quick"] else "0",
                "BENCH_SECONDS": str(int(cfg["seconds"])), "BENCH_RUNS": str(cfg["runs"])}
        if cfg["quick"]:
            penv["PW_BENCH_SECONDS"] = "10"
        results["pieces"] = pieces.run_all(Path(__file__).resolve().parent, REPO, penv, out / "pieces",
                                           cfg["quick"], log)

    results["duration_s"] = time.time() - t_begin
    md = report.render(results)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (out / "results.md").write_text(md)
    print(md)
    log(f"bench: done in {results['duration_s'] / 60:.1f} min; {out / 'results.md'}, {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
