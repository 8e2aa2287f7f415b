#!/usr/bin/python3
"""pcbdiff watch (bench mode) end to end: the real binary on a real folder, its real HTTP page.

Photos are dropped into the folder one after another as a tethered camera would, including
one written slowly in pieces (half, a pause several times the settle window, the rest; once
with the file kept open, once closed and reopened between the pieces, so that a close-write
event comes half way), a corrupt one, one of another board, one that arrives under a
temporary name and is renamed, and hidden and temporary files. Each photo must appear exactly
once, in arrival order, with its verdict (the JSON endpoint and the written reports agree,
and the slow ones were inspected whole: the report's sha256 is that of the complete file).
Also: the page and the out folder are served and nothing else, bad requests are refused,
a busy port and a missing folder give exit 2 and one line, SIGTERM stops it with exit 0.

Prints TAP for prove. Needs $PCBDIFF and $SRCDIR (make check sets them). Nothing here waits
on wall-clock performance: the only timeouts catch a hang.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PCBDIFF = os.environ.get("PCBDIFF", "build/pcbdiff")
SRCDIR = os.environ.get("SRCDIR", ".")
BOARD = os.path.join(SRCDIR, "reference-boards", "demo")
SAMPLES = os.path.join(SRCDIR, "samples")
SETTLE = 0.3   # seconds (--settle): the test's pauses are several times longer
GIVE_UP = 20   # seconds (--give-up): far longer than any pause here
HANG_S = 120   # a hung run fails instead of blocking make test

count = 0
failed = 0


def ok(cond, name, detail=""):
    global count, failed
    count += 1
    if not cond:
        failed += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (count, name))
    if not cond and detail:
        for line in str(detail).splitlines():
            print("# " + line)
    sys.stdout.flush()
    return cond


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def get(url, method="GET", headers=None):
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Watch:
    """pcbdiff watch running in the background; its stderr is collected in a file."""

    def __init__(self, folder, out, *extra):
        self.err_path = os.path.join(os.path.dirname(out), "watch.stderr")
        self.errf = open(self.err_path, "w")
        self.proc = subprocess.Popen(
            [PCBDIFF, "watch", "--board", BOARD, folder, "--out", out, "--listen", "127.0.0.1:0",
             "--settle", str(SETTLE), "--give-up", str(GIVE_UP)] + list(extra),
            stdout=subprocess.PIPE, stderr=self.errf, text=True)
        self.url = None
        end = time.time() + 30
        while time.time() < end and self.url is None:
            m = re.search(r"page (http://[^;\s]+)", open(self.err_path).read())
            if m:
                self.url = m.group(1).rstrip("/")
            elif self.proc.poll() is not None:
                break
            else:
                time.sleep(0.05)
        if self.url is None:
            raise RuntimeError("pcbdiff watch did not start: " + open(self.err_path).read())

    def session(self):
        status, body = get(self.url + "/api/session")
        assert status == 200, status
        return json.loads(body)

    def wait_results(self, n, what):
        end = time.time() + HANG_S
        while time.time() < end:
            s = self.session()
            if len(s["results"]) >= n:
                return s
            time.sleep(0.1)
        raise RuntimeError("timed out waiting for %s; stderr:\n%s" % (what, self.stderr()))

    def stderr(self):
        return open(self.err_path).read()

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        out, _ = self.proc.communicate(timeout=60)
        self.errf.close()
        return self.proc.returncode, out


def slow_write(path, data, reopen):
    """Half the file, a pause of several settle windows, the rest."""
    half = len(data) // 2
    f = open(path, "wb")
    f.write(data[:half])
    f.flush()
    os.fsync(f.fileno())
    if reopen:
        f.close()  # a close-write event now, half way
    time.sleep(SETTLE * 5)
    if reopen:
        f = open(path, "ab")
    f.write(data[half:])
    f.close()


def main():
    tmp = tempfile.mkdtemp(prefix="pcbdiff-watch-test-")
    folder = os.path.join(tmp, "camera")
    out = os.path.join(tmp, "results")
    os.mkdir(folder)
    implant = read(os.path.join(SAMPLES, "implant-bmc.jpg"))
    clean = read(os.path.join(SAMPLES, "clean-rotated.jpg"))
    removed = read(os.path.join(SAMPLES, "removed-passive.jpg"))
    upside = read(os.path.join(SAMPLES, "implant-upside-down.jpg"))
    other = read(os.path.join(SRCDIR, "tests", "watch", "other-board.jpg"))
    # a JPEG whose structure is whole (SOI ... EOI) but whose data is not an image
    corrupt = implant[:200] + bytes(range(256)) * 20 + b"\xff\xd9"
    # there before the session: left alone
    with open(os.path.join(folder, "before.jpg"), "wb") as f:
        f.write(clean)
    old = time.time() - 3600
    os.utime(os.path.join(folder, "before.jpg"), (old, old))

    print("1..31")
    w = Watch(folder, out)
    try:
        s = w.session()
        ok(s["results"] == [] and s["waiting"] == [] and s["board"] == "demo",
           "a new session: no results, nothing waiting, the board named", s)
        ok("already in" in w.stderr() and "left alone" in w.stderr(),
           "the photo already there is left alone, and it says so", w.stderr())

        expected = []  # (name, bytes, verdict)

        def drop(name, data, verdict):
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)
            expected.append((name, data, verdict))

        drop("01-implant.jpg", implant, "fail")
        # ignored: hidden, temporary
        for name in (".01-hidden.jpg", "02-partial.jpg.part", "03-temp.tmp", "notes.txt"):
            with open(os.path.join(folder, name), "wb") as f:
                f.write(implant)
        # written slowly, kept open; a whole photo lands while it pauses: it comes after
        slow = os.path.join(folder, "02-slow-open.jpg")
        half = len(clean) // 2
        f = open(slow, "wb")
        f.write(clean[:half])
        f.flush()
        os.fsync(f.fileno())
        expected.append(("02-slow-open.jpg", clean, "pass"))
        time.sleep(SETTLE * 2.5)
        drop("03-removed.jpg", removed, "fail")
        time.sleep(SETTLE * 2.5)
        s_mid = w.session()
        f.write(clean[half:])
        f.close()
        ok(all(r["photo"] != "02-slow-open.jpg" for r in s_mid["results"])
           and any(x["photo"] == "02-slow-open.jpg" and x["state"] == "writing"
                   for x in s_mid["waiting"]),
           "half written after 5 settle windows: waiting as being written, not inspected", s_mid)
        # written slowly, closed and reopened between the pieces
        slow_write(os.path.join(folder, "04-slow-reopened.jpg"), upside, reopen=True)
        expected.append(("04-slow-reopened.jpg", upside, "fail"))
        drop("05-corrupt.jpg", corrupt, "error")
        drop("06-other-board.jpg", other, "error")
        # the camera's temporary name, then renamed into place
        tmpname = os.path.join(folder, "07-renamed.jpg.part")
        with open(tmpname, "wb") as f:
            f.write(clean)
        os.rename(tmpname, os.path.join(folder, "07-renamed.jpg"))
        expected.append(("07-renamed.jpg", clean, "pass"))

        s = w.wait_results(len(expected), "%d results" % len(expected))
        names = [r["photo"] for r in s["results"]]
        want = [e[0] for e in expected]
        ok(names == want, "each photo once, in arrival order", "got %s\nwant %s" % (names, want))
        verdicts = [r["verdict"] for r in s["results"]]
        ok(verdicts == [e[2] for e in expected], "each with its verdict", verdicts)
        ok([r["seq"] for r in s["results"]] == list(range(1, len(expected) + 1)),
           "numbered 1..n in order", [r["seq"] for r in s["results"]])
        byname = {r["photo"]: r for r in s["results"]}
        for name in ("02-slow-open.jpg", "04-slow-reopened.jpg"):
            data = dict((e[0], e[1]) for e in expected)[name]
            ok(byname[name].get("sha256") == sha256(data) and "error" not in byname[name],
               "%s (written in pieces) inspected whole" % name, byname[name])
        c = byname["05-corrupt.jpg"]
        ok(c["error"]["code"] == "decode" and c["exit"] == 2 and c["error"]["message"],
           "the corrupt photo: a decode error with its reason", c)
        o = byname["06-other-board.jpg"]
        ok(o["error"]["code"] == "register" and o["exit"] == 3,
           "the other board's photo: not registered (exit 3), with its reason", o)
        ok(byname["01-implant.jpg"]["findings"][0]["kind"] == "added"
           and byname["01-implant.jpg"]["findings"][0]["zone"] == "BMC",
           "the implant is found in the BMC zone", byname["01-implant.jpg"]["findings"])
        ok(s["counts"] == {"pass": 2, "fail": 3, "incomplete": 0, "error": 2}, "the counts",
           s["counts"])

        # the written reports say the same, and each has its review page
        agree = True
        detail = ""
        for r in s["results"]:
            rep = json.load(open(os.path.join(out, r["report"])))
            page = os.path.join(out, r["review"])
            if rep["verdict"] != r["verdict"] or not os.path.isfile(page) \
                    or rep["inputs"]["photo"]["sha256"] != r["sha256"]:
                agree = False
                detail += "%s: report %s, page %s\n" % (r["photo"], rep["verdict"],
                                                        os.path.isfile(page))
        ok(agree, "reports and review pages written, agreeing with the page", detail)
        ok(re.search(r"\[0005\] 05-corrupt\.jpg: error \(decode\)", w.stderr()) is not None
           and re.search(r"\[0006\] 06-other-board\.jpg: error \(not registered\)",
                         w.stderr()) is not None,
           "progress lines on stderr say why a photo failed", w.stderr())

        # nothing more happens: no second inspection of anything (a listing runs every second)
        time.sleep(2.5)
        ok(len(w.session()["results"]) == len(expected), "no photo inspected twice")
        # a photo changed in place after its inspection is not inspected again, and it says so
        with open(os.path.join(folder, "01-implant.jpg"), "ab") as f:
            f.write(b"\0")
        time.sleep(2.5)
        ok(len(w.session()["results"]) == len(expected) and "changed after it was inspected"
           in w.stderr(), "changed in place after inspection: said, not inspected again",
           w.stderr()[-500:])

        # the page and its files
        status, body = get(w.url + "/")
        ok(status == 200 and b'id="verdict"' in body and b"data-verdict" in body
           and b"data-finding-index" in body, "the page is served with its hooks")
        first = s["results"][0]
        status, body = get(w.url + "/out/" + first["review"])
        ok(status == 200 and b"<html" in body, "the review page is served from /out/")
        status, body = get(w.url + "/out/" + first["overview"])
        ok(status == 200 and body[:2] == b"\xff\xd8", "its images too")
        status1, _ = get(w.url + "/out/%2e%2e/camera/01-implant.jpg")
        status2, _ = get(w.url + "/out/..%2fcamera%2f01-implant.jpg")
        status3, _ = get(w.url + "/out/watch.stderr")
        ok(status1 == 404 and status2 in (400, 404) and status3 == 404,
           "nothing outside the out folder, nothing but reports, pages and images",
           (status1, status2, status3))
        status, _ = get(w.url + "/api/session", method="POST")
        ok(status == 405, "read-only: POST refused", status)
        status, _ = get(w.url + "/api/session", headers={"Host": "attacker.example:80"})
        ok(status == 403, "a foreign Host header is refused on loopback (DNS rebinding)", status)

        # a second watch on the same port: one line, exit 2
        port = w.url.rsplit(":", 1)[1]
        r = subprocess.run([PCBDIFF, "watch", "--board", BOARD, folder, "--out", out,
                            "--listen", "127.0.0.1:" + port], capture_output=True, text=True,
                           timeout=60)
        ok(r.returncode == 2 and "cannot listen on 127.0.0.1:" + port in r.stderr
           and len(r.stderr.strip().splitlines()) == 1,
           "port in use: exit 2, one line", "%d %r" % (r.returncode, r.stderr))
    finally:
        code, stdout = w.stop()
    ok(code == 0, "SIGTERM: exit 0", "%d\n%s" % (code, w.stderr()[-800:]))
    lines = [json.loads(x) for x in stdout.splitlines() if x.strip()]
    ok([x["photo"] for x in lines] == [e[0] for e in expected],
       "one JSON line per photo on stdout, in order", [x.get("photo") for x in lines])
    sessions = [n for n in os.listdir(out) if n.startswith("session-")]
    ok(len(sessions) == 1 and
       len(json.load(open(os.path.join(out, sessions[0])))["results"]) == len(expected),
       "the session's history is kept in the out folder", sessions)

    # bad starts: one line, exit 2
    r = subprocess.run([PCBDIFF, "watch", "--board", BOARD, os.path.join(tmp, "nowhere")],
                       capture_output=True, text=True, timeout=60)
    ok(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "no such folder"
       in r.stderr, "missing folder: exit 2, one line", "%d %r" % (r.returncode, r.stderr))
    r = subprocess.run([PCBDIFF, "watch", "--board", BOARD, folder, "--settle", "0"],
                       capture_output=True, text=True, timeout=60)
    ok(r.returncode == 2 and "--settle" in r.stderr, "absurd --settle: exit 2",
       "%d %r" % (r.returncode, r.stderr))
    r = subprocess.run([PCBDIFF, "watch", "--board", BOARD, folder, "--listen", "nowhere:99"],
                       capture_output=True, text=True, timeout=60)
    ok(r.returncode == 2 and "--listen" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
       "bad --listen: exit 2, one line", "%d %r" % (r.returncode, r.stderr))

    # --existing takes the photos already there; the folder going away ends the session
    gone = os.path.join(tmp, "gone")
    os.mkdir(gone)
    with open(os.path.join(gone, "old.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xd9")
    w2 = Watch(gone, os.path.join(tmp, "gone-out"), "--existing")
    s = w2.wait_results(1, "the existing photo")
    ok([r["photo"] for r in s["results"]] == ["old.jpg"], "--existing inspects what was there",
       s["results"])
    shutil.rmtree(gone)
    try:
        code = w2.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        code, _ = w2.stop()
    w2.errf.close()
    ok(code == 2 and "went away" in w2.stderr(), "the folder going away: exit 2, one line",
       "%s %r" % (code, w2.stderr()[-300:]))

    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGALRM, lambda *_: (print("Bail out! test-watch hung"), os._exit(1)))
    signal.alarm(HANG_S * 3)
    sys.exit(main())
