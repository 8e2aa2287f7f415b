#!/usr/bin/python3
"""The review page (pcbdiff inspect --html) in Debian's headless Chromium, driven through
chromedriver's W3C WebDriver HTTP API with the standard library only (no npm, no selenium).

Also the live page of pcbdiff watch: it follows a session as photos arrive, with the same hooks;
and the batch index page of pcbdiff db review: rows, filters, sorting, links to review pages.

Prints TAP for prove. Needs $PCBDIFF (the binary) and $SRCDIR (the source tree), which
`make check` sets. Starts and stops its own chromedriver (in its own process group, so the
browsers it started go with it) on a free port, with a fresh profile in a temporary folder.
Skips when chromium or chromedriver is not installed (scripts/install-deps.sh installs them).
"""
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PCBDIFF = os.environ.get("PCBDIFF", "build/pcbdiff")
SRCDIR = os.environ.get("SRCDIR", ".")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
DEADLINE_S = 150  # the whole test; it takes a few seconds

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


class WebDriver:
    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port
        self.sid = None

    def call(self, method, path, body=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read().decode())["value"]
        except urllib.error.HTTPError as e:
            raise RuntimeError("%s %s: %s" % (method, path, e.read().decode()[:500]))

    def session(self, profile):
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--allow-file-access-from-files",
                         "--user-data-dir=" + profile, "--window-size=1366,768",
                         "--no-first-run", "--disable-extensions"]}}}}
        self.sid = self.call("POST", "/session", caps, timeout=60)["sessionId"]

    def s(self, method, path, body=None):
        return self.call(method, "/session/%s%s" % (self.sid, path), body)

    def go(self, url):
        self.s("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css):
        return self.s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def type_into(self, css, text):
        self.s("POST", "/element/%s/value" % self.find(css), {"text": text})

    def click(self, css):
        self.s("POST", "/element/%s/click" % self.find(css), {})

    def key(self, k):
        """A key press sent to whatever has the focus (the page's document)."""
        k = {"ArrowLeft": "\ue012", "ArrowRight": "\ue014"}.get(k, k)
        self.s("POST", "/actions", {"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": k}, {"type": "keyUp", "value": k}]}]})

    def wait(self, script, what, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if self.js(script):
                return True
            time.sleep(0.05)
        raise RuntimeError("timed out waiting for " + what)

    def quit(self):
        if self.sid is not None:
            try:
                self.call("DELETE", "/session/" + self.sid, timeout=10)
            except Exception:
                pass
            self.sid = None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args):
    return subprocess.run([PCBDIFF] + list(args), capture_output=True, text=True, timeout=120)


def inspect(tmp, name, photo, *extra):
    report = os.path.join(tmp, name + ".json")
    page = os.path.join(tmp, name + ".html")
    r = run("inspect", "--board", os.path.join(SRCDIR, "reference-boards", "demo"),
            os.path.join(SRCDIR, "samples", photo), "--json", report, "--html", page, "-q", *extra)
    if r.returncode not in (0, 1):
        raise RuntimeError("pcbdiff inspect exit %d: %s" % (r.returncode, r.stderr))
    with open(report) as f:
        return report, page, json.load(f)


def open_page(wd, page):
    wd.go("file://" + page)
    wd.wait("return document.body.dataset.ready === 'true'", "the page's script")
    # every image shown so far has loaded from the sibling folder
    wd.wait("return [...document.images].filter(i => i.offsetParent !== null)"
            ".every(i => i.complete)", "the images")


def test_pass_page(wd, tmp):
    _, page, rep = inspect(tmp, "pass", "clean-rotated.jpg")
    open_page(wd, page)
    ok(wd.js("return document.querySelector('[data-verdict]').dataset.verdict") == rep["verdict"],
       "pass page: data-verdict is the report's (%s)" % rep["verdict"])
    ok(wd.js("return document.querySelectorAll('[data-finding-index]').length") == 0,
       "pass page: no finding elements")


def test_review_flow(wd, tmp):
    report, page, rep = inspect(tmp, "fail", "removed-passive.jpg", "--sensitivity", "4")
    n = len(rep["findings"])
    open_page(wd, page)
    ok(wd.js("return document.querySelector('[data-verdict]').dataset.verdict") == rep["verdict"],
       "data-verdict is the report's (%s)" % rep["verdict"])
    got = wd.js("return [...document.querySelectorAll('[data-finding-index]')]"
                ".map(e => [+e.dataset.findingIndex, e.dataset.kind])")
    ok(got == [[i, f["kind"]] for i, f in enumerate(rep["findings"])],
       "one [data-finding-index] per finding, in report order, with its kind (%d)" % n, got)
    bad = wd.js("return [...document.images].filter(i => i.offsetParent !== null)"
                ".filter(i => !(i.naturalWidth > 0)).map(i => i.src)")
    ok(bad == [], "the overview and the first finding's crops load from the page's folder", bad)
    weight = os.path.getsize(page) + sum(
        os.path.getsize(os.path.join(page + ".d", f)) for f in os.listdir(page + ".d"))
    ok(weight < 10e6, "page weight %.0f KiB" % (weight / 1024))

    cur = "document.querySelector('.finding:not([hidden])')"
    # flicker: the one image switches between the reference and the photo crops
    before = wd.js("const i = %s.querySelector('img.flick'); return [i.src, i.dataset.showing]" % cur)
    wd.key("f")
    after = wd.js("const i = %s.querySelector('img.flick'); return [i.src, i.dataset.showing]" % cur)
    ok(before[1] == "reference" and after[1] == "photo" and before[0] != after[0]
       and after[0].endswith("-photo.jpg"), "f flips the flicker view to the photo", [before, after])
    wd.key("f")
    ok(wd.js("return %s.querySelector('img.flick').dataset.showing" % cur) == "reference",
       "f again flips back")
    # swipe: the slider moves the cut
    clip = wd.js("const r = %s.querySelector('.swipe input'); r.value = 20;"
                 "r.dispatchEvent(new Event('input')); return %s.querySelector('.swipe .clip')"
                 ".style.clipPath" % (cur, cur))
    ok("20%" in clip, "the swipe slider moves the cut", clip)
    # zoom
    wd.key("+")
    z = wd.js("return %s.zoomState.s" % cur)
    wd.key("0")
    ok(z > 1 and wd.js("return %s.zoomState.s" % cur) == 1, "+ zooms, 0 resets", z)

    # decisions: c on the first finding; n, r on the second
    wd.key("c")
    ok(wd.js("return document.querySelector('[data-finding-index=\"0\"]').dataset.verification")
       == "DefectConfirmed", "c confirms the current finding")
    sha = rep["inputs"]["photo"]["sha256"]
    stored = json.loads(wd.js("return localStorage.getItem(arguments[0])",
                              "pcbdiff-review/" + sha) or "{}")
    ok(stored.get("decisions", {}).get("0") == "DefectConfirmed",
       "the decision is kept in localStorage under the photo's sha256", stored)
    want = {0: "DefectConfirmed"}
    if n >= 2:
        wd.key("n")
        ok(wd.js("return +document.body.dataset.current") == 1, "n moves to the next finding")
        wd.key("r")
        wd.key("ArrowLeft")
        ok(wd.js("return +document.body.dataset.current") == 0, "ArrowLeft moves back")
        want[1] = "DefectRejected"
    if n >= 3:
        wd.js("window.pcbdiffShow(2)")
        wd.key("a")
        want[2] = "DefectAccepted"
    # the decisions survive a reload
    open_page(wd, page)
    vs = wd.js("return [...document.querySelectorAll('[data-finding-index]')]"
               ".map(e => e.dataset.verification)")
    ok(all(vs[i] == want.get(i, "NotVerifiedYet") for i in range(n)),
       "decisions survive a reload", vs)

    # export without a name is refused; with one, the decisions JSON round-trips through decide
    wd.click("#export")
    ok(wd.js("return document.getElementById('msg').textContent") != "",
       "export asks for the operator's name first")
    wd.type_into("#operator", "Ada Lovelace")
    d = wd.js("return window.pcbdiffDecisions()")
    ok(d["version"] == 1 and d["report"] == sha and d["operator"] == "Ada Lovelace"
       and [f["index"] for f in d["findings"]] == list(range(n)),
       "pcbdiffDecisions() gives the decisions JSON", d)
    dec = os.path.join(tmp, "decisions.json")
    with open(dec, "w") as f:
        json.dump(d, f)
    out = os.path.join(tmp, "decided.json")
    r = run("decide", report, dec, "--out", out)
    ok(r.returncode == 0, "pcbdiff decide exits 0", r.stderr)
    with open(out) as f:
        decided = json.load(f)
    got = [f.get("verification") for f in decided["findings"]]
    ok(got == [want.get(i, "NotVerifiedYet") for i in range(n)]
       and decided["review"]["operator"] == "Ada Lovelace"
       and decided["review"]["decided_at"] == d["decided_at"],
       "the decided report carries each verification and the review", got)
    # a decisions file for another report is refused
    d["report"] = "0" * 64
    with open(dec, "w") as f:
        json.dump(d, f)
    r = run("decide", report, dec, "--out", out)
    ok(r.returncode == 2 and r.stderr.count("\n") == 1 and "not this one" in r.stderr,
       "decide refuses decisions for another report (exit 2, one line)", r.stderr)


def test_watch_page(wd, tmp):
    """pcbdiff watch's live page: it follows the session as photos arrive (polling)."""
    folder = os.path.join(tmp, "camera")
    os.mkdir(folder)
    err = open(os.path.join(tmp, "watch.stderr"), "w")
    watch = subprocess.Popen([PCBDIFF, "watch", "--board",
                              os.path.join(SRCDIR, "reference-boards", "demo"), folder,
                              "--out", os.path.join(tmp, "watch-out"), "--listen", "127.0.0.1:0",
                              "--settle", "0.2"], stdout=subprocess.DEVNULL, stderr=err)
    try:
        url = None
        end = time.time() + 30
        while url is None and time.time() < end and watch.poll() is None:
            with open(err.name) as f:
                for line in f:
                    if "page http://" in line:
                        url = line.split("page ", 1)[1].split(";")[0]
            time.sleep(0.05)
        if url is None:
            raise RuntimeError("pcbdiff watch did not start")
        wd.go(url)
        wd.wait("return document.body.dataset.ready === 'true'", "the watch page's first poll")
        ok(wd.js("return document.querySelector('[data-verdict]').dataset.verdict") == "",
           "watch page: no verdict before the first photo")
        shutil.copy(os.path.join(SRCDIR, "samples", "implant-bmc.jpg"),
                    os.path.join(folder, "board-1.jpg"))
        wd.wait("return document.body.dataset.results === '1'", "the first result", timeout=60)
        ok(wd.js("return document.querySelector('[data-verdict]').dataset.verdict") == "fail",
           "watch page: the latest verdict appears live (fail)")
        kinds = wd.js("return [...document.querySelectorAll('#findings [data-finding-index]')]"
                      ".map(e => e.dataset.kind)")
        ok(kinds == ["added"], "watch page: its finding, with data-kind", kinds)
        shutil.copy(os.path.join(SRCDIR, "samples", "clean-rotated.jpg"),
                    os.path.join(folder, "board-2.jpg"))
        wd.wait("return document.body.dataset.results === '2'", "the second result", timeout=60)
        ok(wd.js("return document.querySelector('#verdict').dataset.verdict") == "pass"
           and wd.js("return document.querySelectorAll('#history tr[data-seq]').length") == 2,
           "watch page: the next photo replaces it (pass), the history has both")
        href = wd.js("return document.querySelector('#review').href")
        wd.go(href)
        wd.wait("return document.body.dataset.ready === 'true'", "the review page over HTTP")
        ok(wd.js("return document.querySelector('[data-verdict]').dataset.verdict") == "pass",
           "watch page: its link opens the photo's review page")
    finally:
        watch.send_signal(signal.SIGTERM)
        try:
            watch.wait(timeout=30)
        except subprocess.TimeoutExpired:
            watch.kill()
        err.close()
    ok(watch.returncode == 0, "watch stops on SIGTERM with exit 0", watch.returncode)


def test_index_page(wd, tmp):
    """pcbdiff db review's index of a batch (batch --out --html): rows, filter, sort, a link."""
    photos = os.path.join(tmp, "batch-photos")
    os.mkdir(photos)
    for name in ("clean-rotated.jpg", "removed-passive.jpg", "implant-bmc.jpg"):
        shutil.copy(os.path.join(SRCDIR, "samples", name), photos)
    with open(os.path.join(photos, "corrupt.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff not a JPEG")
    db = os.path.join(tmp, "batch.sqlite")
    out = os.path.join(tmp, "batch-out")
    r = run("batch", "--board", os.path.join(SRCDIR, "reference-boards", "demo"), "--db", db,
            "--out", out, "--html", "-q", photos)
    if r.returncode != 2:  # the corrupt photo
        raise RuntimeError("pcbdiff batch exit %d: %s" % (r.returncode, r.stderr))
    r = run("db", "review", db, out)
    ok(r.returncode == 0 and "4 with a review page" in r.stdout, "db review exits 0",
       r.stdout + r.stderr)
    wd.go("file://" + os.path.join(out, "index.html"))
    wd.wait("return document.body.dataset.ready === 'true'", "the index page's script")
    rows = "[...document.querySelectorAll('#photos tbody tr')]"
    shown = rows + ".filter(t => !t.hidden)"
    ok(wd.js("return %s.length" % rows) == 4, "index: one row per photo (4)")
    ok(sorted(wd.js("return %s.map(t => t.dataset.verdict)" % rows))
       == ["error", "fail", "fail", "pass"] and
       wd.js("return %s.every(t => t.dataset.board === 'demo')" % rows),
       "index: data-verdict and data-board on each row")
    wd.js("const s = document.getElementById('f-verdict'); s.value = 'fail';"
          "s.dispatchEvent(new Event('change'))")
    ok(wd.js("return %s.map(t => t.dataset.verdict)" % shown) == ["fail", "fail"],
       "index: the verdict filter leaves the two fails")
    wd.click("#photos th[data-key='score']")
    up = wd.js("return %s.map(t => +t.children[6].textContent)" % shown)
    wd.click("#photos th[data-key='score']")
    down = wd.js("return %s.map(t => +t.children[6].textContent)" % shown)
    ok(up == sorted(up) and down == sorted(up, reverse=True) and up[0] < up[1],
       "index: the score column sorts up, then down", [up, down])
    wd.js("const s = document.getElementById('f-verdict'); s.value = '';"
          "s.dispatchEvent(new Event('change'))")
    wd.type_into("#f-score", "%.3f" % ((up[0] + up[1]) / 2))  # between the two fails' scores
    ok(wd.js("return %s.length" % shown) == 1, "index: a minimum score filters rows")
    wd.click("#f-clear")
    ok(wd.js("return %s.length" % shown) == 4, "index: clear shows every row again")
    # a large database: the first 500 rows, then 500 more on a click (rows copied in SQLite)
    big = os.path.join(tmp, "big.sqlite")
    shutil.copy(db, big)
    with sqlite3.connect(big) as con:
        cols = ("photo_path, photo_sha256, board, reference_sha256, params_sha256, unit_id, "
                "verdict, n_findings, exit_code, reason, report_json, finished_at, prev_hash, "
                "row_hash")
        for i in range(150):
            con.execute("INSERT INTO inspections (key, %s) SELECT key || '-%d', %s FROM "
                        "inspections WHERE id <= 4" % (cols, i, cols))
    big_out = os.path.join(tmp, "big-index")
    r = run("db", "review", "--pages", out, big, big_out)
    ok(r.returncode == 0 and "604 photos" in r.stdout, "db review of 604 rows", r.stdout + r.stderr)
    wd.go("file://" + os.path.join(big_out, "index.html"))
    wd.wait("return document.body.dataset.ready === 'true'", "the large index page")
    first = wd.js("return [%s.length, +document.body.dataset.matches]" % shown)
    wd.click("#more")
    ok(first == [500, 604] and wd.js("return %s.length" % shown) == 604
       and wd.js("return document.getElementById('more-bar').hidden"),
       "index: 500 rows of 604 first, the rest on Show more", first)
    wd.go("file://" + os.path.join(out, "index.html"))
    wd.wait("return document.body.dataset.ready === 'true'", "the index page again")
    wd.click("#photos th[data-key='score']")
    wd.click("#photos th[data-key='score']")
    # follow the top-scoring fail's link to its review page
    href = wd.js("return %s[0].querySelector('a').getAttribute('href')" % shown)
    wd.click("#photos tbody tr:not([hidden]) a")
    wd.wait("return document.body.dataset.ready === 'true' && !!document.getElementById('list')",
            "the review page from the index")
    ok(wd.js("return location.href").endswith("/" + href)
       and wd.js("return document.querySelector('#verdict').dataset.verdict") == "fail",
       "index: a row's link opens that photo's review page", href)


def main():
    if not CHROMEDRIVER or not os.path.exists(CHROMIUM):
        print("1..0 # SKIP chromium or chromedriver not installed (scripts/install-deps.sh)")
        return 0
    tmp = tempfile.mkdtemp(prefix="pcbdiff-browser-")
    port = free_port()
    log = open(os.path.join(tmp, "chromedriver.log"), "w")
    driver = subprocess.Popen([CHROMEDRIVER, "--port=%d" % port], stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    wd = WebDriver(port)

    def on_alarm(signum, frame):
        raise RuntimeError("the browser test took over %d s" % DEADLINE_S)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(DEADLINE_S)
    try:
        end = time.time() + 15
        while True:
            try:
                if wd.call("GET", "/status", timeout=2).get("ready"):
                    break
            except Exception:
                pass
            if time.time() > end or driver.poll() is not None:
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.05)
        wd.session(os.path.join(tmp, "profile"))
        test_pass_page(wd, tmp)
        test_review_flow(wd, tmp)
        test_watch_page(wd, tmp)
        test_index_page(wd, tmp)
    except Exception as e:  # report it as a failure, then clean up
        ok(False, "the browser test ran to the end", repr(e))
        log.flush()
        with open(os.path.join(tmp, "chromedriver.log")) as f:
            for line in f.read().splitlines()[-15:]:
                print("# " + line)
    finally:
        signal.alarm(0)
        wd.quit()
        try:
            os.killpg(driver.pid, signal.SIGTERM)
            driver.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(driver.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % count)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
