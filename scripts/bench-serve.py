#!/usr/bin/python3
"""make bench, the service part: `pcbdiff serve` against `pcbdiff inspect` per photo, side by side
in one run on the same photos.

1. Load: CLIENTS concurrent clients x PHOTOS photos each (a ~3 MP synthetic pair from the
   project's generator). The CLI side starts one `pcbdiff inspect` per photo, CLIENTS at a time.
   The service side POSTs to one `pcbdiff serve` (WORKERS workers) that publishes every result
   over AMQP 1.0 to Qpid Proton's example broker. The broker is killed after a third of the
   photos and restarted after two thirds. A receiver consumes throughout.
   Printed: wall time, photos/s, p50/p99 latency, peak RSS; then lost and duplicated HTTP
   results and CFX messages (UnitIdentifier counted at the receiver).
2. One 24 MP pair: the CLI (decodes and prepares the golden each time) against the service
   (prepared once), alternately, RUNS24 times each, after a warm-up of each.

Environment: CLIENTS (4), PHOTOS (25 per client; the issue's load test is 100), WORKERS (2),
BENCH24 (1), RUNS24 (3), BENCH_DIR (/tmp/pcbdiff-bench).
"""
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from proton.utils import BlockingConnection

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/pcbdiff")
SYNTH = os.path.abspath(os.environ.get("SYNTHBOARD", "build/tools/synthboard"))
WORK = os.path.join(os.environ.get("BENCH_DIR", "/tmp/pcbdiff-bench"), "serve")
CLIENTS = int(os.environ.get("CLIENTS", "4"))
PHOTOS = int(os.environ.get("PHOTOS", "25"))
WORKERS = int(os.environ.get("WORKERS", "2"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pair(mp):
    d = os.path.join(WORK, "p%d" % mp)
    if not os.path.exists(os.path.join(d, "photo.jpg")):
        print("generating a %d MP synthetic pair in %s ..." % (mp, d), flush=True)
        subprocess.run([SYNTH, "pair", "--out", d, "--megapixels", str(mp), "--seed", "1"],
                       check=True, stdout=subprocess.DEVNULL)
    board = os.path.join(WORK, "boards%d" % mp, "synth%d" % mp)
    if not os.path.exists(os.path.join(board, "board.ini")):
        os.makedirs(board, exist_ok=True)
        shutil.copy(os.path.join(d, "reference.png"), os.path.join(board, "golden.png"))
        with open(os.path.join(board, "board.ini"), "w") as f:
            f.write("[board]\nname = synth%d\ngolden = golden.png\n" % mp)
    return board, os.path.join(d, "photo.jpg")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def row(name, n, wall, lat, rss_kb):
    print("%-32s %6d %8.1f %9.2f %9.3f %9.3f %9.0f" % (
        name, n, wall, n / wall, statistics.median(lat), pct(lat, 99), rss_kb / 1024.0),
        flush=True)


def run_cli(board, photo, n_clients, per_client, out):
    lat, rss = [], []
    lock = threading.Lock()

    def client(c):
        for i in range(per_client):
            t0 = time.monotonic()
            p = subprocess.Popen([BIN, "inspect", "--board", board, photo, "-q", "--json",
                                  os.path.join(out, "cli-%d-%d.json" % (c, i))])
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            with lock:
                lat.append(time.monotonic() - t0)
                rss.append(ru.ru_maxrss)
    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - t0, lat, max(rss)


class Receiver(threading.Thread):
    """Consumes the CFX queue for the whole run, reconnecting while the broker is down."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.units, self.ids, self.stop = port, [], [], False

    def run(self):
        while not self.stop:
            try:
                conn = BlockingConnection("amqp://127.0.0.1:%d" % self.port, timeout=5)
                rcv = conn.create_receiver("cfx")
                while not self.stop:
                    try:
                        m = rcv.receive(timeout=0.5)
                    except Exception as e:  # Timeout, or the broker went away
                        if type(e).__name__ != "Timeout":
                            raise
                        continue
                    env = json.loads(bytes(m.body).decode())
                    self.ids.append(m.id)
                    self.units.append(env["MessageBody"]["InspectedUnits"][0]["UnitIdentifier"])
                    try:
                        rcv.accept()
                    except IndexError:
                        pass
                conn.close()
            except Exception:
                time.sleep(0.3)


def start_service(boards, extra):
    proc = subprocess.Popen([BIN, "serve", "--boards", boards, "--listen", "127.0.0.1:0"]
                            + extra, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for line in proc.stderr:
        if "listening on http://" in line:
            url = line.split("listening on ")[1].split(" ")[0].rstrip("/")
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            return proc, url
    raise RuntimeError("serve did not start")


def post(url, board, body, unit):
    req = urllib.request.Request("%s/v1/inspect?board=%s&unit=%s" % (url, board, unit),
                                 data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def vmhwm(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def load_test():
    board, photo = pair(3)
    boards = os.path.dirname(board)
    name = os.path.basename(board)
    body = open(photo, "rb").read()
    out = os.path.join(WORK, "out")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    total = CLIENTS * PHOTOS
    print("\n== load: %d clients x %d photos of %s (%.1f MB), %d cores" % (
        CLIENTS, PHOTOS, photo, len(body) / 1e6, os.cpu_count()), flush=True)
    print("%-32s %6s %8s %9s %9s %9s %9s" % ("", "photos", "wall s", "photos/s", "p50 s",
                                               "p99 s", "peak MB"))

    wall, lat, rss = run_cli(board, photo, CLIENTS, PHOTOS, out)
    row("pcbdiff inspect per photo", total, wall, lat, rss)

    broker_exe = os.path.join(WORK, "broker")
    if not os.path.exists(broker_exe):
        subprocess.run(["cc", "-O2", "-o", broker_exe, "/usr/share/proton/examples/c/broker.c",
                        "-lqpid-proton", "-lpthread"], check=True)
    bport = free_port()

    def broker():
        return subprocess.Popen([broker_exe, "127.0.0.1", str(bport)], cwd=WORK,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bk = broker()
    time.sleep(0.3)
    rx = Receiver(bport)
    rx.start()
    spool = os.path.join(WORK, "spool")
    shutil.rmtree(spool, ignore_errors=True)
    svc, url = start_service(boards, ["--workers", str(WORKERS), "--queue", str(total),
                                      "--amqp", "amqp://127.0.0.1:%d" % bport,
                                      "--amqp-address", "cfx", "--amqp-spool", spool,
                                      "--cfx-handle", "pcbdiff.bench.host", "-q"])
    post(url, name, body, "warmup")  # not timed
    lat, codes = [], []
    done = [0]
    lock = threading.Lock()

    def client(c):
        for i in range(PHOTOS):
            t0 = time.monotonic()
            code = post(url, name, body, "C%d-%d" % (c, i))
            with lock:
                lat.append(time.monotonic() - t0)
                codes.append(code)
                done[0] += 1
    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    while done[0] < total // 3:
        time.sleep(0.05)
    bk.kill()
    bk.wait()
    while done[0] < 2 * total // 3:
        time.sleep(0.05)
    bk = broker()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    rss = vmhwm(svc.pid)
    row("pcbdiff serve (%d workers)" % WORKERS, total, wall, lat, rss)
    deadline = time.time() + 120
    while time.time() < deadline and [f for f in os.listdir(spool) if f.endswith(".json")]:
        time.sleep(0.2)
    time.sleep(2)
    rx.stop = True
    svc.send_signal(signal.SIGTERM)
    code = svc.wait()
    bk.kill()
    bk.wait()
    want = {"C%d-%d" % (c, i) for c in range(CLIENTS) for i in range(PHOTOS)} | {"warmup"}
    got = rx.units
    print("HTTP: %d of %d answered 200; serve exit %d" % (codes.count(200), total, code))
    print("CFX over a broker kill and restart: %d received, %d lost, %d duplicated "
          "(UniqueIDs %d, distinct %d)" % (len(got), len(want - set(got)),
                                           len(got) - len(set(got)), len(rx.ids),
                                           len(set(rx.ids))), flush=True)


def big_pair():
    board, photo = pair(24)
    boards = os.path.dirname(board)
    name = os.path.basename(board)
    body = open(photo, "rb").read()
    runs = int(os.environ.get("RUNS24", "3"))
    print("\n== one 24 MP photo (%s), CLI vs service, alternately, %d runs each after a "
          "warm-up" % (photo, runs), flush=True)
    svc, url = start_service(boards, ["--workers", "1", "-q"])
    out = os.path.join(WORK, "out24.json")
    cli, srv = [], []
    for i in range(runs + 1):
        t0 = time.monotonic()
        subprocess.run([BIN, "inspect", "--board", board, photo, "-q", "--json", out])
        t1 = time.monotonic()
        code = post(url, name, body, "big%d" % i)
        t2 = time.monotonic()
        if i > 0:
            cli.append(t1 - t0)
            srv.append(t2 - t1)
        assert code == 200, code
    rss = vmhwm(svc.pid)
    svc.send_signal(signal.SIGTERM)
    svc.wait()
    print("pcbdiff inspect (CLI):   median %.2f s  (%s)" % (
        statistics.median(cli), " ".join("%.2f" % x for x in cli)))
    print("pcbdiff serve (POST):    median %.2f s  (%s), service peak RSS %.0f MB" % (
        statistics.median(srv), " ".join("%.2f" % x for x in srv), rss / 1024.0))


if __name__ == "__main__":
    os.makedirs(WORK, exist_ok=True)
    load_test()
    if os.environ.get("BENCH24", "1") == "1":
        big_pair()
