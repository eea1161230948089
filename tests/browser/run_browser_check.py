"""Open the built book in headless Chromium and check, from the DOM, that every page works offline.

Run with ``make test-browser`` (after ``make book``). Not collected by pytest (the file name does
not start with ``test_``): it needs Debian's ``chromium`` and a built ``_build/html``.

What it does
------------
* serves ``_build/html`` on 127.0.0.1 (a free port, in a thread that stops with the script);
* starts ``chromium --headless`` with a fresh profile and talks to it over the DevTools protocol
  (``websocket-client``);
* for every chapter page (and the intro, notation and bibliography pages) checks that

  - MathJax rendered: ``mjx-container`` elements exist where the page has math, and no raw TeX
    delimiters (``\\(``, ``\\[``, ``$$``) are left in the visible text;
  - every widget area is non-empty: each ``mfbook-static-interact`` block shows a loaded image
    frame and has controls; each ipywidgets view (if a page stores widget state) was rendered;
  - a static slider changes the shown frame: moving a control swaps the ``<img>`` to a different
    precomputed frame (then it is moved back);
  - the page has Colab and Binder launch links and a download link for its ``.ipynb`` that the
    server actually delivers;
  - no failed request: every request went to 127.0.0.1 (or is a ``data:`` URL), none failed and
    none returned an HTTP error; no uncaught JavaScript exception;

* checks that the search page finds a word of the book;
* if ``_build/slides`` exists (``make slides``), opens every deck on a 16:9 screen (1280 x 720):
  reveal.js starts, math renders, the first figure slide shows its figure over at least 60% of the
  screen width or height, no request leaves 127.0.0.1, and *no slide overflows*: every slide is
  shown in turn (``Reveal.slide(h, v)``) and its content (the section's scroll size and the
  bounding box of everything inside it, in the deck's own 1280 x 720 coordinates) must fit the
  configured slide size; each overflowing slide is listed with its index and title;
* saves screenshots under ``_build/screenshots/`` (top of each page and its first demo).

Exit status 0 when every check passes; the table printed at the end says what failed where.
"""
from __future__ import annotations

import argparse
import base64
import functools
import http.server
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

try:
    import websocket  # websocket-client
except ImportError:  # pragma: no cover - message for people running it by hand
    sys.exit("run_browser_check.py needs websocket-client: pip install -r requirements-browser.txt")

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--window-size=1280,900", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
]


# ----------------------------------------------------------------------------------------------
# a quiet static server on 127.0.0.1
# ----------------------------------------------------------------------------------------------
class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D102 - silence the per-request log
        pass


def serve(directory: pathlib.Path):
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


# ----------------------------------------------------------------------------------------------
# a minimal DevTools-protocol client
# ----------------------------------------------------------------------------------------------
class Browser:
    """Headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, binary: str, timeout: float = 60.0):
        self.profile = tempfile.mkdtemp(prefix="mfbook-chromium-")
        self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        port_file = pathlib.Path(self.profile) / "DevToolsActivePort"
        deadline = time.time() + timeout
        while not port_file.exists() or not port_file.read_text().strip():
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with status {self.proc.returncode} before it was ready")
            if time.time() > deadline:
                raise RuntimeError("chromium did not open its DevTools port in time")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        self.devtools = f"http://127.0.0.1:{port}"
        page = None
        while page is None and time.time() < deadline:
            try:
                targets = json.load(urllib.request.urlopen(f"{self.devtools}/json/list", timeout=5))
                page = next((t for t in targets if t.get("type") == "page"), None)
            except OSError:
                pass
            if page is None:
                time.sleep(0.1)
        if page is None:
            raise RuntimeError("chromium opened no page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout,
                                              suppress_origin=True, enable_multithread=True)
        self.next_id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        # no cache between pages: every page's requests are seen
        self.call("Network.setCacheDisabled", cacheDisabled=True)

    def call(self, method: str, timeout: float = 60.0, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        deadline = time.time() + timeout
        while True:
            self.ws.settimeout(max(0.1, deadline - time.time()))
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)
            if time.time() > deadline:
                raise TimeoutError(method)

    def wait_event(self, name: str, timeout: float = 60.0):
        deadline = time.time() + timeout
        seen = len(self.events)
        while time.time() < deadline:
            for ev in self.events[seen:]:
                if ev["method"] == name:
                    return ev
            seen = len(self.events)
            self.ws.settimeout(max(0.1, deadline - time.time()))
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == name:
                    return msg
        raise TimeoutError(f"no {name} within {timeout} s")

    def evaluate(self, expression: str, timeout: float = 60.0):
        res = self.call("Runtime.evaluate", timeout=timeout, expression=expression,
                        awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in res:
            detail = res["exceptionDetails"]
            text = detail.get("exception", {}).get("description") or detail.get("text")
            raise RuntimeError(f"page script failed: {text}")
        return res["result"].get("value")

    def goto(self, url: str, timeout: float = 60.0):
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired", timeout=timeout)

    def screenshot(self, path: pathlib.Path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self):
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)   # our own chromium and its helper processes
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        shutil.rmtree(self.profile, ignore_errors=True)


# ----------------------------------------------------------------------------------------------
# the checks, run inside the page
# ----------------------------------------------------------------------------------------------
WAIT_FOR_MATHJAX = """
(async () => {
  for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
    await new Promise(r => setTimeout(r, 50));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; return true; }
  return false;
})()
"""

# math elements Sphinx writes, text left visible outside code, and the widget areas
INSPECT = r"""
(() => {
  const skip = new Set(['SCRIPT', 'STYLE', 'PRE', 'CODE', 'TEXTAREA', 'MJX-CONTAINER', 'NOSCRIPT']);
  const raw = [];
  const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      for (let el = node.parentElement; el; el = el.parentElement) {
        if (skip.has(el.tagName) || el.classList.contains('highlight')) return NodeFilter.FILTER_REJECT;
      }
      return NodeFilter.FILTER_ACCEPT;
    }
  });
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const t = n.textContent;
    const m = t.match(/\\\(|\\\[|\$\$|\\begin\{/);
    if (m) raw.push(t.slice(Math.max(0, m.index - 30), m.index + 40).trim());
  }
  const mathNodes = document.querySelectorAll('main span.math, main div.math, main .math');
  const blocks = [...document.querySelectorAll('.mfbook-static-interact')].map(b => {
    const img = b.querySelector('img.mfsi-frame, img');
    const r = b.getBoundingClientRect();
    return {
      id: b.id,
      controls: b.querySelectorAll('input[type=range], select').length,
      img: !!img,
      imgLoaded: !!img && img.complete && img.naturalWidth > 0,
      imgHeight: img ? img.getBoundingClientRect().height : 0,
      height: r.height,
    };
  });
  const views = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')].map(s => {
    const area = s.parentElement;
    const w = area.querySelector('.jupyter-widgets, .widget-area, .lm-Widget');
    return { rendered: !!w, height: w ? w.getBoundingClientRect().height : 0 };
  });
  const links = [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'));
  const download = [...document.querySelectorAll('a[href$=".ipynb"]')].map(a => a.href)
      .filter(h => h.startsWith(location.origin));
  return {
    title: document.title,
    mathNodes: mathNodes.length,
    mjx: document.querySelectorAll('mjx-container').length,
    mjxErrors: document.querySelectorAll('mjx-merror').length,
    raw: raw.slice(0, 5),
    blocks, views,
    colab: links.some(h => h.includes('colab.research.google.com')),
    binder: links.some(h => h.includes('mybinder.org')),
    download,
  };
})()
"""

# move each control of one static block until the frame changes; put it back; report
SLIDE = r"""
(async (id) => {
  const root = document.getElementById(id);
  const img = root.querySelector('img.mfsi-frame, img');
  const controls = [...root.querySelectorAll('input[type=range], select')];
  const initial = img.src;
  // let the page's own script draw the current setting: it must be the frame shown at load
  controls[0].dispatchEvent(new Event('input', { bubbles: true }));
  controls[0].dispatchEvent(new Event('change', { bubbles: true }));
  await img.decode().catch(() => {});
  const before = img.src;
  const consistent = before === initial;
  for (const c of controls) {
    const original = c.value;
    const n = c.tagName === 'SELECT' ? c.options.length : (+c.max - +c.min + 1);
    for (let k = 0; k < n; k++) {
      const v = c.tagName === 'SELECT' ? String(k) : String(+c.min + k);
      if (v === original) continue;
      c.value = v;
      c.dispatchEvent(new Event('input', { bubbles: true }));
      c.dispatchEvent(new Event('change', { bubbles: true }));
      await img.decode().catch(() => {});
      if (img.src !== before && img.naturalWidth > 0) {
        const label = c.tagName === 'SELECT' ? c.options[c.selectedIndex].text
                      : (c.nextElementSibling ? c.nextElementSibling.textContent : v);
        c.value = original;
        c.dispatchEvent(new Event('input', { bubbles: true }));
        c.dispatchEvent(new Event('change', { bubbles: true }));
        await img.decode().catch(() => {});
        return { changed: true, consistent, control: c.dataset.name || c.name || '', to: label, restored: img.src === before };
      }
    }
    c.value = original;
    c.dispatchEvent(new Event('input', { bubbles: true }));
  }
  return { changed: false, consistent };
})
"""

SEARCH = r"""
(async () => {
  for (let i = 0; i < 200; i++) {
    const hits = document.querySelectorAll('#search-results li, ul.search li');
    if (hits.length) return hits.length;
    await new Promise(r => setTimeout(r, 100));
  }
  return 0;
})()
"""


def request_problems(events, origin_host: str):
    """Requests that left 127.0.0.1, failed, or got an HTTP error; uncaught exceptions."""
    problems, urls = [], {}
    for ev in events:
        method, p = ev["method"], ev.get("params", {})
        if method == "Network.requestWillBeSent":
            url = p["request"]["url"]
            urls[p["requestId"]] = url
            scheme = urllib.parse.urlsplit(url).scheme
            host = urllib.parse.urlsplit(url).hostname
            if scheme not in ("data", "blob", "about") and host != origin_host:
                problems.append(f"request to another host: {url[:100]}")
        elif method == "Network.loadingFailed" and not p.get("canceled"):
            problems.append(f"failed: {urls.get(p['requestId'], '?')[:100]} ({p.get('errorText')})")
        elif method == "Network.responseReceived" and p["response"].get("status", 200) >= 400:
            problems.append(f"HTTP {p['response']['status']}: {p['response']['url'][:100]}")
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            problems.append("JS exception: " + (d.get("exception", {}).get("description") or d.get("text", ""))[:160])
    return problems


NARROW = 400   # px: a phone held upright


def check_page(browser, base: str, rel: str, shots: pathlib.Path, chapter: bool):
    url = f"{base}/{rel}"
    failures, notes = [], []
    browser.goto(url)
    mathjax = browser.evaluate(WAIT_FOR_MATHJAX)
    time.sleep(0.3)  # let late requests (fonts) start, so they are seen below
    info = browser.evaluate(INSPECT)
    if info["mathNodes"] and not mathjax:
        failures.append("the page has math but MathJax did not load")
    if info["mathNodes"] and info["mjx"] == 0:
        failures.append(f"{info['mathNodes']} math elements but no mjx-container")
    if info["mjxErrors"]:
        failures.append(f"{info['mjxErrors']} MathJax errors (mjx-merror)")
    if info["raw"]:
        failures.append(f"raw TeX in text: {info['raw'][:2]}")
    for b in info["blocks"]:
        if not (b["img"] and b["imgLoaded"] and b["imgHeight"] > 50 and b["controls"] > 0):
            failures.append(f"static demo {b['id']} is empty or has no controls: {b}")
            continue
        moved = browser.evaluate(f"({SLIDE})({json.dumps(b['id'])})")
        if not moved["consistent"]:
            failures.append(f"static demo {b['id']}: the frame shown at load is not the one its controls select")
        if not moved["changed"]:
            failures.append(f"static demo {b['id']}: no control changes the frame")
        else:
            notes.append(f"{moved['control']}->{moved['to']}")
            if not moved["restored"]:
                failures.append(f"static demo {b['id']}: frame not restored after moving back")
    for i, v in enumerate(info["views"]):
        if not v["rendered"] or v["height"] <= 0:
            failures.append(f"ipywidgets view {i} not rendered")
    if chapter:
        if not info["colab"]:
            failures.append("no Colab launch link")
        if not info["binder"]:
            failures.append("no Binder launch link")
        if not info["download"]:
            failures.append("no .ipynb download link")
        for link in info["download"][:1]:
            try:
                with urllib.request.urlopen(link, timeout=10) as resp:
                    json.loads(resp.read())
            except (OSError, ValueError) as err:
                failures.append(f".ipynb download {link} broken: {err}")
    # screenshots: the top of the page, and the first demo if there is one
    stem = rel.replace("/", "_").removesuffix(".html")
    browser.evaluate("window.scrollTo(0, 0)")
    browser.screenshot(shots / f"{stem}.png")
    if info["blocks"]:
        browser.evaluate(f"document.getElementById({json.dumps(info['blocks'][0]['id'])})"
                         ".scrollIntoView({block: 'center'})")
        time.sleep(0.2)
        browser.screenshot(shots / f"{stem}-demo.png")
    if chapter:   # a phone: the page must not scroll sideways (wide code and math scroll in their boxes)
        browser.call("Emulation.setDeviceMetricsOverride", width=NARROW, height=800, deviceScaleFactor=1,
                     mobile=True)
        try:
            time.sleep(0.3)
            browser.evaluate("window.scrollTo(0, 0)")
            wide = browser.evaluate("document.documentElement.scrollWidth")
            if wide > NARROW + 1:
                failures.append(f"at {NARROW} px the page is {wide} px wide: it scrolls sideways")
            browser.screenshot(shots / f"{stem}-{NARROW}px.png")
        finally:
            browser.call("Emulation.clearDeviceMetricsOverride")
            time.sleep(0.2)
    time.sleep(0.2)
    browser.call("Runtime.evaluate", expression="1")   # drain pending events
    failures += request_problems(browser.events, "127.0.0.1")
    return {
        "page": rel, "math": info["mjx"], "demos": len(info["blocks"]), "widgets": len(info["views"]),
        "failures": failures, "notes": notes,
    }


DECK = r"""
(async () => {
  for (let i = 0; i < 200 && !(window.Reveal && Reveal.isReady && Reveal.isReady()); i++)
    await new Promise(r => setTimeout(r, 50));
  if (!(window.Reveal && Reveal.isReady())) return { ready: false };
  if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
  // the first slide whose figure is an image: show it for the screenshot
  const figure = [...document.querySelectorAll('.reveal .slides section')]
      .find(s => !s.querySelector('section') && s.querySelector('.jp-OutputArea-output img, .mfbook-static-interact img'));
  let at = null;
  if (figure) { const i = Reveal.getIndices(figure); Reveal.slide(i.h, i.v); at = i; }
  await new Promise(r => setTimeout(r, 300));
  const img = figure ? figure.querySelector('.jp-OutputArea-output img, .mfbook-static-interact img') : null;
  // the drawn picture inside the <img> box (object-fit: contain may letterbox it)
  let shownW = 0, shownH = 0;
  if (img && img.naturalWidth) {
    const r = img.getBoundingClientRect(), ratio = img.naturalWidth / img.naturalHeight;
    shownW = Math.min(r.width, r.height * ratio); shownH = shownW / ratio;
  }
  const deck = document.querySelector('.reveal').getBoundingClientRect();
  return {
    ready: true,
    slides: Reveal.getTotalSlides(),
    mjx: document.querySelectorAll('mjx-container').length,
    mjxErrors: document.querySelectorAll('mjx-merror').length,
    demos: document.querySelectorAll('.mfbook-static-interact').length,
    figureAt: at,
    figure: [Math.round(shownW), Math.round(shownH)],
    screen: [Math.round(deck.width), Math.round(deck.height)],
  };
})()
"""


SCREEN = (1280, 720)   # the projector: 16:9

# every slide in turn: its content must fit the configured slide (reveal.js coordinates)
OVERFLOW = r"""
(async () => {
  const cfg = Reveal.getConfig(), W = cfg.width, H = cfg.height, tol = 2;
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const over = [];
  const slides = Reveal.getSlides();
  for (let k = 0; k < slides.length; k++) {
    const s = slides[k], at = Reveal.getIndices(s);
    Reveal.slide(at.h, at.v || 0);
    await frame();
    await Promise.all([...s.querySelectorAll('img')].map(i => i.decode().catch(() => {})));
    await frame();
    // in slide coordinates: the section's own scroll size, and the box of every element in it
    const scale = Reveal.getScale(), box = s.getBoundingClientRect();
    let right = s.scrollWidth, bottom = s.scrollHeight;
    for (const el of s.querySelectorAll('*')) {
      // MathJax's copy for screen readers is clipped to nothing; speaker notes are not shown
      if (el.closest('mjx-assistive-mml, aside.notes')) continue;
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height) continue;   // draws nothing (its overflowing text shows in scrollHeight)
      right = Math.max(right, (r.right - box.left) / scale);
      bottom = Math.max(bottom, (r.bottom - box.top) / scale);
    }
    bottom += s.offsetTop;   // reveal.js may push a centred slide down
    if (bottom > H + tol || right > W + tol) {
      const head = s.querySelector('h1, h2, h3, h4');
      const title = (head ? head.innerText : s.innerText).replace(/\s+/g, ' ').trim().slice(0, 60);
      over.push({ index: k + 1, h: at.h, v: at.v || 0, title,
                  width: Math.round(right), height: Math.round(bottom) });
    }
  }
  return { slides: slides.length, size: [W, H], over };
})()
"""


def check_deck(browser, base: str, rel: str, shots: pathlib.Path):
    failures = []
    browser.goto(f"{base}/{rel}")
    info = browser.evaluate(DECK)
    if not info.get("ready"):
        failures.append("reveal.js did not start")
        info = {}
    else:
        if info["mjx"] == 0:
            failures.append("no rendered math (mjx-container)")
        if info["mjxErrors"]:
            failures.append(f"{info['mjxErrors']} MathJax errors")
        if info["figureAt"] is None:
            failures.append("no slide with a figure")
        elif info["figure"][0] < 0.6 * info["screen"][0] and info["figure"][1] < 0.6 * info["screen"][1]:
            failures.append(f"figure too small to project: {info['figure']} px on a {info['screen']} px screen")
        stem = pathlib.Path(rel).name.removesuffix(".slides.html")
        browser.screenshot(shots / f"slides_{stem}-figure.png")
        fit = browser.evaluate(OVERFLOW, timeout=300)
        info["overflowing"] = len(fit["over"])
        for o in fit["over"]:
            failures.append(f"slide {o['index']} ({o['h']}/{o['v']}) \"{o['title']}\" overflows: "
                            f"content {o['width']} x {o['height']} px on a {fit['size'][0]} x "
                            f"{fit['size'][1]} px slide")
        if fit["over"]:
            first = fit["over"][0]
            browser.evaluate(f"Reveal.slide({first['h']}, {first['v']})")
            time.sleep(0.3)
            browser.screenshot(shots / f"slides_{stem}-overflow.png")
        browser.evaluate("Reveal.slide(0, 0)")
        time.sleep(0.3)
        browser.screenshot(shots / f"slides_{stem}.png")
    time.sleep(0.2)
    browser.call("Runtime.evaluate", expression="1")
    failures += request_problems(browser.events, "127.0.0.1")
    notes = [f"{info.get('slides', 0)} slides, {info.get('overflowing', 0)} overflowing; figure {info.get('figure')} px on screen {info.get('screen')}"] if info else []
    return {"page": rel, "math": info.get("mjx", 0), "demos": info.get("demos", 0), "widgets": 0,
            "failures": failures, "notes": notes}


def find_chromium(explicit: str | None) -> str:
    for name in ([explicit] if explicit else []) + ["chromium", "chromium-browser", "google-chrome"]:
        path = shutil.which(name) if name else None
        if path:
            return path
    sys.exit("no chromium found: apt-get install chromium (or pass --chromium PATH)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--html", default=str(ROOT / "_build" / "html"), help="built book (default _build/html)")
    ap.add_argument("--screenshots", default=str(ROOT / "_build" / "screenshots"))
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM"))
    ap.add_argument("--slides", default=str(ROOT / "_build" / "slides"),
                    help="slide decks to check too, if the folder exists (default _build/slides)")
    ap.add_argument("--only-slides", action="store_true",
                    help="check only the slide decks (no built book needed)")
    args = ap.parse_args(argv)
    if args.only_slides:
        return check_slides_only(args)

    html = pathlib.Path(args.html)
    if not (html / "index.html").exists():
        sys.exit(f"{html}/index.html not found: run `make book` first")
    shots = pathlib.Path(args.screenshots)
    shots.mkdir(parents=True, exist_ok=True)
    pages = ["intro.html", "notation.html"] + \
        [f"chapters/{p.name}" for p in sorted((html / "chapters").glob("*.html"))] + ["bibliography.html"]
    chapters = {p for p in pages if p.startswith("chapters/")}

    server = serve(html)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    browser = Browser(find_chromium(args.chromium))
    results = []
    try:
        for rel in pages:
            try:
                results.append(check_page(browser, base, rel, shots, rel in chapters))
            except (RuntimeError, TimeoutError, websocket.WebSocketException) as err:
                results.append({"page": rel, "math": 0, "demos": 0, "widgets": 0,
                                "failures": [f"could not check: {err}"], "notes": []})
        browser.goto(f"{base}/search.html?q=nuclear")
        hits = browser.evaluate(SEARCH)
        results.append({"page": "search.html?q=nuclear", "math": 0, "demos": 0, "widgets": 0, "notes": [f"{hits} hits"],
                        "failures": ([] if hits else ["search found nothing for 'nuclear'"])
                        + request_problems(browser.events, "127.0.0.1")})
        browser.screenshot(shots / "search.png")
        results += check_decks(browser, pathlib.Path(args.slides), shots)
    finally:
        browser.close()
        server.shutdown()
    return report(results, shots)


def check_decks(browser, slides: pathlib.Path, shots: pathlib.Path) -> list[dict]:
    """Every deck of ``slides`` on a 16:9 screen."""
    decks = sorted(slides.glob("*.slides.html")) if slides.is_dir() else []
    results = []
    if not decks:
        return results
    deck_server = serve(slides)
    width, height = SCREEN
    browser.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                 deviceScaleFactor=1, mobile=False)
    try:
        deck_base = f"http://127.0.0.1:{deck_server.server_address[1]}"
        for deck in decks:
            try:
                results.append(check_deck(browser, deck_base, deck.name, shots))
            except (RuntimeError, TimeoutError, websocket.WebSocketException) as err:
                results.append({"page": deck.name, "math": 0, "demos": 0, "widgets": 0,
                                "failures": [f"could not check: {err}"], "notes": []})
    finally:
        browser.call("Emulation.clearDeviceMetricsOverride")
        deck_server.shutdown()
    return results


def check_slides_only(args) -> int:
    shots = pathlib.Path(args.screenshots)
    shots.mkdir(parents=True, exist_ok=True)
    slides = pathlib.Path(args.slides)
    if not list(slides.glob("*.slides.html")):
        sys.exit(f"no decks in {slides}: run `make slides` first")
    browser = Browser(find_chromium(args.chromium))
    try:
        results = check_decks(browser, slides, shots)
    finally:
        browser.close()
    return report(results, shots)


def report(results: list[dict], shots: pathlib.Path) -> int:
    width = max(len(r["page"]) for r in results)
    print(f"{'page':<{width}}  math  demos  widgets  result")
    for r in results:
        status = "ok" if not r["failures"] else "FAIL"
        extra = f"  ({'; '.join(r['notes'])})" if r["notes"] else ""
        print(f"{r['page']:<{width}}  {r['math']:>4}  {r['demos']:>5}  {r['widgets']:>7}  {status}{extra}")
        for f in r["failures"]:
            print(f"    - {f}")
    failed = sum(bool(r["failures"]) for r in results)
    print(f"{len(results) - failed}/{len(results)} pages passed; screenshots in {shots}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
