#!/usr/bin/python3
"""pcbdiff serve end to end, with real components: the service on a loopback port, a real AMQP 1.0
broker (Qpid Proton's example broker, built here from libqpid-proton11-dev-examples' broker.c;
it starts in milliseconds, RabbitMQ takes seconds) stopped and restarted during the run, and a
receiver (python3-qpid-proton) that checks every CFX message.

Prints TAP for prove. Needs $PCBDIFF (the binary) and $SRCDIR (the source tree).
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from proton import Message  # noqa: F401  (python3-qpid-proton)
from proton.utils import BlockingConnection

PCBDIFF = os.environ["PCBDIFF"]
SRCDIR = os.environ["SRCDIR"]
SAMPLE = os.path.join(SRCDIR, "samples", "implant-bmc.jpg")
NOT_A_BOARD = os.path.join(SRCDIR, "samples", "review-page.jpg")  # a screenshot: no registration
TOKEN = "t0ken-for-the-serve-test-0123456789"

results = []


def ok(cond, name):
    results.append(bool(cond))
    print("%s %d %s" % ("ok" if cond else "not ok", len(results), name), flush=True)
    return cond


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, exe, port, workdir):
        self.exe, self.port, self.workdir, self.proc = exe, port, workdir, None

    def start(self):
        self.proc = subprocess.Popen([self.exe, "127.0.0.1", str(self.port)], cwd=self.workdir,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the broker did not listen")

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


SERVICES = []


class Service:
    def __init__(self, args, env=None):
        SERVICES.append(self)
        self.proc = subprocess.Popen([PCBDIFF, "serve"] + args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.log = []
        self.url = None
        for line in self.proc.stderr:
            self.log.append(line)
            if "listening on http://" in line:
                self.url = line.split("listening on ")[1].split(" ")[0].rstrip("/")
                break
        if self.url is None:
            raise RuntimeError("serve did not start: " + "".join(self.log))
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def request(self, method, path, body=None, token=TOKEN, timeout=120):
        req = urllib.request.Request(self.url + path, data=body, method=method)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        if body is not None:
            req.add_header("Content-Type", "application/octet-stream")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def inspect(self, board, body, unit=None, token=TOKEN):
        q = "/v1/inspect?board=" + board + ("&unit=" + unit if unit else "")
        return self.request("POST", q, body, token)

    def metrics(self):
        status, _, body = self.request("GET", "/metrics")
        return body.decode() if status == 200 else ""

    def metric(self, name):
        for line in self.metrics().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return None

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=120)


def receive_all(port, address, settle=1.0):
    """Every message waiting at @address (stops after @settle s without one)."""
    conn = BlockingConnection("amqp://127.0.0.1:%d" % port, timeout=10)
    rcv = conn.create_receiver(address)
    got = []
    while True:
        try:
            m = rcv.receive(timeout=settle)
        except Exception:  # proton.Timeout
            break
        got.append(m)
        try:
            rcv.accept()
        except IndexError:  # the broker sent it settled: nothing to accept
            pass
    conn.close()
    return got


def check_envelope(m, unit, result):
    env = json.loads(bytes(m.body).decode("utf-8"))
    body = env["MessageBody"]
    u = body["InspectedUnits"][0]
    insp = u["Inspections"][0]
    defects = insp["DefectsFound"]
    good = (env["MessageName"] == "CFX.Production.TestAndInspection.UnitsInspected"
            and env["Version"] and env["TimeStamp"] and env["UniqueID"] == m.id
            and env["Source"].startswith("pcbdiff.")
            and body["$type"] == "CFX.Production.TestAndInspection.UnitsInspected, CFX"
            and list(body.keys())[0] == "$type"
            and body["InspectionMethod"] == "AOI" and body["RecipeName"] == "demo"
            and len(body["TransactionId"]) == 36
            and u["UnitIdentifier"] == unit and u["OverallResult"] == result
            and m.content_type.startswith("application/json")
            and m.subject == env["Source"] + ".CFX.Production.TestAndInspection.UnitsInspected")
    if result == "Failed":
        good = good and len(defects) >= 1 and all(
            d["DefectCode"] in ("EXTRA", "MISSING", "ALTERED")
            and 1 <= d["ConfidenceLevel"] <= 100 and d["Priority"] >= 1
            and len(d["RegionOfInterest"]["RegionSegments"]) == 4
            and d["Description"] for d in defects)
        good = good and [d["Priority"] for d in defects] == list(range(1, len(defects) + 1))
    return good, env


def main():
    tmp = tempfile.mkdtemp(prefix="pcbdiff-serve-")
    broker = None
    try:
        print("1..30", flush=True)
        # the broker, from the example Debian ships
        exe = os.path.join(tmp, "broker")
        cc = os.environ.get("CC_BROKER", "cc")
        subprocess.run([cc, "-O1", "-o", exe, "/usr/share/proton/examples/c/broker.c",
                        "-lqpid-proton", "-lpthread"], check=True)
        bport = free_port()
        broker = Broker(exe, bport, tmp)
        broker.start()

        boards = os.path.join(tmp, "boards")
        shutil.copytree(os.path.join(SRCDIR, "reference-boards", "demo"),
                        os.path.join(boards, "demo"))
        hot = os.path.join(tmp, "hot")
        os.makedirs(os.path.join(hot, "demo"))
        spool = os.path.join(tmp, "spool")
        token_file = os.path.join(tmp, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        photo = open(SAMPLE, "rb").read()

        # refused starts: exit 2 with one line
        r = subprocess.run([PCBDIFF, "serve", "--boards", boards, "--listen", "0.0.0.0:0"],
                           capture_output=True, text=True)
        ok(r.returncode == 2 and "loopback" in r.stderr, "a non-loopback --listen is refused")
        r = subprocess.run([PCBDIFF, "serve", "--boards", os.path.join(tmp, "nothing")],
                           capture_output=True, text=True)
        ok(r.returncode == 2 and r.stderr.count("\n") == 1, "a missing --boards folder is refused")

        svc = Service(["--boards", boards, "--listen", "127.0.0.1:0", "--token-file", token_file,
                       "--workers", "1", "--queue", "1", "--max-body-mb", "1",
                       "--amqp", "amqp://127.0.0.1:%d" % bport, "--amqp-address", "cfx",
                       "--amqp-spool", spool, "--watch", hot, "--cfx-handle", "pcbdiff.test.host",
                       "--threads", "2"])
        status, _, body = svc.request("GET", "/healthz", token=None)
        ok(status == 200 and json.loads(body)["status"] == "ok", "healthz without a token")
        status, h, _ = svc.request("GET", "/v1/boards", token=None)
        ok(status == 401 and "Bearer" in h.get("WWW-Authenticate", ""), "401 without the token")
        status, _, _ = svc.request("GET", "/v1/boards", token="wrong-token-wrong-token")
        ok(status == 401, "401 with a wrong token")
        status, _, body = svc.request("GET", "/v1/boards")
        ok(status == 200 and [b["name"] for b in json.loads(body)["boards"]] == ["demo"],
           "GET /v1/boards lists the board")

        status, h, body = svc.inspect("demo", photo, unit="SN-0001")
        rep = json.loads(body) if status == 200 else {}
        ok(status == 200 and rep.get("version") == 1 and rep.get("verdict") == "fail"
           and len(rep.get("findings", [])) >= 1 and h.get("X-Pcbdiff-Verdict") == "fail"
           and rep["inputs"]["photo"]["sha256"] == hashlib.sha256(photo).hexdigest(),
           "200 and the version-1 report for the demo photo")
        status, _, body = svc.inspect("demo", b"this is no image at all")
        ok(status == 400 and json.loads(body)["error"]["code"] == "decode", "400 for no image")
        status, _, body = svc.inspect("demo", photo[: len(photo) // 2])
        ok(status == 400, "400 for a truncated JPEG")
        status, _, body = svc.inspect("nosuchboard", photo)
        ok(status == 404 and "unknown board" in json.loads(body)["error"]["message"],
           "404 for an unknown board")
        status, _, _ = svc.inspect("demo", os.urandom(1536 * 1024))
        ok(status == 413, "413 over the size cap")
        status, _, body = svc.inspect("demo", open(NOT_A_BOARD, "rb").read(), unit="SN-0002")
        ok(status == 422 and json.loads(body)["error"]["code"] == "register",
           "422 for a photo that does not register")
        status, _, _ = svc.request("POST", "/v1/inspect?board=demo&colour=red", photo)
        ok(status == 400, "400 for an unknown query parameter")

        # a full queue: 1 worker + 1 waiting, 8 at once
        answers = []

        def post(i):
            answers.append(svc.inspect("demo", photo, unit="Q%d" % i))
        threads = [threading.Thread(target=post, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(a[0] for a in answers)
        busy = [a for a in answers if a[0] == 503]
        ok(codes.count(200) >= 2 and busy and all(int(a[1]["Retry-After"]) >= 1 for a in busy)
           and set(codes) <= {200, 503}, "503 with Retry-After when the queue is full (%s)" % codes)
        n200 = 1 + codes.count(200)

        m = svc.metrics()
        ok('pcbdiff_requests_total{endpoint="/v1/inspect",code="200"} %d' % n200 in m
           and 'pcbdiff_requests_total{endpoint="/v1/inspect",code="503"}' in m
           and "pcbdiff_inspection_seconds_count" in m and 'le="+Inf"' in m
           and 'pcbdiff_verdicts_total{verdict="fail"} %d' % n200 in m
           and "pcbdiff_queue_depth 0" in m and "pcbdiff_cfx_spooled" in m,
           "metrics count requests, latency, verdicts and the queue")

        # every result reached the broker, once, with the right envelope
        deadline = time.time() + 30
        while svc.metric("pcbdiff_cfx_spooled") not in (0.0,) and time.time() < deadline:
            time.sleep(0.2)
        msgs = receive_all(bport, "cfx")
        ids = [x.id for x in msgs]
        units = {}
        envs_ok = True
        for x in msgs:
            env = json.loads(bytes(x.body).decode())
            unit = env["MessageBody"]["InspectedUnits"][0]["UnitIdentifier"]
            result = "Error" if unit == "SN-0002" else "Failed"
            good, _ = check_envelope(x, unit, result)
            envs_ok = envs_ok and good
            units[unit] = units.get(unit, 0) + 1
        ok(len(msgs) == n200 + 1 and len(set(ids)) == len(ids) and "SN-0001" in units
           and "SN-0002" in units, "one CFX message per inspection (%d)" % len(msgs))
        ok(envs_ok, "the CFX envelopes: names, $type, AOI, units, defects, regions")

        # broker down: inspections go on, results wait on disk
        broker.stop()
        for i in range(3):
            status, _, _ = svc.inspect("demo", photo, unit="DOWN-%d" % i)
            if status != 200:
                break
        spooled = sorted(f for f in os.listdir(spool) if f.endswith(".json"))
        ok(status == 200 and len(spooled) == 3, "broker down: still inspecting, 3 results spooled")
        spooled_ids = [f.split("-", 1)[1][:-5] for f in spooled]

        # broker back: delivered, nothing lost, nothing twice
        broker.start()
        deadline = time.time() + 60
        while os.listdir(spool) and [f for f in os.listdir(spool) if f.endswith(".json")] \
                and time.time() < deadline:
            time.sleep(0.2)
        msgs = receive_all(bport, "cfx")
        got = sorted(x.id for x in msgs)
        ok(got == sorted(spooled_ids), "broker back: the 3 spooled results delivered once each")

        # the hot folder takes a photo only once it is completely written
        dest = os.path.join(hot, "demo", "slow-unit.jpg")
        with open(dest, "wb") as f:
            f.write(photo[:1000])
            f.flush()
            time.sleep(2.5)  # well over the one-second stillness the scan waits for
            f.write(photo[1000:])
        report = os.path.join(hot, "demo", "done", "slow-unit.jpg.json")
        deadline = time.time() + 60
        while not os.path.exists(report) and time.time() < deadline:
            time.sleep(0.2)
        rep = json.load(open(report)) if os.path.exists(report) else {}
        ok(rep.get("inputs", {}).get("photo", {}).get("sha256")
           == hashlib.sha256(photo).hexdigest()
           and os.path.exists(os.path.join(hot, "demo", "done", "slow-unit.jpg"))
           and not os.path.exists(os.path.join(hot, "demo", "failed")),
           "hot folder: the whole file inspected once, report and photo in done/")

        # SIGTERM: stop taking work, finish what is queued, exit 0
        answers = []
        threads = [threading.Thread(target=post, args=(i,)) for i in (100, 101)]
        for t in threads:
            t.start()
        deadline = time.time() + 30
        while svc.metric("pcbdiff_queue_depth") != 1.0 and time.time() < deadline:
            time.sleep(0.05)
        svc.proc.send_signal(signal.SIGTERM)
        # the next request once the service has taken the signal (it logs it), while the queued
        # work is still under way: not a fixed sleep, which a fast or a loaded machine outruns
        deadline = time.time() + 30
        while not any("stopping:" in line for line in list(svc.log)) and time.time() < deadline:
            time.sleep(0.005)
        late = svc.inspect("demo", photo, unit="LATE")
        for t in threads:
            t.join()
        code = svc.proc.wait(timeout=120)
        ok(sorted(a[0] for a in answers) == [200, 200], "SIGTERM: the queued inspections finish")
        ok(late[0] == 503, "SIGTERM: new work is refused (503)")
        ok(code == 0, "SIGTERM: exit 0")
        msgs = receive_all(bport, "cfx")
        ok(sorted(json.loads(bytes(x.body))["MessageBody"]["InspectedUnits"][0]["UnitIdentifier"]
                  for x in msgs) == ["Q100", "Q101", "slow-unit"],
           "at exit the broker got the last results")

        # signed reports
        key = os.path.join(tmp, "key.pem")
        subprocess.run([PCBDIFF, "keygen", "--out", key], check=True, capture_output=True)
        svc = Service(["--boards", boards, "--listen", "127.0.0.1:0", "--sign", key])
        status, _, body = svc.inspect("demo", photo, token=None)
        rep_path = os.path.join(tmp, "signed.json")
        open(rep_path, "wb").write(body)
        v = subprocess.run([PCBDIFF, "verify", rep_path, "--pubkey", key + ".pub"],
                           capture_output=True)
        ok(status == 200 and "signature" in json.loads(body) and v.returncode == 0,
           "--sign: the report is signed and verifies")
        # a client that hangs up during its inspection: the service goes on, and still stops
        host, port = svc.url[len("http://"):].split(":")
        with socket.create_connection((host, int(port))) as c:
            c.sendall(b"POST /v1/inspect?board=demo&unit=GONE HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(photo) + photo)
            time.sleep(0.1)
        time.sleep(0.2)
        status, _, _ = svc.inspect("demo", photo, token=None)
        ok(status == 200, "a client hanging up mid-inspection does not disturb the next")
        ok(svc.stop(signal.SIGINT) == 0, "SIGINT: exit 0")

        # a bounded spool: full -> 503; what a stopped service leaves is sent by the next one
        spool2 = os.path.join(tmp, "spool2")
        svc = Service(["--boards", boards, "--listen", "127.0.0.1:0", "--amqp",
                       "amqp://127.0.0.1:%d" % free_port(), "--amqp-address", "cfx",
                       "--amqp-spool", spool2, "--amqp-spool-max", "1", "--drain-seconds", "0"])
        first = svc.inspect("demo", photo, unit="KEPT", token=None)
        second = svc.inspect("demo", photo, unit="REFUSED", token=None)
        ok(first[0] == 200 and second[0] == 503 and "spool is full" in second[2].decode()
           and "Retry-After" in second[1], "a full CFX spool refuses new work (503)")
        ok(svc.stop() == 0 and len(os.listdir(spool2)) == 1,
           "stopped with the broker away: the result stays in the spool")
        svc = Service(["--boards", boards, "--listen", "127.0.0.1:0", "--amqp",
                       "amqp://127.0.0.1:%d" % bport, "--amqp-address", "cfx",
                       "--amqp-spool", spool2])
        deadline = time.time() + 30
        while os.listdir(spool2) and time.time() < deadline:
            time.sleep(0.1)
        msgs = receive_all(bport, "cfx")
        svc.stop()
        ok([json.loads(bytes(x.body))["MessageBody"]["InspectedUnits"][0]["UnitIdentifier"]
            for x in msgs] == ["KEPT"], "the next start delivers what the last one kept")
    finally:
        for svc in SERVICES:
            if svc.proc.poll() is None:
                svc.proc.kill()
                svc.proc.wait()
        if broker:
            broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
