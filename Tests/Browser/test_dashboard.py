"""The operator dashboard (/ui) in a real browser: Debian's headless Chromium driven by
selenium against live `botrix serve` processes, each with a fresh data file.

Run with tools/browser-tests.sh [BOTRIX_BINARY] (it makes the venv with selenium), or
    BOTRIX_BINARY=.build/debug/botrix .build/venv-browser/bin/python -m unittest discover -s Tests/Browser -v

Screenshots of every page go to $DASHBOARD_TEST_OUTPUT (default .build/test-output/dashboard),
at 1280x900, plus the overview at phone size (390x844). A failing test also leaves
FAILED-<test>.png/.html there, and each server's log is copied there.

Every wait has a timeout; the whole file runs in well under three minutes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sys
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO_ROOT, "clients", "python", "tests"))

from _support import BotrixServer, binary_path  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoSuchElementException, TimeoutException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
OUTPUT = os.path.abspath(
    os.environ.get("DASHBOARD_TEST_OUTPUT") or os.path.join(REPO_ROOT, ".build", "test-output", "dashboard")
)
WIDTH, HEIGHT = 1280, 900
WAIT = 10  # seconds: the longest any single wait may take
LIVE_WAIT = 10  # a job created through the API must show on an open page within this
RUN = uuid.uuid4().hex[:8]  # makes this run's secrets and names unique
BUDGET = 150  # seconds for the whole file: past it, the tests left fail at once
START = time.monotonic()

FIGURES = [
    "head",
    "lag",
    "jobs.total",
    "jobs.pending",
    "jobs.running",
    "jobs.completed",
    "jobs.failed",
    "jobs.cancelled",
    "queue.depth",
    "leases.active",
    "retries.waiting",
    "accounts.total",
]

# Injected into every document before its own scripts: records each EventSource the
# page opens, so a test can tell the page opened exactly one, on /ui/live.
COUNT_EVENT_SOURCES = """
(() => {
  const Original = window.EventSource;
  window.__eventSources = [];
  window.__eventSourceObjects = [];
  if (!Original) return;
  const Counting = function (url, init) {
    const source = new Original(url, init);
    window.__eventSources.push(String(source.url));
    window.__eventSourceObjects.push(source);
    return source;
  };
  Counting.prototype = Original.prototype;
  Counting.CONNECTING = 0; Counting.OPEN = 1; Counting.CLOSED = 2;
  window.EventSource = Counting;
})();
"""

driver: webdriver.Chrome | None = None


def setUpModule() -> None:
    global driver
    binary_path()  # fail (not skip) with a clear message when the server binary is missing
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            raise RuntimeError(f"{path} is missing: apt-get install -y {package} (make deps installs it)")
    os.makedirs(OUTPUT, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # tests run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-extensions",
        "--no-first-run",
        f"--window-size={WIDTH},{HEIGHT}",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(WAIT)
    driver.set_window_size(WIDTH, HEIGHT)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": COUNT_EVENT_SOURCES})


def tearDownModule() -> None:
    global driver
    if driver is not None:
        driver.quit()
        driver = None


# --- HTTP without the browser (stdlib only) -------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 - answer the 3xx itself
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class Answer:
    def __init__(self, status: int, headers, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def __repr__(self) -> str:
        return f"<{self.status} {self.text[:300]!r}>"


def http(method: str, url: str, body=None, headers: dict | None = None, timeout: float = WAIT) -> Answer:
    """One request; redirects are answered as they are (never followed), errors are answers."""
    headers = dict(headers or {})
    data = None
    if body is not None:
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with _opener.open(request, timeout=timeout) as r:
            return Answer(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        with e:
            return Answer(e.code, e.headers, e.read())


def path_of(url: str) -> str:
    return urllib.parse.urlsplit(url).path


class DashboardServer(BotrixServer):
    """A BotrixServer with extra settings, whose log is kept in the output folder when it closes."""

    def __init__(self, label: str, env: dict | None = None) -> None:
        super().__init__()
        self.label = label
        self.extra_env = dict(env or {})

    def _env(self) -> dict[str, str]:
        return {**super()._env(), **self.extra_env}

    def close(self) -> None:
        self.stop()
        try:
            shutil.copyfile(self.log_path, os.path.join(OUTPUT, f"server-{self.label}.log"))
        except OSError:
            pass
        super().close()

    def key_id(self, token: str) -> str:
        """The id part of a `btx_<id>_<secret>` key (what `botrix keys list` shows)."""
        m = re.fullmatch(r"btx_([0-9a-f]+)_([0-9a-f]+)", token)
        assert m, f"unexpected key format {token[:8]}..."
        return m.group(1)


# --- The test base ---------------------------------------------------------------------


class DashboardTestCase(unittest.TestCase):
    """One server (own data file) per class; the module's one browser; helpers for both."""

    server: DashboardServer
    admin: str | None = None  # the key API calls use (None in open mode)
    work: str | None = None

    label = "dashboard"
    server_env: dict = {}

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = DashboardServer(cls.label, cls.server_env).start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.close()

    def setUp(self) -> None:
        if time.monotonic() - START > BUDGET:
            self.fail(f"the browser tests' time budget ({BUDGET} s) is spent: earlier tests waited out their timeouts")
        self.d = driver
        self.viewport(WIDTH, HEIGHT)

    def tearDown(self) -> None:
        # (outcome.success is reset for tearDown itself; the result already holds the failure)
        result = getattr(getattr(self, "_outcome", None), "result", None)
        problems = list(getattr(result, "failures", [])) + list(getattr(result, "errors", []))
        if any(test is self for test, _ in problems):
            name = self.id().rsplit(".", 1)[-1]
            try:
                self.d.save_screenshot(os.path.join(OUTPUT, f"FAILED-{name}.png"))
                with open(os.path.join(OUTPUT, f"FAILED-{name}.html"), "w", encoding="utf-8") as f:
                    f.write(f"<!-- {self.d.current_url} -->\n{self.d.page_source}")
            except Exception:  # noqa: BLE001 - the failure itself is what gets reported
                pass

    def viewport(self, width: int, height: int, mobile: bool = False) -> None:
        """Pages (and screenshots) exactly width x height, whatever the window's frame takes."""
        self.d.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )

    # URLs and the API

    def url(self, path: str) -> str:
        return self.server.url + path

    def api(self, method: str, path: str, body=None, key: str | None = "admin", headers: dict | None = None) -> Answer:
        """An API call; key is a key, or "admin"/"work" for the class's keys, or None."""
        key = {"admin": self.admin, "work": self.work}.get(key, key)
        headers = dict(headers or {})
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return http(method, self.url(path), body, headers)

    def create_job(self, count: int = 2, priority=None, request_id: str | None = None) -> str:
        body: dict = {"count": count}
        if priority is not None:
            body["priority"] = priority
        headers = {"X-Request-ID": request_id} if request_id else {}
        a = self.api("POST", "/api/jobs", body, headers=headers)
        self.assertEqual(a.status, 201, a)
        return a.json()["job_id"]

    def claim(self, job_id: str, worker: str) -> dict:
        """Claims job_id (created with priority 10, so it heads the queue); returns the claim."""
        for _ in range(5):
            a = self.api("POST", "/api/queue/claim", {"worker_id": worker, "lease_seconds": 600}, key="work")
            self.assertEqual(a.status, 200, f"claim for {job_id}: {a}")
            claim = a.json()
            if claim["job"]["id"] == job_id:
                return claim
        self.fail(f"could not claim {job_id}: other jobs head the queue")

    def record_account(self, job_id: str, claim: dict, worker: str, **fields) -> dict:
        n = uuid.uuid4().hex[:10]
        body = {
            "worker_id": worker,
            "claim_token": claim["claim_token"],
            "email": f"u{n}@example.com",
            "username": f"u_{n}",
            "password": f"pw-{n}-long",
            "birthdate": "1990-01-02",
        }
        body.update(fields)
        a = self.api("POST", f"/api/jobs/{job_id}/accounts", body, key="work")
        self.assertEqual(a.status, 201, a)
        return a.json()

    def cancel_via_api(self, job_id: str) -> None:
        a = self.api("POST", f"/api/jobs/{job_id}/cancel", {"reason": "browser test"})
        self.assertEqual(a.status, 200, a)

    def job_status(self, job_id: str) -> str:
        a = self.api("GET", f"/api/jobs/{job_id}")
        self.assertEqual(a.status, 200, a)
        return a.json()["status"]

    def head(self) -> int:
        a = self.api("GET", "/api/events?limit=1")
        self.assertEqual(a.status, 200, a)
        return a.json()["head"]

    # The browser

    def go(self, path: str) -> None:
        try:
            self.d.get(self.url(path))
        except TimeoutException:
            self.fail(
                f"{path} did not load within 20 s. A browser opens at most 6 HTTP/1.1 connections to one host: "
                "pages left earlier that still hold their /ui/live stream (kept in the back/forward cache, "
                "say) use them up; see test_streams_of_left_pages_are_closed"
            )

    def shot(self, name: str) -> None:
        self.d.save_screenshot(os.path.join(OUTPUT, f"{name}.png"))

    def wait(self, condition, message: str, timeout: float = WAIT):
        """Waits for condition; a timeout is a test failure saying `message`."""
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.1).until(condition)
        except TimeoutException:
            if not message:
                raise
            self.fail(f"{message} (waited {timeout:g} s on {self.d.current_url})")

    def css(self, selector: str):
        return self.d.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector: str) -> list:
        return self.d.find_elements(By.CSS_SELECTOR, selector)

    def has(self, selector: str) -> bool:
        return len(self.all(selector)) > 0

    # Live pages replace their rows and figures at any time, so what is read from the page
    # is read in one script (never through an element found earlier, which may be gone).

    def text(self, selector: str) -> str:
        found = self.js("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", selector)
        if found is None:
            raise NoSuchElementException(f"no element matches {selector} on {self.path()}")
        return found.strip()

    def js(self, script: str, *args):
        return self.d.execute_script(script, *args)

    def path(self) -> str:
        return path_of(self.d.current_url)

    def status(self) -> int:
        """The HTTP status of the document now shown (Chromium's navigation timing)."""
        return self.js("const n = performance.getEntriesByType('navigation')[0]; return n ? n.responseStatus : 0;")

    def wait_new_document(self, what: str) -> None:
        """Waits until the document marked with window.__oldDocument is replaced and loaded."""
        script = "return !window.__oldDocument && document.readyState === 'complete'"
        try:
            # While the browser navigates, a script may fail (no document yet): ask again.
            WebDriverWait(self.d, WAIT, poll_frequency=0.1, ignored_exceptions=(WebDriverException,)).until(
                lambda d: d.execute_script(script)
            )
        except TimeoutException:
            self.fail(f"{what} did not load within {WAIT} s (still on {self.d.current_url})")

    def submit(self, button) -> None:
        """Clicks a submit button (or a link) and waits for the next document to load."""
        self.js("window.__oldDocument = true;")
        button.click()
        self.wait_new_document("the form's answer")

    def post_form(self, action: str, fields: dict) -> None:
        """A POST form built by hand in the page (what a script on the page could do)."""
        self.js("window.__oldDocument = true;")
        self.js(
            """
            const [action, fields] = arguments;
            const form = document.createElement('form');
            form.method = 'post';
            form.action = action;
            for (const [name, value] of Object.entries(fields)) {
              const input = document.createElement('input');
              input.type = 'hidden'; input.name = name; input.value = value;
              form.appendChild(input);
            }
            document.body.appendChild(form);
            form.submit();
            """,
            action,
            fields,
        )
        self.wait_new_document("the hand-built form's answer")

    def csrf(self) -> str:
        value = self.css("#logout-form input[name=csrf]").get_attribute("value")
        self.assertTrue(value, "the logout form has no csrf value")
        return value

    def clear_cookies(self) -> None:
        self.d.execute_cdp_cmd("Network.clearBrowserCookies", {})

    def session_cookie(self) -> dict | None:
        return self.d.get_cookie("botrix_session")

    def login(self, key: str) -> None:
        """A fresh browser session logged in with key through the form."""
        self.clear_cookies()
        self.go("/ui/login")
        self.css("input#key").send_keys(key)
        self.submit(self.css("#login-button"))
        self.assertNotEqual(self.path(), "/ui/login", f"login failed: {self.status()} {self.d.current_url}")
        self.assertIsNotNone(self.session_cookie(), "no botrix_session cookie after login")

    def wait_live(self, status_text: bool = False, context: str = "") -> None:
        """Waits until the page's newest EventSource, on /ui/live, is open (and, with
        status_text, until #live-status says "live"), so what a test does next reaches it live."""
        open_source = (
            "const all = window.__eventSourceObjects || []; const last = all[all.length - 1];"
            " return !!last && last.readyState === 1 && new URL(last.url).pathname === '/ui/live'"
        )
        says_live = (
            "const e = document.querySelector('#live-status');"
            " return !!e && e.textContent.trim().toLowerCase() === 'live'"
        )
        try:
            self.wait(lambda d: d.execute_script(open_source), "", timeout=WAIT)
            if status_text:
                self.wait(lambda d: d.execute_script(says_live), "", timeout=WAIT)
        except TimeoutException:
            shown = self.text("#live-status") if self.has("#live-status") else "(no #live-status)"
            sources = self.js("return (window.__eventSourceObjects || []).map(s => [s.url, s.readyState])")
            self.fail(
                f"{context}the live feed of {self.path()} did not open within {WAIT}s: EventSources {sources}, #live-status "
                f"{shown!r}. /ui/live counts against MAX_STREAMS_PER_KEY (default 4): a page left earlier may "
                "still hold its slot"
            )

    def follow(self) -> None:
        """Clicks the events page's button#follow and waits for the feed it opens (or reuses)."""
        count = "return (window.__eventSourceObjects || []).length"
        before = self.js(count)
        self.css("button#follow").click()
        try:  # a page that asks for events on a new connection opens it now
            WebDriverWait(self.d, 2, poll_frequency=0.05).until(lambda d: d.execute_script(count) > before)
        except TimeoutException:
            pass  # the page's connection serves the events
        self.wait_live()

    def figures(self, strict: bool = True) -> dict:
        """The page's [data-figure] values; the contract's ones must be plain integers."""
        raw = self.js(
            "const out = {}; for (const e of document.querySelectorAll('[data-figure]')) "
            "out[e.getAttribute('data-figure')] = e.textContent.trim(); return out;"
        )
        out = {}
        for name, text in raw.items():
            if re.fullmatch(r"-?[0-9]+", text):
                out[name] = int(text)
            elif strict and (name in FIGURES or name.startswith("replay.")):
                self.fail(f"[data-figure={name}] is {text!r}, not a plain integer")
        return out

    def row_ids(self, selector: str, attribute: str) -> list:
        return self.js(
            "return Array.from(document.querySelectorAll(arguments[0]), e => e.getAttribute(arguments[1]));",
            selector,
            attribute,
        )

    def timeline(self) -> list:
        """ol#timeline's items: [{seq, type, request_id}] in page order."""
        return self.js("""
            const text = (li, sel) => { const e = li.querySelector(sel); return e ? e.textContent.trim() : null; };
            return Array.from(document.querySelectorAll('ol#timeline li[data-seq]'), li => ({
              seq: Number(li.getAttribute('data-seq')), type: text(li, '.event-type'), request_id: text(li, '.request-id')}));
            """)

    def assert_no_xss(self) -> None:
        self.assertEqual(self.js("return typeof window.__xss"), "undefined", f"a script ran on {self.path()}")

    def set_marker(self) -> None:
        self.js("window.__marker = 1;")

    def assert_not_reloaded(self) -> None:
        self.assertEqual(self.js("return window.__marker"), 1, "the page was reloaded (its JS marker is gone)")


def sse_capture(port: int, path: str, cookie: str, seconds: float, during=None) -> tuple[str, bytes]:
    """GET an event stream with a session cookie on a raw socket; runs during() once the
    head has been sent, reads for `seconds`; returns (head, body bytes so far)."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as s:
        s.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
                f"Cookie: botrix_session={cookie}\r\nConnection: close\r\n\r\n"
            ).encode()
        )
        data = b""
        deadline = time.monotonic() + WAIT
        while b"\r\n\r\n" not in data and time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        if during is not None:
            during()
        s.settimeout(0.25)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, TimeoutError):
                continue
            if not chunk:
                break
            body += chunk
        return head.decode("latin-1"), body


# --- With API keys ---------------------------------------------------------------------


class KeyedDashboard(DashboardTestCase):
    """A server with an admin, a read-only and a work key: the dashboard needs a login.

    These tests click through many live pages with one key; the stream limit is raised so
    that each test sees its own feature. StreamSlots checks the default limit."""

    label = "keyed"
    server_env = {"MAX_STREAMS_PER_KEY": "64"}

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.admin = cls.server.create_key("ui-admin", "admin")
        cls.read = cls.server.create_key("ui-read", "read")
        cls.work = cls.server.create_key("ui-work", "work")

    # Login

    def test_login_keeps_the_key_out_of_urls_storage_and_readable_cookies(self) -> None:
        self.clear_cookies()
        self.go("/ui/jobs")
        self.assertEqual(self.path(), "/ui/login", "a /ui page without a session must redirect to the login page")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.d.current_url).query)
        self.assertEqual(query.get("next"), ["/ui/jobs"])
        form = self.css("form#login-form")
        self.assertEqual((form.get_attribute("method") or "").lower(), "post")
        self.assertEqual(path_of(form.get_attribute("action")), "/ui/login")
        key_input = self.css("input#key")
        self.assertEqual(key_input.get_attribute("type"), "password")
        self.assertEqual(key_input.get_attribute("name"), "key")
        self.assertEqual((key_input.get_attribute("autocomplete") or "").lower(), "off")
        self.assertEqual(self.css("form#login-form input[name=next]").get_attribute("value"), "/ui/jobs")
        self.shot("login")

        key_input.send_keys(self.admin)
        self.submit(self.css("#login-button"))
        self.assertEqual(self.path(), "/ui/jobs", "login must lead back to next")
        self.assertTrue(self.has("table#jobs"))
        secret = self.admin.rsplit("_", 1)[-1]
        for needle in (self.admin, secret):
            self.assertNotIn(needle, self.d.current_url)
            history = self.d.execute_cdp_cmd("Page.getNavigationHistory", {})
            self.assertNotIn(needle, json.dumps(history), "the key is in the browser history")
            entries = self.js(
                "return JSON.stringify({href: location.href, referrer: document.referrer,"
                " entries: performance.getEntries().map(e => e.name)})"
            )
            self.assertNotIn(needle, entries, "the key is in the performance entries")
            storage = self.js(
                "return JSON.stringify({local: Object.assign({}, localStorage), session: Object.assign({}, sessionStorage)})"
            )
            self.assertNotIn(needle, storage, "the key is in localStorage or sessionStorage")
            self.assertNotIn(needle, self.d.page_source, "the key is in the page")
        cookie = self.session_cookie()
        self.assertIsNotNone(cookie)
        self.assertTrue(cookie.get("httpOnly"), cookie)
        self.assertEqual(cookie.get("sameSite"), "Strict", cookie)
        self.assertEqual(cookie.get("path"), "/ui", cookie)
        self.assertNotIn(secret, cookie["value"], "the key is in the cookie value")
        self.assertNotIn(self.server.key_id(self.admin), cookie["value"], "the key's id is in the cookie value")
        self.assertNotIn(
            "botrix_session", self.js("return document.cookie"), "the session cookie is readable by scripts"
        )
        for c in self.d.get_cookies():
            self.assertNotIn(secret, c.get("value", ""), f"the key is in cookie {c.get('name')}")
        self.assertIn(self.server.key_id(self.admin), self.text("#whoami"))

    def test_login_refuses_a_wrong_key_and_a_key_without_read(self) -> None:
        self.clear_cookies()
        self.go("/ui/login")
        wrong = "btx_000000000000_" + "0" * 48
        self.css("input#key").send_keys(wrong)
        self.submit(self.css("#login-button"))
        self.assertEqual(self.status(), 401)
        self.assertTrue(self.has(".flash.error"), "a wrong key must say so")
        self.assertTrue(self.has("form#login-form"), "a wrong key re-shows the form")
        self.assertEqual(self.css("input#key").get_attribute("value"), "", "the wrong key must not be filled back in")
        self.assertNotIn(wrong, self.d.page_source)
        self.go("/ui/")
        self.assertEqual(self.path(), "/ui/login", "a wrong key must not open a session")

        self.go("/ui/login")
        self.css("input#key").send_keys(self.work)
        self.submit(self.css("#login-button"))
        self.assertEqual(self.status(), 403, "a key without the read scope is refused")
        self.assertNotIn(self.work, self.d.page_source)
        self.go("/ui/")
        self.assertEqual(self.path(), "/ui/login", "a key without read must not open a session")

    def test_logout_ends_the_session(self) -> None:
        self.login(self.admin)
        cookie = self.session_cookie()["value"]
        jar = {"Cookie": f"botrix_session={cookie}"}
        self.assertEqual(
            http("GET", self.url("/ui/"), headers=jar).status, 200, "the session works outside the browser"
        )
        # Without a csrf, logout is refused and the session lives on.
        self.post_form("/ui/logout", {"csrf": "not-the-token"})
        self.assertEqual(self.status(), 403, "a logout without the right csrf must be refused")
        self.go("/ui/")
        self.assertEqual(self.path(), "/ui/")
        self.assertIn(self.server.key_id(self.admin), self.text("#whoami"))
        # The real button logs out.
        self.submit(self.css("#logout-button"))
        self.assertEqual(self.path(), "/ui/login")
        self.go("/ui/")
        self.assertEqual(self.path(), "/ui/login", "after logout /ui/ must redirect to the login page")
        replayed = http("GET", self.url("/ui/"), headers=jar)
        self.assertEqual(replayed.status, 303, f"the old cookie must be dead: {replayed}")
        self.assertEqual(path_of(replayed.headers.get("Location", "")), "/ui/login")
        self.assertEqual(http("GET", self.url("/ui/live"), headers=jar).status, 401)
        self.assertEqual(http("GET", self.url("/ui/live")).status, 401)

    # Live pages

    def test_overview_shows_a_new_job_without_reload(self) -> None:
        self.login(self.admin)
        self.go("/ui/")
        self.wait_live(status_text=True)
        sources = self.js("return window.__eventSources")
        self.assertEqual([path_of(u) for u in sources], ["/ui/live"], "the overview opens one EventSource, on /ui/live")
        self.set_marker()
        job_id = self.create_job(1)
        self.wait(
            EC.presence_of_element_located((By.CSS_SELECTOR, f'table#recent-jobs tr[data-job-id="{job_id}"]')),
            f"job {job_id} did not appear in #recent-jobs within {LIVE_WAIT}s",
            timeout=LIVE_WAIT,
        )
        total = self.api("GET", "/api/jobs/stats").json()["total"]
        self.wait(
            lambda d: self.figures(strict=False).get("jobs.total") == total,
            f"[data-figure=jobs.total] did not become {total} live",
            timeout=LIVE_WAIT,
        )
        self.assert_not_reloaded()
        self.assertEqual(len(self.js("return window.__eventSources")), 1)

    def test_jobs_list_shows_a_new_job_without_reload(self) -> None:
        self.login(self.admin)
        self.go("/ui/jobs")
        self.wait_live()
        self.set_marker()
        job_id = self.create_job(1)
        self.wait(
            EC.presence_of_element_located((By.CSS_SELECTOR, f'table#jobs tr[data-job-id="{job_id}"]')),
            f"job {job_id} did not appear in table#jobs within {LIVE_WAIT}s",
            timeout=LIVE_WAIT,
        )
        self.assert_not_reloaded()
        self.assertTrue(
            self.has(f'table#jobs tr[data-job-id="{job_id}"] a[href="/ui/jobs/{job_id}"]'), "the row links to the job"
        )
        self.shot("jobs-list")

    def test_events_page_follows_new_events(self) -> None:
        self.login(self.admin)
        self.create_job(1)
        self.go("/ui/events")
        self.assertTrue(self.has("table#events tr[data-seq]"), "the events page lists events")
        self.follow()
        self.set_marker()
        job_id = self.create_job(1)
        head = self.head()
        self.wait(
            EC.presence_of_element_located((By.CSS_SELECTOR, f'table#events tr[data-seq="{head}"]')),
            f"event {head} did not appear while following",
            timeout=LIVE_WAIT,
        )
        self.assert_not_reloaded()
        first = self.row_ids("table#events tr[data-seq]", "data-seq")[0]
        self.assertEqual(int(first), head, "new rows appear at the top")
        self.shot("events")
        # A stream filter shows that stream's events, the same ones the API has.
        self.go(f"/ui/events?stream=job-{job_id}")
        api = [e["seq"] for e in self.api("GET", f"/api/events?stream=job-{job_id}").json()["data"]]
        shown = sorted(int(s) for s in self.row_ids("table#events tr[data-seq]", "data-seq"))
        self.assertEqual(shown, sorted(api))

    # The job page and cancelling

    def test_job_page_shows_the_timeline_with_request_ids(self) -> None:
        request_id = f"req-timeline-{RUN}"
        job_id = self.create_job(2, priority=10, request_id=request_id)
        claim = self.claim(job_id, "tl-worker")
        account = self.record_account(job_id, claim, "tl-worker")
        self.login(self.read)
        self.go(f"/ui/jobs/{job_id}")
        self.assertEqual(self.text("#job-status"), "running")
        self.assertTrue(self.has("progress#job-progress"))
        self.assertTrue(self.text("#job-etag"))
        self.assertEqual(
            self.row_ids("table#job-accounts tr[data-account-id]", "data-account-id"), [str(account["id"])]
        )
        items = {item["seq"]: item for item in self.timeline()}
        events = self.api("GET", f"/api/jobs/{job_id}/events").json()["data"]
        self.assertGreaterEqual(len(events), 2)
        for event in events:
            self.assertIn(event["seq"], items, f"{event['type']} (seq {event['seq']}) is missing from the timeline")
            self.assertEqual(items[event["seq"]]["type"], event["type"])
        self.assertEqual([items[e["seq"]]["type"] for e in events][:2], ["JobCreated", "JobClaimed"])
        self.assertEqual(items[events[0]["seq"]]["request_id"], request_id, "the create call's X-Request-ID")
        self.assertFalse(self.has("a#cancel-link"), "a read-only session gets no cancel link")

    def test_cancel_as_admin(self) -> None:
        job_id = self.create_job(3)
        self.login(self.admin)
        self.go(f"/ui/jobs/{job_id}")
        self.assertEqual(self.text("#job-status"), "pending")
        self.shot("job-page")
        self.assertEqual(path_of(self.css("a#cancel-link").get_attribute("href")), f"/ui/jobs/{job_id}/cancel")
        self.submit(self.css("a#cancel-link"))
        self.assertEqual(self.path(), f"/ui/jobs/{job_id}/cancel")
        self.assertTrue(self.css("form#cancel-form input[name=csrf]").get_attribute("value"))
        self.assertTrue(self.css("form#cancel-form input[name=etag]").get_attribute("value"))
        self.css("form#cancel-form textarea[name=reason]").send_keys(
            "<script>window.__xss=4</script> cancelled in the browser test"
        )
        self.shot("cancel-confirm")
        # A wrong or missing csrf is refused, and nothing changes.
        self.js("document.querySelector('form#cancel-form input[name=csrf]').value = 'forged'")
        self.submit(self.css("button#confirm-cancel"))
        self.assertEqual(self.status(), 403, "a cancel with a wrong csrf must be refused")
        self.assertEqual(self.job_status(job_id), "pending")
        self.go(f"/ui/jobs/{job_id}/cancel")
        self.js("document.querySelector('form#cancel-form input[name=csrf]').remove()")
        self.submit(self.css("button#confirm-cancel"))
        self.assertEqual(self.status(), 403, "a cancel without csrf must be refused")
        self.assertEqual(self.job_status(job_id), "pending")
        # The real thing.
        self.go(f"/ui/jobs/{job_id}/cancel")
        self.css("form#cancel-form textarea[name=reason]").send_keys(
            "<script>window.__xss=4</script> cancelled in the browser test"
        )
        self.submit(self.css("button#confirm-cancel"))
        self.assertEqual(self.path(), f"/ui/jobs/{job_id}")
        self.assertIn("cancelled=1", self.d.current_url)
        self.assertTrue(self.has(".flash.ok"))
        self.assertEqual(self.text("#job-status"), "cancelled")
        self.assertFalse(self.has("a#cancel-link"), "a cancelled job has no cancel link")
        self.assertEqual(self.job_status(job_id), "cancelled")
        self.assert_no_xss()
        self.assertIn("JobCancelled", [item["type"] for item in self.timeline()])
        # Cancelling again: 409 (from the confirm page; or the page for a finished job
        # already says so, and offers no button).
        self.go(f"/ui/jobs/{job_id}/cancel")
        if self.has("form#cancel-form button#confirm-cancel"):
            self.submit(self.css("button#confirm-cancel"))
            self.assertEqual(self.status(), 409, "cancelling a finished job answers 409")
        else:
            self.assertIn(self.status(), (200, 409))
        self.assertEqual(self.job_status(job_id), "cancelled")

    def test_cancel_is_refused_without_the_operate_scope(self) -> None:
        job_id = self.create_job(1)
        # The real form's etag, as an operator's page would have it.
        self.login(self.admin)
        self.go(f"/ui/jobs/{job_id}/cancel")
        etag = self.css("form#cancel-form input[name=etag]").get_attribute("value")

        self.login(self.read)
        self.go(f"/ui/jobs/{job_id}")
        self.assertEqual(self.text("#job-status"), "pending")
        self.assertFalse(self.has("a#cancel-link"), "a read-only session must not get a cancel link")
        self.post_form(f"/ui/jobs/{job_id}/cancel", {"csrf": self.csrf(), "etag": etag, "reason": "read-only try"})
        self.assertEqual(self.status(), 403, "a cancel without the operate scope must be refused")
        self.assertTrue(self.has(".flash.error"))
        self.assertEqual(self.job_status(job_id), "pending")

        # The same hand-built form with an operator's session works: the 403 was the scope.
        self.login(self.admin)
        self.go(f"/ui/jobs/{job_id}")
        self.post_form(f"/ui/jobs/{job_id}/cancel", {"csrf": self.csrf(), "etag": etag, "reason": "admin"})
        self.assertEqual(self.path(), f"/ui/jobs/{job_id}")
        self.assertEqual(self.job_status(job_id), "cancelled")

    def test_cancel_with_a_stale_etag_answers_412(self) -> None:
        job_id = self.create_job(2, priority=10)
        self.login(self.admin)
        self.go(f"/ui/jobs/{job_id}/cancel")
        self.claim(job_id, "etag-worker")  # the job changes after the page was shown
        self.submit(self.css("button#confirm-cancel"))
        self.assertEqual(self.status(), 412)
        self.assertEqual(self.job_status(job_id), "running")

    # Secrets and escaping

    def test_no_password_or_verification_code_in_any_page(self) -> None:
        secrets = [f"PW-secret-7f3a-{RUN}", f"VC-code-91b2-{RUN}", f"PW-second-{RUN}", f"VC-second-{RUN}"]
        job_id = self.create_job(10, priority=10)
        claim = self.claim(job_id, "secret-worker")
        a1 = self.record_account(
            job_id, claim, "secret-worker", password=secrets[0], verification_code=secrets[1], status="verified"
        )
        a2 = self.record_account(job_id, claim, "secret-worker", password=secrets[2], verification_code=secrets[3])

        self.login(self.admin)
        cookie = self.session_cookie()["value"]
        self.go("/ui/")
        self.wait_live()
        live_path = urllib.parse.urlsplit(self.js("return window.__eventSources[0]"))
        live_path = live_path.path + ("?" + live_path.query if live_path.query else "")

        def check(label: str) -> None:
            source = self.d.page_source
            for s in secrets:
                self.assertNotIn(s, source, f"a secret is in the HTML of {label} ({self.path()})")
            raw = http("GET", self.d.current_url, headers={"Cookie": f"botrix_session={cookie}"})
            self.assertEqual(raw.status, 200, f"{label}: {raw}")
            for s in secrets:
                self.assertNotIn(s, raw.text, f"a secret is in the served HTML of {label}")

        pages = [
            ("overview", "/ui/", None),
            ("job page", f"/ui/jobs/{job_id}", "table#job-accounts"),
            ("accounts list", "/ui/accounts", "table#accounts"),
            ("accounts search", "/ui/accounts?" + urllib.parse.urlencode({"q": a1["username"]}), "table#accounts"),
            ("accounts of the job", "/ui/accounts?" + urllib.parse.urlencode({"job": job_id}), "table#accounts"),
            ("account page 1", f"/ui/accounts/{a1['id']}", "#account-email"),
            ("account page 2", f"/ui/accounts/{a2['id']}", "#account-email"),
            ("account events", f"/ui/events?stream=account-{a1['id']}", "table#events"),
            ("replay", f"/ui/replay?seq={self.head()}", None),
        ]
        for label, path, selector in pages:
            self.go(path)
            if selector:
                self.assertTrue(self.has(selector), f"{label}: {selector} is missing")
            check(label)
        # The pages show the accounts, just not their secrets.
        self.go(f"/ui/accounts/{a1['id']}")
        self.assertEqual(self.text("#account-email"), a1["email"])
        self.assertEqual(self.text("#account-username"), a1["username"])
        self.assertEqual(self.text("#account-status"), "verified")
        self.assertTrue(self.has("ol#timeline li"))
        self.shot("account-page")
        self.go("/ui/accounts?" + urllib.parse.urlencode({"q": a1["username"]}))
        self.assertEqual(self.row_ids("table#accounts tr[data-account-id]", "data-account-id"), [str(a1["id"])])
        self.go("/ui/accounts?" + urllib.parse.urlencode({"job": job_id}))
        self.assertEqual(
            sorted(self.row_ids("table#accounts tr[data-account-id]", "data-account-id")),
            sorted([str(a1["id"]), str(a2["id"])]),
        )
        self.go(f"/ui/jobs/{job_id}")
        self.assertEqual(
            sorted(self.row_ids("table#job-accounts tr[data-account-id]", "data-account-id")),
            sorted([str(a1["id"]), str(a2["id"])]),
        )

        # Following the events page while a third account is recorded.
        third = [f"PW-third-{RUN}", f"VC-third-{RUN}"]
        secrets += third
        self.go("/ui/events")
        self.follow()
        a3 = self.record_account(job_id, claim, "secret-worker", password=third[0], verification_code=third[1])
        head = self.head()
        self.wait(
            EC.presence_of_element_located((By.CSS_SELECTOR, f'table#events tr[data-seq="{head}"]')),
            "the new account's event did not appear while following",
            timeout=LIVE_WAIT,
        )
        for s in secrets:
            self.assertNotIn(s, self.d.page_source, "a secret is in the followed events page")

        # The live stream itself carries no secret either.
        fourth = [f"PW-fourth-{RUN}", f"VC-fourth-{RUN}"]
        secrets += fourth
        self.go("/ui/accounts")  # leave the following page: its stream slot is given back
        head_text, body = sse_capture(
            self.server.port,
            live_path,
            cookie,
            2.0,
            during=lambda: self.record_account(
                job_id, claim, "secret-worker", password=fourth[0], verification_code=fourth[1]
            ),
        )
        self.assertRegex(head_text, r"^HTTP/1\.1 200", head_text)
        self.assertIn("text/event-stream", head_text.lower())
        for s in secrets:
            self.assertNotIn(s.encode(), body, "a secret is in the /ui/live stream")
        self.assertTrue(a3["id"])

    def test_html_is_escaped(self) -> None:
        script = "<script>window.__xss=1</script>"
        quoted = '"><img/src/onerror=window.__xss=7>'
        worker = "<img/src/onerror=window.__xss=2>"
        job_id = self.create_job(2, priority=10, request_id=script)
        other = self.create_job(1, request_id=quoted)
        self.login(self.admin)
        self.go("/ui/")
        self.wait_live()
        self.set_marker()
        claim = self.claim(job_id, worker)  # the leases table gets the worker id live
        self.wait(
            lambda d: worker in (self.text("table#leases") if self.has("table#leases") else "")
            or self.js("return typeof window.__xss") != "undefined",
            "the new lease (its worker id as text) did not appear in table#leases",
            timeout=LIVE_WAIT,
        )
        self.assert_no_xss()
        self.assert_not_reloaded()
        a = self.api(
            "POST",
            f"/api/jobs/{job_id}/progress",
            {
                "worker_id": worker,
                "claim_token": claim["claim_token"],
                "progress": 1,
                "message": "<img src=x onerror=window.__xss=3>",
            },
            key="work",
        )
        self.assertEqual(a.status, 200, a)
        account = self.record_account(
            job_id,
            claim,
            worker,
            account_data={"note": "<script>window.__xss=5</script>", "img": "<img src=x onerror=window.__xss=6>"},
        )
        # The API refuses such a username (its pattern); if it ever takes one, it must be escaped too.
        bad = self.api(
            "POST",
            f"/api/jobs/{job_id}/accounts",
            {
                "worker_id": worker,
                "claim_token": claim["claim_token"],
                "email": f"x{RUN}@example.com",
                "username": "<script>window.__xss=8</script>",
                "password": "long-enough-password",
                "birthdate": "1990-01-02",
            },
            key="work",
        )
        self.assertIn(bad.status, (201, 422), bad)

        self.go("/ui/")
        self.assertIn(worker, self.text("table#leases"))
        self.assert_no_xss()

        self.go(f"/ui/jobs/{job_id}")
        self.assert_no_xss()
        self.assertIn(script, [item["request_id"] for item in self.timeline()], "the request id shows as text")
        self.assertTrue(self.css("ol#timeline").is_displayed())

        self.go(f"/ui/jobs/{other}")
        self.assert_no_xss()
        self.assertIn(
            quoted, [item["request_id"] for item in self.timeline()], "a request id with a quote shows as text"
        )

        self.go(f"/ui/accounts/{account['id']}")
        self.assert_no_xss()
        self.assertIn(
            "<script>window.__xss=5</script>", self.js("return document.body.innerText"), "account_data shows as text"
        )

        for path in ("/ui/jobs", "/ui/accounts", "/ui/events", f"/ui/events?stream=job-{job_id}"):
            self.go(path)
            self.assert_no_xss()
        if bad.status == 201:
            self.go(f"/ui/accounts/{bad.json()['id']}")
            self.assert_no_xss()
            self.assertEqual(self.text("#account-username"), "<script>window.__xss=8</script>")

    # Every page once, with a screenshot

    def test_every_page_renders(self) -> None:
        job_id = self.create_job(2, priority=10, request_id=f"req-tour-{RUN}")
        claim = self.claim(job_id, "tour-worker")
        accounts = [self.record_account(job_id, claim, "tour-worker") for _ in range(2)]
        before_head = self.head()
        before_jobs = self.api("GET", "/api/jobs/stats").json()["total"]
        before_accounts = self.api("GET", "/api/accounts/stats").json()["total"]
        self.create_job(1)
        self.login(self.admin)

        # Overview
        self.go("/ui/")
        self.wait_live(status_text=True)
        figures = self.figures()
        self.assertEqual(sorted(set(FIGURES) - set(figures)), [], "figures missing from the overview")
        self.assertEqual(len(self.all("svg.chart")), 4)
        self.assertRegex(self.text("#success-rate"), r"^([0-9]{1,3}(\.[0-9])?%|—)$")
        self.assertTrue(self.has("table#leases"))
        self.assertTrue(self.has(f'table#recent-jobs tr[data-job-id="{job_id}"]'))
        self.assertTrue(self.text("#oldest-pending"))
        self.shot("overview")

        # Jobs list and its filters
        self.go("/ui/jobs?status=running")
        running = sorted(j["id"] for j in self.api("GET", "/api/jobs?status=running&limit=100").json()["data"])
        self.assertEqual(sorted(self.row_ids("table#jobs tr[data-job-id]", "data-job-id")), running)
        self.assertIn(job_id, running)
        self.assertTrue(self.has("form#job-filters select[name=status]"))
        self.assertTrue(self.has("form#job-filters select[name=priority]"))
        self.go("/ui/jobs")
        self.assertTrue(self.has(f'table#jobs tr[data-job-id="{job_id}"] a[href="/ui/jobs/{job_id}"]'))
        self.shot("jobs-list")

        # Job page
        self.go(f"/ui/jobs/{job_id}")
        self.assertEqual(self.text("#job-status"), "running")
        self.assertEqual(
            sorted(self.row_ids("table#job-accounts tr[data-account-id]", "data-account-id")),
            sorted(str(a["id"]) for a in accounts),
        )
        self.assertTrue(self.has("a#cancel-link"), "an admin gets a cancel link on a running job")
        self.shot("job-page")
        self.submit(self.css("a#cancel-link"))
        self.assertTrue(self.has("form#cancel-form textarea[name=reason]"))
        self.assertTrue(self.has("button#confirm-cancel"))
        self.shot("cancel-confirm")

        # Accounts
        self.go("/ui/accounts")
        shown = self.row_ids("table#accounts tr[data-account-id]", "data-account-id")
        for a in accounts:
            self.assertIn(str(a["id"]), shown)
        self.assertTrue(self.has("form#account-filters input[name=q]"))
        self.shot("accounts-list")
        self.go(f"/ui/accounts/{accounts[0]['id']}")
        self.assertEqual(self.text("#account-email"), accounts[0]["email"])
        self.assertEqual(self.text("#account-status"), accounts[0]["status"])
        self.shot("account-page")

        # Events
        self.go("/ui/events")
        self.assertTrue(self.has("table#events tr[data-seq]"))
        self.assertTrue(self.has("button#follow"))
        self.shot("events")

        # Replay: the state as of a sequence number
        self.go(f"/ui/replay?seq={before_head}")
        replay = self.figures()
        self.assertEqual(replay.get("replay.sequence"), before_head)
        self.assertEqual(replay.get("replay.jobs.total"), before_jobs)
        self.assertEqual(replay.get("replay.accounts.total"), before_accounts)
        self.shot("replay")
        self.go(f"/ui/replay?seq={before_head + 1}")
        self.assertEqual(self.figures().get("replay.jobs.total"), before_jobs + 1, "the event after it created a job")

        # Health
        health = http("GET", self.url("/health")).json()
        self.go("/ui/health")
        self.assertEqual(self.text("#health-status"), health["status"])
        self.assertIn("verified", self.text("#chain-status"))
        self.assertIn(health["version"], self.text("#version"))
        self.assertTrue(self.text("#uptime"))
        self.shot("health")

        # Not found
        for path in ("/ui/no-such-page", f"/ui/jobs/{uuid.uuid4()}", "/ui/accounts/987654321"):
            self.go(path)
            self.assertEqual(self.status(), 404, path)
            self.assertIn("not found", self.text("h1").lower(), path)
        self.shot("not-found")

        # Assets are cached for good; / leads to the dashboard.
        jar = {"Cookie": f"botrix_session={self.session_cookie()['value']}"}
        for asset in ("/ui/assets/app.css", "/ui/assets/app.js"):
            a = http("GET", self.url(asset), headers=jar)
            self.assertEqual(a.status, 200, asset)
            cache = a.headers.get("Cache-Control", "")
            for part in ("public", "max-age=31536000", "immutable"):
                self.assertIn(part, cache, asset)
        root = http("GET", self.url("/"))
        self.assertEqual(root.status, 303)
        self.assertEqual(path_of(root.headers.get("Location", "")), "/ui/")


class StreamSlots(DashboardTestCase):
    """Live pages with the default stream limit (MAX_STREAMS_PER_KEY=4), on a server of its own."""

    label = "streams"

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.admin = cls.server.create_key("streams-admin", "admin")

    def test_streams_of_left_pages_are_closed(self) -> None:
        # Clicking through live pages must not pile up streams: a browser opens at most 6
        # HTTP/1.1 connections to a host, and /ui/live counts against MAX_STREAMS_PER_KEY.
        # A page left for the back/forward cache must close its stream (pagehide), and a
        # page brought back (Back) must be live again.
        self.login(self.admin)
        pages = ["/ui/", "/ui/jobs", "/ui/", "/ui/jobs", "/ui/", "/ui/jobs", "/ui/", "/ui/jobs"]
        for n, path in enumerate(pages, 1):
            self.go(path)
            self.wait_live(
                context=f"page {n} of {len(pages)} opened one after another with one key (the pages left hold no stream): "
            )
        self.d.back()
        self.wait(lambda d: self.path() == "/ui/", "Back did not return to the overview")
        self.wait_live(context="after Back: ")
        self.set_marker()
        job_id = self.create_job(1)
        self.wait(
            EC.presence_of_element_located((By.CSS_SELECTOR, f'table#recent-jobs tr[data-job-id="{job_id}"]')),
            "the overview brought back with Back is not live: a new job did not appear",
            timeout=LIVE_WAIT,
        )


class OverviewFigures(DashboardTestCase):
    """The overview's figures for a known workload, on a server of its own."""

    label = "figures"

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.admin = cls.server.create_key("fig-admin", "admin")
        cls.work = cls.server.create_key("fig-work", "work")

    def test_overview_figures_match_the_workload(self) -> None:
        jobs = [self.create_job(2) for _ in range(3)]
        a = self.api("POST", "/api/queue/claim", {"worker_id": "fig-worker-1", "lease_seconds": 600}, key="work")
        self.assertEqual(a.status, 200, a)
        claim = a.json()
        running = claim["job"]["id"]
        self.assertIn(running, jobs)
        for _ in range(2):
            self.record_account(running, claim, "fig-worker-1")
        cancelled = next(j for j in jobs if j != running)
        self.cancel_via_api(cancelled)

        stats = self.api("GET", "/api/jobs/stats").json()
        accounts = self.api("GET", "/api/accounts/stats").json()
        health = http("GET", self.url("/health")).json()
        expected = {
            "jobs.total": 3,
            "jobs.pending": 1,
            "jobs.running": 1,
            "jobs.completed": 0,
            "jobs.failed": 0,
            "jobs.cancelled": 1,
            "queue.depth": 1,
            "leases.active": 1,
            "retries.waiting": 0,
            "accounts.total": 2,
            "head": self.head(),
            "lag": 0,
        }
        # The API agrees with the workload (else the figures below would test nothing).
        self.assertEqual(
            {
                "jobs.total": stats["total"],
                **{f"jobs.{k}": v for k, v in stats["by_status"].items()},
                "queue.depth": stats["queue_depth"],
                "leases.active": stats["active_leases"],
                "retries.waiting": stats["retries_waiting"],
                "accounts.total": accounts["total"],
                "head": health["checks"]["storage"]["head"],
                "lag": health["checks"]["projections"]["lag_events"],
            },
            expected,
        )

        self.login(self.admin)
        self.go("/ui/")
        try:
            self.wait(lambda d: {k: self.figures(strict=False).get(k) for k in expected} == expected, "", timeout=5)
        except TimeoutException:
            pass
        self.assertEqual({k: self.figures().get(k) for k in expected}, expected)
        self.wait_live(status_text=True)
        rate = stats["success_rate"]
        shown = self.text("#success-rate")
        if rate is None:
            self.assertEqual(shown, "—")
        else:
            self.assertAlmostEqual(float(shown.rstrip("%")), rate * 100, delta=0.06)
        leases = self.text("table#leases")
        self.assertIn("fig-worker-1", leases)
        self.assertEqual(sorted(self.row_ids("table#recent-jobs tr[data-job-id]", "data-job-id")), sorted(jobs))
        self.assertEqual(len(self.all("svg.chart")), 4)
        self.assertTrue(self.text("#oldest-pending"))
        self.shot("overview")

        # The same page on a phone.
        self.viewport(390, 844, mobile=True)
        self.go("/ui/")
        self.wait_live()
        self.assertEqual(self.js("return window.innerWidth"), 390)
        self.assertEqual({k: self.figures().get(k) for k in expected}, expected)
        self.shot("overview-phone")
        self.viewport(WIDTH, HEIGHT)


# --- Open mode -------------------------------------------------------------------------


class OpenModeDashboard(DashboardTestCase):
    """A server without keys (SERVER_ENV=development): the dashboard needs no login."""

    label = "open"

    def test_open_mode_needs_no_login(self) -> None:
        self.clear_cookies()
        self.go("/ui/jobs")
        self.assertEqual(self.path(), "/ui/jobs", "open mode must not redirect to the login page")
        self.assertEqual(self.status(), 200)
        empty = self.text(".empty")
        self.assertIn("curl", empty, "the empty jobs list shows a curl command to create a first job")
        self.assertIn("/api/jobs", empty)
        self.shot("open-mode-jobs-empty")
        # Open mode keeps no session: nothing to push out, nothing to grow.
        self.assertIsNone(self.session_cookie(), "open mode sets no session cookie")
        self.wait_live()
        self.set_marker()
        job_id = self.create_job(1)
        self.wait(
            EC.presence_of_element_located((By.CSS_SELECTOR, f'table#jobs tr[data-job-id="{job_id}"]')),
            "a new job did not appear in open mode",
            timeout=LIVE_WAIT,
        )
        self.assert_not_reloaded()
        self.go("/ui/")
        self.assertEqual(self.path(), "/ui/")
        self.assertEqual(self.figures().get("jobs.total"), 1)
        self.wait_live(status_text=True)
        self.shot("open-mode-overview")
        self.go(f"/ui/jobs/{job_id}")
        self.assertEqual(self.text("#job-status"), "pending")


if __name__ == "__main__":
    unittest.main()
