#!/usr/bin/env python3
"""The soak: a `circle serve` under the session load test with churn plus hostile clients, watched for leaks.

    python3 Tests/soak/soak.py --circle .build/release/circle --duration 180 [--out soak-out]

(Scripts/soak builds the binary and runs this.) It starts `circle serve` on a free loopback port, runs `circle load`
in back-to-back rounds (fresh rooms each round, churn with resume inside each) and Tests/soak/hostile.py beside it,
samples the server's RSS, open descriptors and CPU every --interval seconds into soak.csv, and writes
soak-report.html (inline SVG) and soak-summary.json. Pass criteria (exit 1 and the reasons when any fails):
  - the good clients see 0 errors in every round (and every round runs);
  - RSS is flat over the second half: a least-squares slope over it, scaled to 10 minutes, under --max-growth-pct
    (1 %) of the mean RSS there, or under --floor-mib (1 MiB) over the fitted window (a short run's noise);
  - the open descriptors come back to the baseline (taken before any load) within --settle seconds of the end;
  - the server never restarts: the same PID, with the same start time, alive at every sample and at the end;
  - and its log holds no token, display name or payload the clients sent (Circle never logs them).
"""
import argparse
import base64
import html
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CLK_TCK = os.sysconf("SC_CLK_TCK")
METRICS = ("circle_connections", "circle_participants", "circle_rooms", "circle_outbound_queue_bytes",
           "circle_outbound_queue_max_bytes", "circle_slow_consumer_closes_total")
COLUMNS = ("t_s", "rss_kib", "fds", "cpu_s", "connections", "participants", "rooms", "outbound_queue_bytes",
           "outbound_queue_max_bytes", "slow_consumer_closes", "loop_lags_over_100ms", "phase")


def log(msg):
    print(f"soak: {msg}", file=sys.stderr, flush=True)


def proc_stat(pid):
    """(start time in ticks, cpu seconds) from /proc/PID/stat, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # fields[0] is field 3 (state): utime is field 14, stime 15, starttime 22
    return int(fields[19]), (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def scrape(port):
    """The server's gauges of interest from /metrics (empty when it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3) as r:
            text = r.read().decode()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+)(?:\{[^}]*\})?\s+([0-9.eE+-]+)$", line)
        # The loop's lag: how many of its measurements were over 100 ms (a stalled loop, or a starved machine).
        if line.startswith('circle_loop_lag_seconds_bucket{le="0.1"}'):
            out["lag_le_100ms"] = float(line.split()[-1])
        elif line.startswith('circle_loop_lag_seconds_count'):
            out["lag_count"] = float(line.split()[-1])
        if m and m.group(1) in METRICS:
            out[m.group(1)] = out.get(m.group(1), 0) + float(m.group(2))
    return out


def healthy(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as r:
            return r.status == 200
    except OSError:
        return False


def slope(points):
    """Least-squares slope (y per x) and intercept of [(x, y)]."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return 0.0, my
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    return b, my - b * mx


class Soak:
    def __init__(self, args):
        self.a = args
        self.out = args.out
        os.makedirs(self.out, exist_ok=True)
        self.samples = []
        self.rounds = []
        self.failures = []
        self.phase = "baseline"
        self.stop_sampling = threading.Event()
        self.lock = threading.Lock()

    # --- the server -------------------------------------------------------------------------------------------
    def start_server(self):
        self.secret = os.path.join(self.out, "secret")
        with open(os.open(self.secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(base64.b64encode(os.urandom(32)).decode() + "\n")
        self.server_log = open(os.path.join(self.out, "server.log"), "w")
        cmd = [self.a.circle, "serve", "--host", "127.0.0.1", "--port", "0", "--secret-file", self.secret,
               "--log-level", self.a.log_level, "--data-dir", "none"]
        self.server = subprocess.Popen(cmd, stdout=self.server_log, stderr=subprocess.STDOUT)
        self.pid = self.server.pid
        deadline = time.time() + 30
        self.port = None
        while time.time() < deadline and self.port is None:
            time.sleep(0.2)
            if self.server.poll() is not None:
                raise SystemExit(f"soak: circle serve exited {self.server.returncode} at start; see server.log")
            with open(os.path.join(self.out, "server.log")) as f:
                m = re.search(r"(?:listening|bound|port)\D*127\.0\.0\.1:(\d+)", f.read(), re.I)
            if m:
                self.port = int(m.group(1))
        if self.port is None or not healthy(self.port):
            self.server.kill()
            raise SystemExit("soak: circle serve did not report a port or answer /healthz; see server.log")
        self.start_ticks = proc_stat(self.pid)[0]
        log(f"circle serve pid {self.pid} on 127.0.0.1:{self.port}")

    def alive(self):
        st = proc_stat(self.pid)
        return self.server.poll() is None and st is not None and st[0] == self.start_ticks

    # --- sampling ---------------------------------------------------------------------------------------------
    def sample(self):
        # /proc first: the /metrics scrape's own connection must not count among the descriptors.
        st, rss, fds = proc_stat(self.pid), rss_kib(self.pid), fd_count(self.pid)
        m = scrape(self.port)
        row = {
            "t_s": round(time.monotonic() - self.t0, 1), "rss_kib": rss, "fds": fds,
            "cpu_s": round(st[1], 2) if st else None,
            "connections": m.get("circle_connections"), "participants": m.get("circle_participants"),
            "rooms": m.get("circle_rooms"), "outbound_queue_bytes": m.get("circle_outbound_queue_bytes"),
            "outbound_queue_max_bytes": m.get("circle_outbound_queue_max_bytes"),
            "slow_consumer_closes": m.get("circle_slow_consumer_closes_total"),
            "loop_lags_over_100ms": m["lag_count"] - m["lag_le_100ms"] if "lag_count" in m and "lag_le_100ms" in m
            else None, "phase": self.phase,
        }
        if not self.alive():
            row["phase"] = "DEAD"
            if not any("died" in f for f in self.failures):
                self.failures.append(f"the server died or restarted by t={row['t_s']} s (exit {self.server.poll()})")
            self.stop_sampling.set()
        with self.lock:
            self.samples.append(row)
            with open(self.csv_path, "a") as f:
                f.write(",".join("" if row[c] is None else str(row[c]) for c in COLUMNS) + "\n")
        return row

    def sampler(self):
        next_at = time.monotonic()
        while not self.stop_sampling.is_set():
            next_at += self.a.interval
            self.sample()
            self.stop_sampling.wait(max(0.0, next_at - time.monotonic()))

    # --- the good load, in rounds -----------------------------------------------------------------------------
    def load_rounds(self, until):
        n = 0
        while not self.stop_sampling.is_set():
            left = until - time.monotonic()
            if left < min(20, self.a.round):
                break
            n += 1
            d = min(self.a.round, left - 3)  # `circle load` drains for a moment after --duration
            out = os.path.join(self.out, "load", f"round-{n}")
            os.makedirs(out, exist_ok=True)
            cmd = [self.a.circle, "load", "--port", str(self.port), "--secret-file", self.secret,
                   "--rooms", str(self.a.rooms), "--members", str(self.a.members), "--churn", str(self.a.churn),
                   "--pace", str(self.a.pace), "--duration", f"{d:.0f}", "--max-errors", "0", "--quiet", "--out", out]
            with open(os.path.join(out, "stdout.txt"), "w") as f:
                rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT)
            try:
                with open(os.path.join(out, "loadtest-report.json")) as f:
                    rep = json.load(f)
            except (OSError, ValueError):
                rep = {}
            r = {"round": n, "duration_s": round(d), "exit": rc, "errors": rep.get("error_total"),
                 "error_codes": rep.get("errors", {}), "connections": rep.get("connections"),
                 "resumes": rep.get("resumes"), "sent": rep.get("sent_total"), "received": rep.get("received_total"),
                 "latency_p99_ms": rep.get("latency_p99_ms"), "connect_failures": rep.get("connect_failures")}
            self.rounds.append(r)
            self.load_to = time.monotonic() - self.t0
            log(f"load round {n}: exit {rc}, {r['connections']} joined, {r['resumes']} resumes, "
                f"{r['errors']} errors {r['error_codes'] or ''}, p99 {r['latency_p99_ms']} ms")

    # --- the run ----------------------------------------------------------------------------------------------
    def run(self):
        a = self.a
        self.csv_path = os.path.join(self.out, "soak.csv")
        with open(self.csv_path, "w") as f:
            f.write(",".join(COLUMNS) + "\n")
        self.start_server()
        self.t0 = time.monotonic()
        time.sleep(2)
        base = self.sample()
        self.baseline_fds, self.baseline_rss = base["fds"], base["rss_kib"]
        log(f"baseline: {self.baseline_fds} descriptors, RSS {self.baseline_rss} KiB")
        sampler = threading.Thread(target=self.sampler, daemon=True)
        self.phase = "load"
        sampler.start()
        start = time.monotonic()
        self.active_from = start - self.t0
        self.load_to = self.active_from
        until = start + a.duration
        hostile_s = max(1, a.duration - 5)
        hostile = None
        if not a.no_hostile:
            hostile = subprocess.Popen(
                [sys.executable, os.path.join(HERE, "hostile.py"), "--port", str(self.port),
                 "--secret-file", self.secret, "--duration", str(hostile_s), "--scale", str(a.hostile_scale),
                 "--json", os.path.join(self.out, "hostile.json")],
                stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.out, "hostile.log"), "w"))
        self.load_rounds(until)
        while time.monotonic() < until and not self.stop_sampling.is_set():
            time.sleep(0.5)
        self.hostile = {}
        if hostile is not None:
            try:
                hostile.wait(timeout=30)
            except subprocess.TimeoutExpired:
                hostile.kill()
                self.failures.append("the hostile clients did not stop by themselves")
            try:
                with open(os.path.join(self.out, "hostile.json")) as f:
                    self.hostile = json.load(f)
            except (OSError, ValueError):
                self.failures.append("the hostile clients wrote no summary (see hostile.log)")
        # The window judged: while both the load and the hostile clients ran (not their wind-down).
        self.active_to = min(self.load_to, self.active_from + (hostile_s if hostile else a.duration))
        self.phase = "settle"
        # Descriptors back to baseline: closes finish within the close timeout (3 s); a slowloris within 10 s.
        settle_until = time.monotonic() + a.settle
        while time.monotonic() < settle_until and self.alive():
            if (fd_count(self.pid) or 0) <= self.baseline_fds:
                break
            time.sleep(1)
        self.stop_sampling.set()
        sampler.join(timeout=a.interval + 5)
        self.phase = "end"
        end = self.sample()
        self.judge(end)
        self.stop_server()
        self.write_reports()
        return 0 if not self.failures else 1

    def stop_server(self):
        if self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
                self.failures.append("circle serve did not exit within 20 s of SIGTERM")
        self.server_exit = self.server.returncode
        if self.server_exit not in (0, None) and not any("died" in f for f in self.failures):
            self.failures.append(f"circle serve exited {self.server_exit} after SIGTERM (expected 0)")
        self.server_log.close()

    # --- the verdict ------------------------------------------------------------------------------------------
    def judge(self, end):
        a = self.a
        v = {}
        # 1. good clients
        errors = sum(r["errors"] or 0 for r in self.rounds)
        bad_rounds = [r["round"] for r in self.rounds if r["errors"] is None or r["exit"] != 0]
        v["load_rounds"] = len(self.rounds)
        v["load_errors"] = errors
        if not self.rounds:
            self.failures.append("no load round ran")
        elif errors or bad_rounds:
            codes = {}
            for r in self.rounds:
                for k, c in (r["error_codes"] or {}).items():
                    codes[k] = codes.get(k, 0) + c
            self.failures.append(f"good clients saw {errors} errors {codes} (rounds failing: {bad_rounds})")
        # 2. RSS flat over the second half of the active period
        mid = self.active_from + (self.active_to - self.active_from) / 2
        half = [(s["t_s"], s["rss_kib"]) for s in self.samples
                if s["phase"] == "load" and s["rss_kib"] is not None and mid <= s["t_s"] <= self.active_to + 0.5]
        if len(half) >= 3:
            b, c = slope(half)
            mean = sum(y for _, y in half) / len(half)
            growth = b * 600  # KiB per 10 minutes
            window = half[-1][0] - half[0][0]
            # The floor is a change over the window itself (noise), so it weighs less the longer the run.
            allowed = max(mean * a.max_growth_pct / 100, a.floor_mib * 1024 * 600 / max(window, 1))
            v.update(rss_fit_from_s=round(mid, 1), rss_fit_samples=len(half), rss_second_half_mean_kib=round(mean),
                     rss_growth_kib_per_10min=round(growth), rss_growth_pct_per_10min=round(100 * growth / mean, 2),
                     rss_allowed_kib_per_10min=round(allowed), rss_fit=(b, c))
            if growth > allowed:
                self.failures.append(
                    f"RSS grows {growth / 1024:.1f} MiB per 10 min over the second half "
                    f"({100 * growth / mean:.1f} % of {mean / 1024:.1f} MiB; allowed {allowed / 1024:.1f} MiB)")
        else:
            self.failures.append(f"too few samples over the second half to judge RSS ({len(half)}; run longer)")
        rss = [s["rss_kib"] for s in self.samples if s["rss_kib"]]
        v["rss_baseline_kib"] = self.baseline_rss
        v["rss_peak_kib"] = max(rss) if rss else None
        v["rss_end_kib"] = end["rss_kib"]
        # 3. descriptors
        v["fds_baseline"] = self.baseline_fds
        v["fds_peak"] = max((s["fds"] or 0) for s in self.samples)
        v["fds_end"] = end["fds"]
        if end["fds"] is not None and end["fds"] > self.baseline_fds:
            self.failures.append(f"descriptors did not come back to baseline within {a.settle:.0f} s: "
                                 f"{end['fds']} open at the end, {self.baseline_fds} at the start")
        # 4. the process
        v["pid"] = self.pid
        v["alive_at_end"] = self.alive()
        v["healthz_at_end"] = healthy(self.port) if v["alive_at_end"] else False
        if not v["alive_at_end"]:
            if not any("died" in f for f in self.failures):
                self.failures.append(f"the server (pid {self.pid}) is not alive at the end")
        elif not v["healthz_at_end"]:
            self.failures.append("the server does not answer /healthz at the end")
        # 5. Circle never logs tokens, display names or payloads: look for what the clients sent.
        self.server_log.flush()
        with open(os.path.join(self.out, "server.log"), errors="replace") as f:
            text = f.read()
        leaks = sorted({m for m in re.findall(r"eyJ[A-Za-z0-9_-]{8}|Soak \w+|Member \d+|Facilitator|s{16}|f{16}|"
                                                r"candidate:|a=type:", text)})
        v["log_lines"] = text.count("\n")
        if leaks:
            self.failures.append(f"the server log holds what clients sent: {leaks[:5]}")
        cpu = [s["cpu_s"] for s in self.samples if s["cpu_s"] is not None]
        v["server_cpu_s"] = cpu[-1] if cpu else None
        v["slow_consumer_closes"] = max((s["slow_consumer_closes"] or 0) for s in self.samples)
        v["loop_lags_over_100ms"] = max((s["loop_lags_over_100ms"] or 0) for s in self.samples)
        self.verdict = v

    # --- reports ----------------------------------------------------------------------------------------------
    def write_reports(self):
        v = dict(self.verdict)
        fit = v.pop("rss_fit", None)
        summary = {"pass": not self.failures, "failures": self.failures, "duration_s": self.a.duration,
                   "rooms": self.a.rooms, "members": self.a.members, "churn": self.a.churn, "round_s": self.a.round,
                   "hostile": not self.a.no_hostile, "server_exit": self.server_exit, **v,
                   "rounds": self.rounds, "hostile_observed": self.hostile}
        with open(os.path.join(self.out, "soak-summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
        with open(os.path.join(self.out, "soak-report.html"), "w") as f:
            f.write(render_html(summary, self.samples, fit, self.active_from, self.active_to))
        log(f"report: {self.out}/soak-report.html, {self.out}/soak.csv, {self.out}/soak-summary.json")
        mib = lambda k: f"{k / 1024:.1f}" if k is not None else "?"
        print(f"soak: {self.a.duration:.0f} s, {len(self.rounds)} load rounds of {self.a.rooms}x{self.a.members + 1}, "
              f"{v['load_errors']} good-client errors; RSS {mib(v['rss_baseline_kib'])} MiB baseline, "
              f"{mib(v['rss_peak_kib'])} peak, {mib(v['rss_end_kib'])} end, second-half growth "
              f"{v.get('rss_growth_kib_per_10min', 0) / 1024:.2f} MiB/10 min "
              f"({v.get('rss_growth_pct_per_10min', '?')} %); fds {v['fds_baseline']} -> {v['fds_peak']} peak -> "
              f"{v['fds_end']} end; pid {self.pid} alive {v['alive_at_end']}")
        if self.hostile:
            print("soak: hostile: " + json.dumps(self.hostile, sort_keys=True))
        if self.failures:
            for f in self.failures:
                print(f"soak: FAIL: {f}")
            print("soak: FAILED")
        else:
            print("soak: PASS")


def svg_chart(samples, key, title, unit, scale, fit=None, active=None, color="#2563eb"):
    w, h, l, r, t, b = 760, 220, 60, 20, 24, 30
    pts = [(s["t_s"], s[key] / scale) for s in samples if s.get(key) is not None]
    if not pts:
        return f"<p>{html.escape(title)}: no data</p>"
    xmax = max(x for x, _ in pts) or 1
    ymax = max(y for _, y in pts) * 1.1 or 1
    sx = lambda x: l + (w - l - r) * x / xmax
    sy = lambda y: h - b - (h - t - b) * y / ymax
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
             f'font-size="11"><text x="{l}" y="15" font-size="13">{html.escape(title)}</text>']
    if active:
        a0, a1 = active
        mid = a0 + (a1 - a0) / 2
        parts.append(f'<rect x="{sx(mid):.1f}" y="{t}" width="{sx(a1) - sx(mid):.1f}" height="{h - t - b}" '
                     f'fill="#f1f5f9"><title>second half (RSS fit)</title></rect>')
    for i in range(5):
        y = ymax * i / 4
        parts.append(f'<line x1="{l}" x2="{w - r}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="#e5e7eb"/>'
                     f'<text x="{l - 4}" y="{sy(y) + 4:.1f}" text-anchor="end">{y:.1f}</text>')
    for i in range(6):
        x = xmax * i / 5
        parts.append(f'<text x="{sx(x):.1f}" y="{h - 12}" text-anchor="middle">{x:.0f} s</text>')
    parts.append(f'<text x="12" y="{t + (h - t - b) / 2}" transform="rotate(-90 12 {t + (h - t - b) / 2})" '
                 f'text-anchor="middle">{html.escape(unit)}</text>')
    path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
    parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
    for x, y in pts:
        parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{color}">'
                     f'<title>{x:.0f} s: {y:.2f} {html.escape(unit)}</title></circle>')
    if fit and active:
        bb, cc = fit
        mid = active[0] + (active[1] - active[0]) / 2
        y0, y1 = (bb * mid + cc) / scale, (bb * active[1] + cc) / scale
        parts.append(f'<line x1="{sx(mid):.1f}" y1="{sy(y0):.1f}" x2="{sx(active[1]):.1f}" y2="{sy(y1):.1f}" '
                     f'stroke="#dc2626" stroke-width="1.5" stroke-dasharray="5 3"><title>fit</title></line>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(summary, samples, fit, active_from, active_to):
    ok = summary["pass"]
    verdict = "PASS" if ok else "FAIL"
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v))}</td></tr>"
                   for k, v in summary.items() if k not in ("rounds", "hostile_observed", "failures"))
    fails = "".join(f"<li>{html.escape(f)}</li>" for f in summary["failures"])
    rounds = "".join(
        "<tr>" + "".join(f"<td>{html.escape(json.dumps(r.get(k)))}</td>" for k in
                         ("round", "duration_s", "exit", "connections", "resumes", "errors", "error_codes",
                          "latency_p99_ms")) + "</tr>" for r in summary["rounds"])
    hostile = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(json.dumps(v, sort_keys=True))}</td></tr>"
                      for k, v in sorted(summary["hostile_observed"].items()))
    active = (active_from, active_to)
    charts = [
        svg_chart(samples, "rss_kib", "Server RSS (shaded: second half, dashed: its fit)", "MiB", 1024, fit, active),
        svg_chart(samples, "fds", "Open descriptors", "fds", 1, None, active, "#059669"),
        svg_chart(samples, "connections", "Open connections (metrics)", "connections", 1, None, active, "#7c3aed"),
        svg_chart(samples, "outbound_queue_max_bytes", "Largest outbound queue (metrics)", "KiB", 1024, None, active,
                  "#d97706"),
        svg_chart(samples, "cpu_s", "Server CPU time", "s", 1, None, active, "#475569"),
    ]
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Circle soak: {verdict}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:900px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ddd;padding:2px 6px;text-align:left;font-size:13px}}.ok{{color:#059669}}.bad{{color:#dc2626}}
</style></head><body><h1>Circle soak: <span class="{'ok' if ok else 'bad'}">{verdict}</span></h1>
<ul>{fails}</ul>{''.join(charts)}<h2>Figures</h2><table>{rows}</table>
<h2>Load rounds</h2><table><tr><th>round</th><th>s</th><th>exit</th><th>joined</th><th>resumes</th><th>errors</th>
<th>codes</th><th>p99 ms</th></tr>{rounds}</table>
<h2>Hostile clients (what they sent, what the server answered)</h2><table>{hostile}</table>
<p>Samples: soak.csv. Server log: server.log.</p></body></html>
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--circle", required=True, help="the circle binary (release)")
    ap.add_argument("--duration", type=float, required=True, help="seconds of load (plus a short settle)")
    ap.add_argument("--rooms", type=int, default=50)
    ap.add_argument("--members", type=int, default=9)
    ap.add_argument("--churn", type=float, default=0.1)
    ap.add_argument("--pace", type=float, default=1.0)
    ap.add_argument("--round", type=float, default=60, help="seconds per load round (default 60)")
    ap.add_argument("--interval", type=float, default=10, help="seconds between samples (default 10)")
    ap.add_argument("--settle", type=float, default=30, help="seconds the descriptors get to come back (default 30)")
    ap.add_argument("--max-growth-pct", type=float, default=1.0, help="RSS growth allowed per 10 min, %% (default 1)")
    ap.add_argument("--floor-mib", type=float, default=1.0,
                    help="RSS change over the fitted window always allowed, MiB (default 1: a short run's noise)")
    ap.add_argument("--no-hostile", action="store_true", help="the good load alone")
    ap.add_argument("--hostile-scale", type=float, default=1.0, help="multiplies the hostile rate caps")
    ap.add_argument("--log-level", default="info", help="circle serve --log-level (default info)")
    ap.add_argument("--out", default="soak-out")
    args = ap.parse_args()
    if args.duration < 60:
        ap.error("--duration must be at least 60 s (the second half needs samples)")
    return Soak(args).run()


if __name__ == "__main__":
    sys.exit(main())
