"""The pieces every bench script shares: the server under test, wrk, work directories and the
statistics of repeated runs (../../shared/design/BENCHMARKS.md).

    import lib  # after sys.path.insert(0, <the bench folder>)

    with lib.work_dir("vesta-x-") as work:
        with lib.Server(vesta, os.path.join(work, "data")) as server:
            r = lib.wrk(server.url("/healthz"), duration=4)
            print(r["rps"], r["p50"], r["p99"])

Every wait is bounded: a server that does not answer in time, or does not stop when asked, is
killed, and a stop always waits for the process to be gone, so that the next run (or the
removal of its data directory) never races with a server still writing.
"""
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

START_TIMEOUT_S = 120  # opening a large store can take a while (its migrations run first)
STOP_TIMEOUT_S = 60  # a graceful stop waits up to 10 s for requests in flight, then checkpoints


class Server:
    """`vesta serve` on 127.0.0.1 and a port the kernel picks, started by the constructor, which
    returns once the server answers GET /healthz. `ready_s` is the time from launch to the
    server's "listening" line. `auth` is serve's --auth (off unless a benchmark measures
    authorization). Stop it with stop() or by using it as a context manager."""

    def __init__(self, vesta, data_dir, extra=(), timeout=START_TIMEOUT_S, auth="off"):
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [vesta, "serve", "--listen", "127.0.0.1", "--port", "0", "--data-dir", data_dir,
             "--auth", auth,
             *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.pid = self.proc.pid
        first_line = []
        got_line = threading.Event()

        # Reads the first line, then drains stdout so that the server never blocks on a full pipe.
        def read_stdout():
            for line in self.proc.stdout:
                if not got_line.is_set():
                    first_line.append(line)
                    got_line.set()
            got_line.set()  # end of output: the server is gone

        threading.Thread(target=read_stdout, daemon=True).start()
        got_line.wait(timeout)
        self.ready_s = time.monotonic() - t0
        m = re.search(r":(\d+)\s*$", first_line[0]) if first_line else None
        if not m:
            exited = self.proc.poll()
            self.stop()
            raise RuntimeError("vesta serve %s: %r" % (
                "exited with status %d" % exited if exited is not None
                else "did not start within %d s" % timeout,
                first_line[0] if first_line else "no output"))
        self.port = int(m.group(1))
        self.base = "http://127.0.0.1:%d" % self.port
        deadline = t0 + timeout
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("vesta serve on port %d does not answer GET /healthz" %
                                   self.port)
            time.sleep(0.05)

    def url(self, path=""):
        return self.base + path

    def answers(self):
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=5) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self, timeout=STOP_TIMEOUT_S):
        """SIGTERM (a graceful stop: the store checkpoints), then SIGKILL after `timeout` s;
        returns once the process has exited either way. Safe to call more than once."""
        stop_process(self.proc, timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def stop_process(proc, timeout=STOP_TIMEOUT_S):
    """Terminates `proc` (a subprocess.Popen) and waits for it to exit, killing it if it has not
    within `timeout` seconds. Returns its exit status."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


# --- wrk ---

def wrk(url, duration, connections=32, script=None, latency=True):
    """Runs wrk (at most 2 threads, a 10 s request timeout) against `url` for `duration`
    seconds; with `script`, a Lua file that shapes the requests. Returns {"rps": requests/s,
    "p50": ms, "p99": ms, "output": wrk's text}; the latencies are None without `latency`.
    Raises on wrk's failure and on any response that is not 2xx or 3xx (a benchmark of errors
    measures nothing)."""
    cmd = ["wrk", "-t%d" % min(2, connections), "-c%d" % connections, "-d%ds" % duration,
           "--timeout", "10s"]
    if latency:
        cmd.append("--latency")
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True,
                         timeout=duration + 60).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError("wrk saw %s error responses for %s" % (errors.group(1), url))
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError("wrk failed on %s: %s" % (url, out[-300:]))
    return {"rps": float(m.group(1)),
            "p50": wrk_percentile_ms(out, 50) if latency else None,
            "p99": wrk_percentile_ms(out, 99) if latency else None,
            "output": out}


def wrk_percentile_ms(out, p):
    """The p-th percentile latency, in ms, of wrk --latency's "Latency Distribution"."""
    m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)\b" % p, out)
    if not m:
        raise RuntimeError("no %d%% latency in wrk's output" % p)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v


# --- work directories ---

@contextlib.contextmanager
def work_dir(prefix, keep=None):
    """A fresh temporary directory, removed with everything in it at the end; with `keep` (a
    path), that directory instead, created if missing and left in place."""
    if keep:
        os.makedirs(keep, exist_ok=True)
        yield keep
        return
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --- statistics of repeated runs ---

def median(xs):
    return statistics.median(xs)


def median_spread(xs):
    """(median, min, max): what BENCHMARKS.md asks a repeated figure to be reported as."""
    return statistics.median(xs), min(xs), max(xs)



def fmt_number(x):
    """A rate or a size: with thousands separators from 100 on, else two decimals."""
    return "{:,.0f}".format(x) if x >= 100 else "{:.2f}".format(x)


def fmt_spread(xs):
    """median (min–max) of measurements, each as fmt_number."""
    m, lo, hi = median_spread(xs)
    return "%s (%s–%s)" % (fmt_number(m), fmt_number(lo), fmt_number(hi))


def fmt_ratio(xs):
    """A target ratio: the median in bold, (min–max)."""
    m, lo, hi = median_spread(xs)
    return "**%.2f** (%.2f–%.2f)" % (m, lo, hi)

def percentile(values, q):
    """The q-quantile (0 <= q <= 1) of `values` by the nearest rank; NaN when there are none."""
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))] if s else float("nan")

