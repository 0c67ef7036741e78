#!/usr/bin/env python3
"""End-to-end numbers of the agent (`sessionwatch run`), measured on the real binary.

  throughput INPUT   `run --once` over a JSON-lines file: file input -> decode -> tracker -> rules
                     -> file output, timed from start to exit (everything read and delivered).
                     Prints wall time, events/s, CPU seconds (user+sys, all threads) per million
                     events, peak RSS and the alerts written.
  idle INPUT         the live agent (no --once) reads INPUT, then sits idle: CPU time and context
                     switches over --seconds of idleness (should be zero), RSS steady and peak,
                     and how long SIGTERM takes.
  latency            the live agent follows a file; a line carrying Win32 error 7063 is appended
                     --samples times, --gap ms apart, and the time from the append to the alert
                     appearing in the file output is taken with inotify (no polling).
                     --prefill INPUT first feeds the agent that file, so the tracker holds a
                     realistic state; --background N appends N other events/s meanwhile.

Options common to all: --binary (default build/release/agent/cli/sessionwatch), --rules DIR
(default the shipped rules/; 'builtin' for the built-in 7063 detections only), --work DIR.
Python standard library only; Linux (inotify via ctypes, /proc).
"""
import argparse
import ctypes
import json
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_config(work, inputs, rules, metrics_port=None, output="alerts.jsonl"):
    cfg = [
        "agent:",
        f"  data_dir: {json.dumps(os.path.join(work, 'data'))}",
        "  log_level: warn",
        "inputs:",
        "  - type: file",
        "    name: winlogbeat",
        f"    paths: [{json.dumps(inputs)}]",
        "    format: jsonl",
    ]
    if rules != "builtin":
        cfg += ["rules:", f"  paths: [{json.dumps(os.path.abspath(rules))}]"]
    cfg += [
        "outputs:",
        "  - type: file",
        "    name: alerts",
        f"    path: {json.dumps(os.path.join(work, output))}",
    ]
    if metrics_port:
        cfg += ["metrics:", f"  listen: 127.0.0.1:{metrics_port}"]
    path = os.path.join(work, "sessionwatch.yaml")
    with open(path, "w") as f:
        f.write("\n".join(cfg) + "\n")
    return path


def count_lines(path):
    n = 0
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 24):
                n += chunk.count(b"\n")
    except FileNotFoundError:
        pass
    return n


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / TCK


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def metrics(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        base = name.split("{", 1)[0]
        try:
            values[base] = values.get(base, 0.0) + float(value)
        except ValueError:
            pass
    return values


def thread_switches(pid):
    """Context switches of each thread: name/tid -> count."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                st = dict(l.split(":", 1) for l in f if ":" in l)
            out[tid] = int(st["voluntary_ctxt_switches"]) + int(st["nonvoluntary_ctxt_switches"])
        except (OSError, KeyError, ValueError):
            pass
    return out


def load():
    return open("/proc/loadavg").read().split()[0:3]


def start_live(args, work, inputs, port):
    config = write_config(work, inputs, args.rules, metrics_port=port)
    log = open(os.path.join(work, "agent.log"), "w")
    agent = subprocess.Popen([args.binary, "run", "-c", config], stdout=subprocess.DEVNULL,
                             stderr=log)
    deadline = time.monotonic() + 30
    while True:
        try:
            metrics(port)
            return agent
        except OSError:
            if agent.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"agent did not start: see {log.name}")
            time.sleep(0.05)


def wait_read(port, lines, timeout=1800):
    """Until the agent has processed `lines` records and delivered every alert it raised."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = metrics(port)
        if (m.get("sessionwatch_input_events_read_total", 0) >= lines and
                m.get("sessionwatch_output_sent_total", 0) >= m.get("sessionwatch_alerts_total", 0)):
            return m
        time.sleep(0.5)
    raise RuntimeError(f"not all {lines} lines read after {timeout} s")


def stop(agent, timeout=30):
    t = time.monotonic()
    agent.send_signal(signal.SIGTERM)
    try:
        code = agent.wait(timeout)
    except subprocess.TimeoutExpired:
        agent.kill()
        agent.wait()
        code = None
    return code, time.monotonic() - t


# ---------------------------------------------------------------- throughput

def throughput(args, work):
    lines = count_lines(args.input)
    with open(args.input, "rb") as f:  # page cache, as the relay bench does
        while f.read(1 << 24):
            pass
    config = write_config(work, os.path.abspath(args.input), args.rules)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    load0 = load()
    result = subprocess.run([args.binary, "run", "--once", "-c", config],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"exit {result.returncode}: {result.stderr[-2000:]}")
    user = after.ru_utime - before.ru_utime
    sys_ = after.ru_stime - before.ru_stime
    alerts = count_lines(os.path.join(work, "alerts.jsonl"))
    print(f"input {args.input}: {lines} lines; rules {args.rules}; load before {' '.join(load0)}, "
          f"after {' '.join(load())}")
    print(f"wall {wall:.2f} s, {lines / wall:,.0f} events/s; CPU user {user:.2f} s + sys {sys_:.2f} s "
          f"= {(user + sys_) * 1e6 / lines:.2f} CPU-s per 1M events ({lines / (user + sys_):,.0f} "
          f"events per CPU-second); peak RSS {after.ru_maxrss / 1024:.1f} MB; {alerts} alerts")


# ---------------------------------------------------------------- idle

def idle(args, work):
    lines = count_lines(args.input)
    port = free_port()
    agent = start_live(args, work, os.path.abspath(args.input), port)
    try:
        t0 = time.monotonic()
        m = wait_read(port, lines)
        print(f"read {lines} lines, {int(m.get('sessionwatch_alerts_total', 0))} alerts, in "
              f"{time.monotonic() - t0:.1f} s (metrics polled every 0.5 s)")
        # The last checkpoint is written once the stream pauses (at most 20x its write time later).
        time.sleep(10)
        s0, c0, w0 = proc_status(agent.pid), proc_cpu(agent.pid), thread_switches(agent.pid)
        l0 = load()
        time.sleep(args.seconds)
        s1, c1, w1 = proc_status(agent.pid), proc_cpu(agent.pid), thread_switches(agent.pid)
        woken = {tid: w1.get(tid, 0) - n for tid, n in w0.items() if w1.get(tid, 0) != n}
        print(f"idle {args.seconds} s (load {' '.join(l0)} -> {' '.join(load())}): CPU "
              f"{c1 - c0:.2f} s (clock ticks of {1 / TCK:.3f} s); context switches per thread "
              f"{woken or 'none'} of {len(w1)} threads; RSS {int(s1['VmRSS'].split()[0]) / 1024:.1f} MB, "
              f"peak (VmHWM) {int(s1['VmHWM'].split()[0]) / 1024:.1f} MB")
    finally:
        code, took = stop(agent)
        print(f"SIGTERM: exit {code} after {took:.2f} s")


# ---------------------------------------------------------------- latency

class Inotify:
    IN_MODIFY = 0x2

    def __init__(self, path):
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_CLOEXEC)
        if self.fd < 0 or self.libc.inotify_add_watch(self.fd, path.encode(), self.IN_MODIFY) < 0:
            raise OSError(ctypes.get_errno(), "inotify")

    def wait(self, timeout):
        import select
        r, _, _ = select.select([self.fd], [], [], timeout)
        if r:
            os.read(self.fd, 65536)
        return bool(r)


def marker(n):
    return str(900000000 + n).encode()


def event_7063(template, n):
    doc = json.loads(template)
    doc["@timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    doc["winlog"]["record_id"] = marker(n).decode()
    return (json.dumps(doc, separators=(",", ":")) + "\n").encode()


def latency(args, work):
    with open(args.template or args.prefill or "", "rb") as f:
        template = next(l for l in f if b'"Win32Status":"7063"' in l).decode()
    others = []
    if args.background:
        with open(args.prefill, "rb") as f:
            for line in f:
                if b"7063" not in line:
                    others.append(line)
                if len(others) >= 200000:
                    break
    followed = os.path.join(work, "in")
    os.makedirs(followed)
    live = os.path.join(followed, "live.jsonl")
    open(live, "wb").close()
    inputs = os.path.join(followed, "*.jsonl")
    prefilled = 0
    if args.prefill:
        shutil.copyfile(args.prefill, os.path.join(followed, "prefill.jsonl"))
        prefilled = count_lines(args.prefill)
    port = free_port()
    agent = start_live(args, work, inputs, port)
    out = os.path.join(work, "alerts.jsonl")
    try:
        wait_read(port, prefilled)
        time.sleep(2)
        open(out, "ab").close()
        watch = Inotify(out)
        offset = os.path.getsize(out)
        samples = []
        fd = os.open(live, os.O_WRONLY | os.O_APPEND)
        bg_fd = os.open(os.path.join(followed, "background.jsonl"),
                        os.O_WRONLY | os.O_APPEND | os.O_CREAT) if args.background else None
        bg_next, bg_i = time.monotonic(), 0
        l0 = load()
        c0 = proc_cpu(agent.pid)
        for n in range(args.samples):
            line = event_7063(template, n)
            t = time.monotonic()
            os.write(fd, line)
            while True:
                size = os.path.getsize(out)
                if size > offset:
                    with open(out, "rb") as f:
                        f.seek(offset)
                        chunk = f.read(size - offset)
                    complete = chunk[:chunk.rfind(b"\n") + 1]
                    offset += len(complete)
                    # Background events raise alerts of their own: wait for this one's.
                    if marker(n) in complete:
                        samples.append(time.monotonic() - t)
                        break
                if not watch.wait(10):
                    raise RuntimeError(f"no alert 10 s after sample {n}")
            # Next sample after a random pause; background events keep flowing meanwhile.
            pause_until = time.monotonic() + random.uniform(args.gap * 0.5, args.gap * 1.5) / 1000
            while time.monotonic() < pause_until:
                if bg_fd is not None:
                    now = time.monotonic()
                    batch = b""
                    while bg_next <= now:
                        batch += others[bg_i % len(others)]
                        bg_i += 1
                        bg_next += 1.0 / args.background
                    if batch:
                        os.write(bg_fd, batch)
                time.sleep(0.001 if bg_fd is not None else max(0.0, pause_until - time.monotonic()))
        cpu = proc_cpu(agent.pid) - c0
        samples.sort()
        ms = [s * 1000 for s in samples]

        def pct(p):
            return ms[min(len(ms) - 1, int(round(p / 100 * (len(ms) - 1))))]

        print(f"latency append -> alert in the file output, {len(ms)} samples, gap ~{args.gap} ms, "
              f"prefill {prefilled} lines, background {args.background} events/s ({bg_i} sent); "
              f"rules {args.rules}; load {' '.join(l0)} -> {' '.join(load())}")
        print(f"p50 {pct(50):.2f} ms, p90 {pct(90):.2f} ms, p99 {pct(99):.2f} ms, max {ms[-1]:.2f} ms, "
              f"min {ms[0]:.2f} ms, mean {statistics.mean(ms):.2f} ms; agent CPU meanwhile {cpu:.2f} s")
    finally:
        stop(agent)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["throughput", "idle", "latency"])
    p.add_argument("input", nargs="?")
    p.add_argument("--binary", default=os.path.join(REPO, "build/release/agent/cli/sessionwatch"))
    p.add_argument("--rules", default=os.path.join(REPO, "rules"))
    p.add_argument("--work")
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--samples", type=int, default=300)
    p.add_argument("--gap", type=float, default=50.0, help="ms between latency samples (mean)")
    p.add_argument("--prefill", help="latency: a JSON-lines file the agent reads first")
    p.add_argument("--template", help="latency: a file to take the 7063 line from")
    p.add_argument("--background", type=int, default=0, help="latency: other events/s meanwhile")
    args = p.parse_args()
    if args.mode in ("throughput", "idle") and not args.input:
        p.error(f"{args.mode} needs an INPUT file")
    if args.mode == "latency" and not (args.template or args.prefill):
        p.error("latency needs --template or --prefill (a file with a Win32Status 7063 line)")
    work = args.work or tempfile.mkdtemp(prefix="sessionwatch-bench-")
    os.makedirs(work, exist_ok=True)
    try:
        {"throughput": throughput, "idle": idle, "latency": latency}[args.mode](args, work)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
