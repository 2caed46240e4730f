#!/usr/bin/env python3
"""A group session in real browsers: a facilitator and two members in headless Chromium, with fake camera and mic,
against a real Circle server, inside a network namespace that holds only loopback.

Robin facilitates and Sam joins at 1280×800; Alexandra joins from a phone (390×844, touch). Steps (each one a test;
a failed step stops the ones after it, which depend on it): link, early, prejoin, join, keyboard, webrtc, round, mute,
privateword, hands, silence, resume, crossorigin, attendance, end, records. After every step each page is
screenshotted at 1280×800 and 390×844 into .build-browser/screens/ (gitignored) and checked with axe-core: a serious or
critical violation fails the step (the whole list: .build-browser/axe.json). Prints `N passed, M failed` last; exits
non-zero on a failure. The main server keeps attendance records (--data-dir on a temporary directory).

Run: python3 Tests/browser/run.py [STEP]  (needs chromium, chromium-driver, selenium, axe-selenium-python and a
`circle` build: the newer of .build/release and .build/debug, or CIRCLE=path; with STEP, stops after that step)
"""
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, '.build-browser')
SCREENS = os.path.join(OUT, 'screens')
# CIRCLE=path, else the newer of the release and debug builds (Scripts/test builds debug; a release build is faster).
BUILDS = [os.path.join(ROOT, '.build', kind, 'circle') for kind in ('release', 'debug')]
CIRCLE = os.environ.get('CIRCLE') or max((b for b in BUILDS if os.path.exists(b)), key=os.path.getmtime,
                                         default=BUILDS[0])
PORT = 18080
OTHER_PORT = 18081   # a team's own page, on another origin
OPEN_PORT = 18090    # a second Circle with no --allow-origin
ROOM = 'browser-test'
BASE = f'http://127.0.0.1:{PORT}'
OTHER = f'http://127.0.0.1:{OTHER_PORT}'
INSIDE = 'CIRCLE_BROWSER_NAMESPACE'
DESKTOP = (1280, 800, False)
PHONE = (390, 844, True)


# ── the namespace ────────────────────────────────────────────────────────────────────────────────

def enter_namespace():
    """Re-runs this script in a new network, PID and mount namespace with only `lo` up; whatever it starts dies with
    the namespace."""
    cmd = ['unshare', '--net', '--pid', '--fork', '--mount-proc']
    if os.geteuid() != 0:
        cmd[1:1] = ['--user', '--map-root-user']
    script = 'ip link set lo up && exec "$0" "$@"'
    env = dict(os.environ, **{INSIDE: '1'})
    return subprocess.call(cmd + ['bash', '-c', script, sys.executable, os.path.abspath(__file__)] + sys.argv[1:],
                           env=env)


def interfaces():
    """The network interfaces this process sees (from `ip`, since /sys still shows the parent's)."""
    out = subprocess.check_output(['ip', '-o', 'link', 'show'], text=True)
    return sorted(line.split(':')[1].strip().split('@')[0] for line in out.splitlines() if line.strip())


# ── the servers ──────────────────────────────────────────────────────────────────────────────────

class Server:
    """A Circle server; `origins` become its --allow-origin list (none: any origin). With `records`, it keeps
    attendance records (`--data-dir` on a fresh temporary directory, removed by `stop()`)."""

    def __init__(self, port=PORT, origins=(), name='server', records=False):
        os.makedirs(OUT, exist_ok=True)
        self.data_dir = tempfile.mkdtemp(prefix='circle-browser-') if records else None
        self.port = port
        self.base = f'http://127.0.0.1:{port}'
        self.secret = os.path.join(OUT, 'secret')
        if not os.path.exists(self.secret) or name == 'server':
            with open(self.secret, 'wb') as f:
                f.write(os.urandom(32).hex().encode())
            os.chmod(self.secret, 0o600)
        self.log = open(os.path.join(OUT, f'{name}.log'), 'wb')
        allow = [a for o in origins for a in ('--allow-origin', o)]
        self.proc = subprocess.Popen(
            [CIRCLE, 'serve', '--host', '127.0.0.1', '--port', str(port), '--secret-file', self.secret,
             '--web-root', os.path.join(ROOT, 'Web'), '--grace-seconds', '30', '--log-level', 'info',
             '--data-dir', self.data_dir or 'none'] + allow,
            stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(self.base + '/healthz', timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f'the server did not start; see .build-browser/{name}.log')
            time.sleep(0.05)

    def token(self, sub, name, role, room=ROOM, ttl=3600):
        return subprocess.check_output(
            [CIRCLE, 'token', '--secret-file', self.secret, '--room', room, '--sub', sub, '--name', name,
             '--role', role, '--ttl', str(ttl)], text=True).strip()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


# The page a web team writes on another origin: it imports the library from the Circle server and joins.
TEAM_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A team's page</title></head>
<body><main><h1>A team's page</h1><p id="out">…</p></main>
<script type="module">
const args = new URLSearchParams(location.hash.slice(1));
const { CircleClient } = await import(args.get('base') + '/circle.js');
const client = new CircleClient({ room: args.get('room'), token: args.get('token'),
  url: args.get('base').replace(/^http/, 'ws'), reconnect: { initialDelayMs: 200, maxDelayMs: 400 },
  tokenIn: args.get('tokenIn') || undefined });
window.seen = { states: [], errors: [], welcome: null };
client.on('state', (e) => window.seen.states.push(e.state));
client.on('error', (e) => window.seen.errors.push(e.code));
client.on('welcome', (w) => { window.seen.welcome = w; });
window.client = client;
client.connect();
</script></body></html>
"""


class StaticSite:
    """A tiny static web server on another loopback port, for the team's page."""

    def __init__(self, port):
        self.root = os.path.join(OUT, 'team-site')
        os.makedirs(self.root, exist_ok=True)
        with open(os.path.join(self.root, 'index.html'), 'w') as f:
            f.write(TEAM_PAGE)
        handler = functools.partial(Quiet, directory=self.root)
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', port), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


# ── the browsers ─────────────────────────────────────────────────────────────────────────────────

def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which('chromium') or '/usr/bin/chromium'
    for flag in ['--headless=new', '--no-sandbox', '--use-fake-device-for-media-stream',
                 '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
                 '--autoplay-policy=no-user-gesture-required', '--disable-dev-shm-usage',
                 '--window-size=1280,900', '--no-first-run', '--disable-extensions']:
        options.add_argument(flag)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    service = Service(executable_path='/usr/bin/chromedriver', log_output=os.path.join(OUT, 'chromedriver.log'))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_script_timeout(20)
    driver.set_page_load_timeout(15)
    return driver


AXE = None


def axe_source():
    global AXE
    if AXE is None:
        import axe_selenium_python
        path = os.path.join(os.path.dirname(axe_selenium_python.__file__), 'node_modules', 'axe-core', 'axe.min.js')
        with open(path, encoding='utf8') as f:
            AXE = f.read()
    return AXE


class Page:
    """One participant's browser, with the viewport it lives in."""

    def __init__(self, who, sub, driver, home=DESKTOP):
        self.who = who
        self.sub = sub
        self.d = driver
        self.home = home
        self.viewport(*home)
        self.console = []  # every browser console line seen so far

    def viewport(self, width, height, mobile):
        self.d.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', {
            'width': width, 'height': height, 'deviceScaleFactor': 1, 'mobile': mobile})
        self.d.execute_cdp_cmd('Emulation.setTouchEmulationEnabled', {'enabled': mobile})

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def stats(self):
        """Per peer: state, framesDecoded, audioPacketsReceived, audioPacketsSent (the page's getStats())."""
        return self.d.execute_async_script(
            'const done = arguments[arguments.length - 1];'
            'window.circleApp.peerStats().then(done, (e) => done({error: String(e)}));')

    def text(self, css):
        text = self.js('const e = document.querySelector(arguments[0]); return e ? e.textContent : null;', css)
        return ' '.join(text.split()) if text is not None else None

    def visible(self, css):
        return self.js('const e = document.querySelector(arguments[0]);'
                       'return !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";',
                       css)

    def click(self, css, timeout=5.0):
        """Clicks the element `css` names. A page may re-render the element between finding and clicking it (a
        stale element: the click did not happen), so it is found again until `timeout`."""
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.d.find_element(By.CSS_SELECTOR, css).click()
            except StaleElementReferenceException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def room(self):
        return self.js('const c = window.circleApp.client; return {state: c.state, seq: c.seq,'
                       ' phase: c.room.phase, queue: c.room.queue, speaker: c.room.speaker ?? null,'
                       ' ids: [...c.room.participants.keys()],'
                       ' conn: Object.fromEntries([...c.room.participants.values()].map(p => [p.id, p.connection])),'
                       ' muted: Object.fromEntries([...c.room.participants.values()].map(p => [p.id, p.muted]))};')

    def logs(self):
        """The console lines since the last call (kept in `self.console` too)."""
        lines = [f'{e.get("level")} {e.get("message", "")}' for e in self.d.get_log('browser')]
        self.console += lines
        return lines

    def shot(self, step):
        """Screenshots at 1280×800 and at 390×844, then back to this page's own size."""
        for width, height, mobile in (DESKTOP, PHONE):
            self.viewport(width, height, mobile)
            time.sleep(0.3)
            self.d.save_screenshot(os.path.join(SCREENS, f'{step}-{self.who}-{width}x{height}.png'))
        self.viewport(*self.home)

    def audit(self, step):
        """axe-core on the page as it is now: returns the serious and critical violations (all go to axe.json)."""
        if not self.js('return !!window.axe'):
            self.js(axe_source())
        result = self.d.execute_async_script(
            'const done = arguments[arguments.length - 1];'
            'axe.run(document, {resultTypes: ["violations"]}).then((r) => done(r.violations),'
            ' (e) => done([{id: "axe-error", impact: "critical", help: String(e), nodes: []}]));')
        found = [{'id': v['id'], 'impact': v.get('impact'), 'help': v.get('help'),
                  'nodes': [n.get('target') for n in v.get('nodes', [])][:5]} for v in result]
        AUDITS.append({'step': step, 'page': self.who, 'url': self.d.current_url.split('#')[0],
                       'violations': found})
        return [v for v in found if v['impact'] in ('serious', 'critical')]


AUDITS = []


def wait(condition, what, timeout=10.0):
    """Polls `condition` until it returns something truthy; fails with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as e:  # a page mid-update: try again until the deadline
            last_error = e
        time.sleep(0.1)
    raise AssertionError(f'timed out after {timeout:.0f}s waiting for: {what}'
                         + (f' (last error: {last_error})' if last_error else ''))


def check(condition, what):
    if not condition:
        raise AssertionError(what)


# ── the session ──────────────────────────────────────────────────────────────────────────────────

# The facilitator's controls that must be in view, without scrolling, at 1280×800.
KEY_CONTROLS = ['#advance', '#floor-next', '#floor-end', '#queue', '#queue-clear', '#mute-all', '#lock',
                '#end-session', '#silence-start', 'button[data-phase="sharing"]', '#mic', '#camera']

IN_VIEW = """
const e = document.querySelector(arguments[0]);
if (!e || !e.getClientRects().length) return 'missing or hidden';
const r = e.getBoundingClientRect();
if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) return 'outside the viewport';
for (let a = e.parentElement; a; a = a.parentElement) {
  const s = getComputedStyle(a);
  if (/(auto|scroll|hidden)/.test(s.overflowY + s.overflowX)) {
    const b = a.getBoundingClientRect();
    if (r.top < b.top - 1 || r.bottom > b.bottom + 1 || r.left < b.left - 1 || r.right > b.right + 1)
      return 'scrolled out of ' + (a.id || a.className || a.tagName);
  }
}
return '';
"""


class Session:
    def __init__(self, server, pages):
        self.server = server
        self.f, self.a, self.b = pages  # facilitator Robin, members Sam and Alexandra (on a phone)
        self.pages = pages
        self.extra = []   # browsers started by a step

    def link(self, p, token):
        return f'{BASE}/#room={ROOM}&token={token}'

    def step_link(self):
        """No link, an expired link and a forged one each say what happened and what to do."""
        a = self.a
        a.d.get(BASE + '/')
        wait(lambda: a.visible('#gate'), 'no link: the gate shows')
        check(a.text('#gate-title') == 'Join a group', 'no link: it asks for the link')
        check(not a.audit('link-none'), f'axe on the no-link page: {AUDITS[-1]["violations"]}')
        expired = self.server.token('m-sam', 'Sam', 'member', ttl=1)
        time.sleep(2.1)
        a.d.get(self.link(a, expired))
        wait(lambda: a.visible('#gate') and a.text('#gate-title') == 'This link has expired',
             'an expired link shows its message', timeout=5)
        check('ask your facilitator for a new one' in a.text('#gate-text'), 'and what to do')
        check(not a.visible('#session') and not a.visible('#prejoin'), 'and nothing else')
        check(a.js('return document.title').startswith('This link has expired'), 'the title says it too')
        a.shot('00a-link-expired')
        check(not a.audit('link-expired'), f'axe on the expired-link page: {AUDITS[-1]["violations"]}')
        good = self.server.token('m-sam', 'Sam', 'member')
        forged = good[:-4] + ('AAAA' if not good.endswith('AAAA') else 'BBBB')
        a.d.get(self.link(a, forged))
        wait(lambda: a.visible('#prejoin') and a.js('return !document.getElementById("join").disabled'),
             'a forged link cannot be told before joining')
        a.click('#join')
        wait(lambda: a.visible('#gate') and a.text('#gate-title') == 'This link is not valid',
             'a forged link shows its message', timeout=5)
        logs = ' '.join(a.logs())
        if a.js('return window.circleApp.client.tokenIn') == 'protocol':  # the query form puts it in the URL
            check(forged.split('.')[2] not in logs and expired.split('.')[2] not in logs,
                  f'no token in the browser console: {logs[:400]}')
        a.js('sessionStorage.clear()')

    def step_early(self):
        """A member who comes before the facilitator is told so calmly, with no room, and is let in when she comes."""
        a, f = self.a, self.f
        for p, role in ((a, 'member'), (f, 'facilitator')):
            p.d.get(f'{BASE}/#room=early-room&token={self.server.token(p.sub, p.name, role, room="early-room")}')
            wait(lambda: p.visible('#prejoin') and p.js('return !document.getElementById("join").disabled'),
                 f'{p.who}: the pre-join step shows, ready')
            if p is a:
                a.click('#join')
                wait(lambda: 'early' in (a.text('#connection') or ''), 'Sam is told the session has not started')
                check(not a.visible('#session'), 'and sees no room controls')
                check(a.js('return window.circleApp.client.state') == 'waiting', 'the client is waiting')
                a.shot('00b-early')
        f.click('#join')
        wait(lambda: a.visible('#session') and a.js('return window.circleApp.client.state') == 'open',
             'Sam is let in when Robin opens the session')
        wait(lambda: a.room()['ids'] == [f.sub, a.sub], 'and sees Robin and herself')

    def step_prejoin(self):
        """Each person sees their camera and mic level before joining; Alexandra will join with the camera off."""
        for p in self.pages:
            role = 'facilitator' if p is self.f else 'member'
            p.d.get(self.link(p, self.server.token(p.sub, p.name, role)))
        for p in self.pages:
            wait(lambda: p.visible('#prejoin') and p.js('return !document.getElementById("join").disabled'),
                 f'{p.who}: the pre-join step shows, ready')
            wait(lambda: p.js('return document.getElementById("preview-video").videoWidth > 0'),
                 f'{p.who}: the camera preview plays')
            check(p.text('#prejoin-hello').startswith(f'Hello, {p.name}.'), f'{p.who} is greeted by name')
            check('you never have to share' in p.text('.expect'), 'it says what to expect')
            check(not p.visible('#session'), 'nobody has joined yet')
        wait(lambda: self.b.js('return document.getElementById("level").value') > 0,
             'the mic level moves', timeout=8)
        self.b.click('#pre-camera')
        wait(lambda: self.b.visible('#preview-off'), 'Alexandra sees her camera is off')
        check(self.b.js('return document.getElementById("pre-camera").getAttribute("aria-pressed")') == 'false',
              'the camera toggle is not pressed')

    def step_join(self):
        for p in self.pages:
            p.click('#join')
            time.sleep(0.3)  # join in a known order: Robin, Sam, Alexandra
        subs = [p.sub for p in self.pages]
        for p in self.pages:
            wait(lambda: p.room()['ids'] == subs, f'{p.who} sees all three, in join order')
            wait(lambda: p.js('return document.querySelectorAll("#tiles .tile").length') == 3, f'{p.who}: 3 tiles')
            check('token' not in p.d.current_url, 'the token is gone from the address bar')
            check(p.js('const s = window.circleApp.client.socket; return [s.protocol, s.url]')
                  == ['circle', f'ws://127.0.0.1:{PORT}/rooms/{ROOM}'],
                  'the token went in the subprotocol: the server answered `circle`, the URL holds no token')
        check(not self.f.js('return document.getElementById("console").hidden'), 'the facilitator sees the console')
        check(self.a.js('return document.getElementById("console").hidden'), 'a member does not')
        check(self.f.text('#phase').startswith('Introductions'), 'the phase is shown')
        check(not self.f.visible('#hand') and not self.f.visible('#moment'),
              "the facilitator's own panel has no raise-hand or private word")
        b = self.b
        check(b.js('return window.circleApp.media.camera === null'), "Alexandra's camera is released (light off)")
        wait(lambda: 'camera off' in self.f.text(f'#tiles [data-participant="{b.sub}"] .status'),
             'the others see her camera off')
        b.click('#camera')
        wait(lambda: b.js('return document.getElementById("camera").getAttribute("aria-pressed")') == 'true',
             'Alexandra turns the camera on after all')
        wait(lambda: 'camera off' not in self.f.text(f'#tiles [data-participant="{b.sub}"] .status'),
             'the others see it on')

    def step_keyboard(self):
        """Every control has an accessible name, and a member reaches "Raise hand" with Tab alone."""
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.common.action_chains import ActionChains
        for p in (self.f, self.a):
            unnamed = p.js(
                'return [...document.querySelectorAll("button, input, select")].filter(e => e.offsetParent !== null)'
                '.filter(e => !((e.labels && e.labels.length) || e.getAttribute("aria-label") || e.textContent.trim()))'
                '.map(e => e.outerHTML.slice(0, 80));')
            check(unnamed == [], f'controls without a name: {unnamed}')
        self.a.d.find_element('css selector', 'body').click()
        ActionChains(self.a.d).send_keys(Keys.TAB * 4).perform()
        for _ in range(30):
            if self.a.js('return document.activeElement.id') == 'hand':
                break
            ActionChains(self.a.d).send_keys(Keys.TAB).perform()
        check(self.a.js('return document.activeElement.id') == 'hand', 'Tab reaches the raise-hand button')
        # The facilitator's keyboard focus rests on Alexandra's "Mute"; the room changing must not take it away.
        mute_b = f'#people tr[data-participant="{self.b.sub}"] button[data-act="mute"]'
        self.f.js('const b = document.querySelector(arguments[0]); b.dataset.probe = "1"; b.focus();', mute_b)
        self.a.d.switch_to.active_element.send_keys(Keys.ENTER)
        wait(lambda: self.f.room()['queue'] == [self.a.sub], 'Sam raised a hand with the keyboard')
        wait(lambda: self.f.js('return document.querySelectorAll("#queue li[data-participant]").length') == 1,
             "the console lists Sam's hand")
        check(self.f.js('return document.activeElement.dataset.probe') == '1',
              "the facilitator's focus stayed on Alexandra's Mute button while the room changed")
        self.a.click('#hand')  # and lowers it again with a click
        wait(lambda: self.f.room()['queue'] == [], 'Sam lowered the hand')

    def step_webrtc(self):
        def connected(p):
            s = p.stats()
            others = [q.sub for q in self.pages if q is not p]
            ok = all(s.get(o, {}).get('state') == 'connected' and s[o]['framesDecoded'] > 0 for o in others)
            if any(s.get(o, {}).get('state') in ('failed', 'closed') for o in others):
                raise AssertionError(f'{p.who}: a peer connection failed: {s}')
            return ok
        for p in self.pages:
            wait(lambda: connected(p), f'{p.who}: connected to both others with decoded video', timeout=20)
        wait(lambda: all(p.js('return [...document.querySelectorAll("#tiles video")].every('
                              'v => v.videoWidth > 0)') for p in self.pages), 'every tile shows video')

    def step_round(self):
        """Members see the round's order and their place in it."""
        f, a, b = self.f, self.a, self.b
        for p in (a, b):
            wait(lambda: p.visible('#order'), f'{p.who} sees the order of the round')
            names = p.js('return [...document.querySelectorAll("#order-list li")].map(e => e.firstChild.textContent)')
            check(names == (['You', b.name] if p is a else [a.name, 'You']), f'{p.who}: the order is {names}')
        wait(lambda: a.text('#my-place') == 'You are next. You can pass if you prefer.', 'Sam is next')
        wait(lambda: b.text('#my-place').startswith('You are 2nd in line'), 'Alexandra is second')
        f.click('#advance')
        wait(lambda: a.text('#my-place').startswith('It is your turn'), 'Sam is told it is his turn')
        wait(lambda: b.text('#my-place').startswith('You are next'), 'Alexandra is next now')
        for p in self.pages:
            p.shot('06a-round')
        a.click('#end-turn')
        wait(lambda: b.text('#my-place').startswith('It is your turn'), "then it is Alexandra's turn")
        wait(lambda: a.text('#my-place') == 'You have had your turn in this round.', 'Sam has had his')
        b.click('#pass')
        wait(lambda: f.room()['speaker'] is None, 'Alexandra passed')
        wait(lambda: '(passed)' in a.text('#order-list'), 'the order shows the pass')

    def step_mute(self):
        a, f = self.a, self.f
        sent = lambda: a.stats()[f.sub]['audioPacketsSent']
        received = lambda: f.stats()[a.sub]['audioPacketsReceived']
        s0, r0 = sent(), received()
        time.sleep(0.6)
        check(sent() > s0 and received() > r0, 'Sam is sending audio before the mute')
        f.click(f'#people tr[data-participant="{a.sub}"] button[data-act="mute"]')
        wait(lambda: a.text('#mic .state') == 'muted by facilitator', "Sam's page shows the mute")
        check(a.js('return document.getElementById("mic").disabled'), "Sam's mic button is held")
        check(a.js('return document.getElementById("mic").getAttribute("aria-pressed")') == 'false',
              'and not pressed')
        wait(lambda: 'muted' in (a.text('#notice') or ''), "Sam's page says why")
        wait(lambda: 'muted by facilitator' in self.b.text(f'#tiles [data-participant="{a.sub}"] .status'),
             "Alexandra sees Sam muted")
        time.sleep(0.5)  # packets already on the wire arrive
        s1, r1 = sent(), received()
        time.sleep(1.5)
        s2, r2 = sent(), received()
        check(s2 == s1, f'Sam sends no audio packets while muted ({s1} → {s2})')
        check(r2 == r1, f'the facilitator receives no audio from Sam while muted ({r1} → {r2})')

    def step_privateword(self):
        """"I need a moment" shows at the top of the facilitator's view within a second, calmly."""
        f, a = self.f, self.a
        f.js('document.querySelector("#console fieldset:last-of-type").scrollIntoView()')  # the list, far down
        a.d.find_element('css selector', '#moment-text').send_keys('feeling a bit overwhelmed')
        # Timed in the pages, on the machine's one clock: Sam's submit, and the notice showing on Robin's page.
        a.js('document.getElementById("moment").addEventListener("submit", () => { window.sentAt = Date.now(); },'
             ' {capture: true, once: true});')
        f.js('window.shownAt = 0; const box = document.getElementById("moment-alert");'
             'new MutationObserver(() => { if (!box.hidden && !window.shownAt) window.shownAt = Date.now(); })'
             '.observe(box, {attributes: true, childList: true, subtree: true});')
        a.click('#moment-send')
        wait(lambda: f.visible('#moment-alert') and not f.js(IN_VIEW, '#moment-alert li'),
             "the facilitator sees a notice at the top", timeout=3.0)
        took = (f.js('return window.shownAt') - a.js('return window.sentAt')) / 1000
        check(0 <= took < 1.0, f'the notice showed within a second of sending ({took * 1000:.0f} ms)')
        top = f.js('return document.querySelector("#moment-alert").getBoundingClientRect().top')
        check(top < 120, f'the notice is at the top of the view (top {top:.0f}px)')
        check('Sam needs a moment' in f.text('#moment-alert') and 'overwhelmed' in f.text('#moment-alert'),
              'it says who, and the note')
        check(f.js('return document.title') == 'Sam needs a moment · Circle', 'the page title says it')
        check(not self.b.visible('#moment-alert'), 'other members see nothing')
        wait(lambda: 'with the facilitator' in a.text('#notice'), 'Sam is told it arrived')
        for p in (f, a):
            p.shot('08a-private-word')
        check(not f.audit('private-word'), f'axe with the notice: {AUDITS[-1]["violations"]}')
        f.click('#moment-alert button[data-act="seen"]')
        wait(lambda: not f.visible('#moment-alert'), 'Seen: the notice goes')
        wait(lambda: 'Robin has seen your message' in a.text('#notice'), 'and Sam is told it was seen')
        check(f.js('return document.title') == 'Circle', 'and the title is calm again')
        check(f.js('return document.querySelectorAll("#private li:not(.empty)").length') == 1,
              'the private messages list keeps it')
        print(f'      private word shown after {took * 1000:.0f} ms', flush=True)

    def facilitator_layout(self):
        """At 1280×800 the facilitator's page does not scroll as a whole, nor sideways, and the key controls show."""
        f = self.f
        size = f.js('const e = document.scrollingElement; return [e.scrollHeight, e.scrollWidth, innerHeight,'
                    ' innerWidth, document.querySelector(".side").scrollWidth,'
                    ' document.querySelector(".side").clientWidth];')
        check(size[0] <= size[2] and size[1] <= size[3], f'the page does not scroll (scroll {size[:2]}, view {size[2:4]})')
        check(size[4] <= size[5], f'the console does not scroll sideways ({size[4]} > {size[5]})')
        out = {c: f.js(IN_VIEW, c) for c in KEY_CONTROLS}
        out.update({c: f.js(IN_VIEW, c) for c in
                    [f'#queue li[data-participant] button[data-act="{act}"]' for act in ('floor', 'down', 'remove')]})
        bad = {c: why for c, why in out.items() if why}
        check(not bad, f'key controls not in view: {bad}')

    def step_hands(self):
        f, a, b = self.f, self.a, self.b
        f.click('button[data-phase="sharing"]')
        wait(lambda: all(p.room()['phase'] == 'sharing' for p in self.pages), 'everyone is in open sharing')
        b.click('#hand')
        wait(lambda: f.room()['queue'] == [b.sub], 'Alexandra is first in the queue')
        a.click('#hand')
        wait(lambda: f.room()['queue'] == [b.sub, a.sub], 'Sam is second')
        wait(lambda: a.text('#hand') == 'Lower hand (2nd in line)', 'Sam sees his place')
        wait(lambda: f.js('return document.querySelectorAll("#queue li[data-participant]").length') == 2,
             'the console lists both hands')
        f.js('document.querySelector(".side").scrollTop = 0')
        self.facilitator_layout()
        f.shot('09a-hands-raised')
        f.click(f'#queue li[data-participant="{a.sub}"] button[data-act="floor"]')
        wait(lambda: all(p.room()['speaker'] == a.sub for p in self.pages), 'Sam has the floor everywhere')
        wait(lambda: a.text('#floor').startswith('You have the floor'), 'Sam is told')
        wait(lambda: b.text('#floor') == 'Sam has the floor', 'Alexandra sees who speaks')
        check(f.room()['queue'] == [b.sub], 'Sam left the queue by taking the floor')
        check(f.room()['muted'][a.sub] is False, "the floor lifted Sam's mute")
        wait(lambda: not a.js('return document.getElementById("mic").disabled'), "Sam's mic is Sam's again")
        check(a.text('#mic .state') == 'off', 'but stays off until Sam turns it on')
        a.click('#mic')
        wait(lambda: f.js(f'return window.circleApp.room.participants.get("{a.sub}").mic') is True,
             'Sam turned the mic on')
        check(a.js('return document.getElementById("mic").getAttribute("aria-pressed")') == 'true', 'mic pressed')
        a.click('#end-turn')
        wait(lambda: f.room()['speaker'] is None, "Sam ended the turn")
        a.click('#hand')
        wait(lambda: f.room()['queue'] == [b.sub, a.sub], 'Sam raised a hand again, behind Alexandra')

    def step_silence(self):
        f, a = self.f, self.a
        seconds = f.d.find_element('css selector', '#silence-seconds')
        seconds.clear()
        seconds.send_keys('5')
        for p in self.pages:  # what each page sees, so that a slow poll cannot miss a short silence
            p.js('window.seen = {phases: [], muteRequests: []};'
                 'const c = window.circleApp.client;'
                 'c.on("phase_changed", (e) => window.seen.phases.push(e.phase));'
                 'c.on("mute_request", (m) => window.seen.muteRequests.push(m.reason));')
        f.click('#silence-start')
        wait(lambda: all('silence' in p.js('return window.seen.phases') for p in self.pages),
             'everyone entered the silence')
        if a.room()['phase'] == 'silence':
            for p in (a, f):
                p.d.save_screenshot(os.path.join(SCREENS, f'10a-silence-{p.who}.png'))
        wait(lambda: all(p.js('return window.seen.phases') == ['silence', 'sharing'] for p in self.pages),
             'the silence ended by itself, back to sharing', timeout=12)
        check(a.js('return window.seen.muteRequests') == ['silence'], 'Sam was asked to mute for the silence')
        check(a.text('#mic .state') == 'off', "Sam's mic went off for the silence and stays Sam's choice")
        wait(lambda: 'silence has ended' in (a.text('#notice') or ''), 'Sam is told, gently, that it ended')
        wait(lambda: a.js('return document.getElementById("silence").hidden'), 'the countdown is gone')
        check(f.room()['queue'] == [self.b.sub, a.sub], 'hands stayed raised through the silence')

    def step_resume(self):
        f, b = self.f, self.b
        before = b.room()['seq']
        b.js('window.circleApp.client.dropConnection(2000)')
        wait(lambda: f.room()['conn'][b.sub] == 'reconnecting', 'the facilitator sees Alexandra reconnecting')
        wait(lambda: 'reconnecting' in f.text(f'#tiles [data-participant="{b.sub}"] .status'), '…on the tile too')
        wait(lambda: b.room()['state'] == 'reconnecting', "Alexandra's page knows it is reconnecting")
        for p in (f, b):
            p.d.save_screenshot(os.path.join(SCREENS, f'11a-dropped-{p.who}.png'))
        f.click(f'#people tr[data-participant="{self.a.sub}"] button[data-act="mute"]')  # a change she misses
        wait(lambda: f.room()['muted'][self.a.sub], 'Sam is muted while Alexandra is away')
        wait(lambda: b.room()['state'] == 'open', 'Alexandra is back', timeout=10)
        wait(lambda: f.room()['conn'][b.sub] == 'connected', 'the facilitator sees her connected')
        wait(lambda: b.room()['seq'] == f.room()['seq'], "her room is at the facilitator's seq")
        check(b.room()['seq'] > before, 'she caught up on what happened while away')
        check(b.room()['muted'][self.a.sub], 'including the mute that was missed')
        check(b.room()['queue'] == [b.sub, self.a.sub], 'she kept first place in the queue')
        check(b.text('#hand') == 'Lower hand (1st in line)', 'her page shows that place')
        check(b.js('return window.circleApp.client.attempt') == 0, 'the backoff reset after the welcome')
        stats = b.stats()
        check(all(stats[q.sub]['state'] == 'connected' for q in (f, self.a)), f'the video calls survived: {stats}')

    def step_crossorigin(self):
        """A team's page on another origin imports /circle.js, joins with a good token and is told `unauthorized`
        for a bad one, against a server with an --allow-origin list and against one with none."""
        head = lambda url, headers, method='GET': cors_head(url, headers, method)
        lib = head(BASE + '/circle.js', {'Origin': OTHER})
        check(lib.get('access-control-allow-origin') == OTHER and 'Origin' in lib.get('vary', ''),
              f'the library is served to the allowed origin: {lib}')
        check('access-control-allow-origin' not in head(BASE + '/circle.js', {'Origin': 'http://127.0.0.1:1'}),
              'and not to an origin that is not allowed')
        pre = head(f'{BASE}/rooms/{ROOM}', {'Origin': OTHER, 'Access-Control-Request-Method': 'GET',
                                            'Access-Control-Request-Headers': 'authorization'}, 'OPTIONS')
        check(pre[':status'] == 204 and 'Authorization' in pre.get('access-control-allow-headers', ''),
              f'the preflight is answered: {pre}')
        opened = head(f'http://127.0.0.1:{OPEN_PORT}/circle.js', {'Origin': 'http://127.0.0.1:1'})
        check(opened.get('access-control-allow-origin') == '*', f'with no list, any origin: {opened}')
        site = StaticSite(OTHER_PORT)
        try:
            d = browser()
            self.extra.append(d)
            p = Page('team', 'team', d)
            for base, port in ((BASE, PORT), (f'http://127.0.0.1:{OPEN_PORT}', OPEN_PORT)):
                # A facilitator's page: it opens the room's session, so the page joins at once.
                good = self.server.token('t-1', 'Team', 'facilitator', room='team-room')
                d.get('about:blank')
                d.get(f'{OTHER}/#base={base}&room=team-room&token={good}')
                wait(lambda: p.js('return window.seen && window.seen.welcome && window.client.state') == 'open',
                     f'the page on another origin joins ({port})')
                p.js('window.client.close()')
                bad = good[:-4] + ('AAAA' if not good.endswith('AAAA') else 'BBBB')
                d.get('about:blank')  # a new document: only the fragment differs
                d.get(f'{OTHER}/#base={base}&room=team-room&token={bad}')
                wait(lambda: p.js('return window.seen && window.seen.errors') == ['unauthorized'],
                     f'a bad token gets `unauthorized` ({port})', timeout=5)
                wait(lambda: p.js('return window.client.state') == 'closed', 'and the client stops')
                states = p.js('return window.seen.states.length')
                time.sleep(1.0)
                check(p.js('return window.seen.states.length') == states, 'and does not reconnect')
                logs = ' '.join(p.logs())
                if p.js('return window.client.tokenIn') == 'protocol':
                    check(bad.split('.')[2] not in logs, f'the token is not in the console: {logs[:300]}')
                p.shot(f'12a-team-page-{port}')
            # The query form, for clients that cannot send the header, still joins; and its bad token is told too.
            d.get('about:blank')
            d.get(f'{OTHER}/#base={BASE}&room=team-room&tokenIn=query&token={good}')
            wait(lambda: p.js('return window.client.state') == 'open', 'the query form joins')
            check('access_token=' in p.js('return window.client.socket.url'), 'with the token in the URL')
            d.get('about:blank')
            d.get(f'{OTHER}/#base={BASE}&room=team-room&tokenIn=query&token={bad}')
            wait(lambda: p.js('return window.seen.errors') == ['unauthorized'], 'the query form: `unauthorized`',
                 timeout=5)
        finally:
            site.stop()

    # ── attendance records (the server keeps them: --data-dir) ──

    def attendance_table(self, p):
        """The Attendance view's table as the page shows it: session columns, and per row the name, the sessions
        attended, the speaking share and each session's cell."""
        return p.js("""
            const text = (e) => e.innerText.replace(/\\s+/g, ' ').trim();
            return {
              open: document.getElementById('attendance').open,
              status: text(document.getElementById('attendance-status')),
              sessions: [...document.querySelectorAll('#attendance-columns th[data-session]')]
                .map((th) => ({number: th.dataset.session, scope: th.scope, text: text(th)})),
              rows: [...document.querySelectorAll('#attendance-rows tr')].map((tr) => ({
                id: tr.dataset.participant, scope: tr.querySelector('th').scope, name: text(tr.querySelector('th')),
                attended: text(tr.children[1]), share: text(tr.children[2]),
                cells: [...tr.querySelectorAll('td[data-session]')].map((td) => td.className + ': ' + text(td))})),
            };""")

    def open_attendance(self, opener):
        f = self.f
        f.click(opener)
        wait(lambda: self.attendance_table(f)['rows'], 'the Attendance view shows its table')
        return self.attendance_table(f)

    def check_attendance_layout(self):
        """The dialog fits the viewport and scrolls on its own; the page behind it does not scroll."""
        f = self.f
        size = f.js('const d = document.getElementById("attendance").getBoundingClientRect();'
                    'const e = document.scrollingElement;'
                    'return [d.top, d.bottom, d.left, d.right, innerHeight, innerWidth,'
                    ' e.scrollHeight, e.scrollWidth];')
        check(size[0] >= 0 and size[1] <= size[4] and size[2] >= 0 and size[3] <= size[5],
              f'the Attendance dialog fits the {size[5]}x{size[4]} viewport ({size[:4]})')
        check(size[6] <= size[4] and size[7] <= size[5], f'the page behind it does not scroll ({size[6:]})')

    def step_attendance(self):
        """Robin opens the Attendance view during the session: the members as rows, the open session as a column,
        both marked as here; the CSV downloads from a blob (the token never in a URL); a member reads only herself."""
        from selenium.webdriver.common.keys import Keys
        f, a, b = self.f, self.a, self.b
        check(not a.visible('#attendance-open') and not b.visible('#attendance-open'), 'members have no Attendance')
        t = self.open_attendance('#attendance-open')
        check(t['open'], 'the view opens as a dialog')
        check([r['id'] for r in t['rows']] == [b.sub, a.sub],
              f'the members are the rows, by name, the facilitator is not: {t["rows"]}')
        check([r['name'] for r in t['rows']] == [b.name, a.name], 'each under the name last seen')
        columns = [(s['number'], s['scope']) for s in t['sessions']]
        check(columns == [('1', 'col')] and 'open now' in t['sessions'][0]['text'],
              f'the session is a column, open now: {t["sessions"]}')
        check(all(r['scope'] == 'row' for r in t['rows']), 'names are row headers')
        check([r['cells'] for r in t['rows']] == [['came: Came here now']] * 2, f'both came and are here: {t["rows"]}')
        check([r['attended'] for r in t['rows']] == ['1 of 1'] * 2, 'each attended 1 of 1 sessions')
        shares = {r['id']: r['share'] for r in t['rows']}
        check(shares[a.sub].startswith('100%') and shares[b.sub].startswith('0%'),
              f'Sam took the turns, Alexandra passed: speaking shares {shares}')
        check(f.js('return document.getElementById("attendance").contains(document.activeElement)'),
              'keyboard focus moved into the dialog')
        self.check_attendance_layout()
        f.shot('14a-attendance-open-session')
        check(not f.audit('attendance'), f'axe with the Attendance view: {AUDITS[-1]["violations"]}')
        # Download CSV: fetched with the token in a header, saved from a blob: URL.
        f.js('window.saved = []; window.blobs = new Map(); const click = HTMLAnchorElement.prototype.click;'
             'const make = URL.createObjectURL;'
             'URL.createObjectURL = (blob) => { const url = make(blob); window.blobs.set(url, blob); return url; };'
             'HTMLAnchorElement.prototype.click = function () {'
             '  if (this.download) { window.saved.push({href: this.href, download: this.download}); return; }'
             '  return click.call(this); };')
        f.click('#attendance-csv')
        saved = wait(lambda: f.js('return window.saved[0]'), 'the CSV is saved')
        check(saved['href'].startswith('blob:') and saved['download'] == f'attendance-{ROOM}.csv',
              f'from a blob, named for the group: {saved}')
        csv = f.d.execute_async_script('const done = arguments[arguments.length - 1];'
                                       'window.blobs.get(arguments[0]).text().then(done, (e) => done(String(e)));',
                                       saved['href'])
        lines = csv.split('\r\n')
        check(lines[0].startswith('session,opened_at,closed_at,participant,name,role'), f'the CSV header: {lines[0]}')
        check(sorted(line.split(',')[3] for line in lines[1:] if line) == sorted([f.sub, a.sub, b.sub]),
              f'a row per participant: {lines[1:]}')
        # A member's token reads only her own rows (the server's rule, through the same request the view makes).
        mine = a.d.execute_async_script(
            'const done = arguments[arguments.length - 1];'
            'fetch(`/groups/${arguments[0]}/attendance`,'
            ' {headers: {Authorization: `Bearer ${window.circleApp.client.token}`}}).then((r) => r.json())'
            '.then((j) => done(j.sessions.map((s) => s.participants.map((p) => p.participant))),'
            ' (e) => done(String(e)));', ROOM)
        check(mine == [[a.sub]], f"Sam's token reads only Sam's rows: {mine}")
        # Escape closes it and hands focus back; the keyboard opens it again.
        f.d.switch_to.active_element.send_keys(Keys.ESCAPE)
        wait(lambda: not f.js('return document.getElementById("attendance").open'), 'Escape closes the view')
        check(f.js('return document.activeElement.id') == 'attendance-open', 'focus is back on the Attendance button')
        f.d.switch_to.active_element.send_keys(Keys.ENTER)
        wait(lambda: f.js('return document.getElementById("attendance").open'), 'Enter opens it again')
        wait(lambda: self.attendance_table(f)['rows'], 'with its table')
        f.click('#attendance-close')
        wait(lambda: not f.js('return document.getElementById("attendance").open'), 'Close closes it')
        f.js('document.querySelector(".side").scrollTop = 0')  # the button sits low in the console
        self.facilitator_layout()

    def step_records(self):
        """After the end, Robin looks back: the closed session, each member's time connected; a server that keeps no
        records is told calmly."""
        f, a, b = self.f, self.a, self.b
        wait(lambda: f.visible('#attendance-after-open'), 'the facilitator can see who came after the end')
        check(not a.visible('#attendance-after-open'), 'a member cannot')
        t = self.open_attendance('#attendance-after-open')
        check([r['id'] for r in t['rows']] == [b.sub, a.sub], f'the same members: {t["rows"]}')
        check(len(t['sessions']) == 1 and 'open now' not in t['sessions'][0]['text'],
              f'the session is closed now: {t["sessions"]}')
        for r in t['rows']:
            check(len(r['cells']) == 1 and r['cells'][0].startswith('came: Came')
                  and r['cells'][0].endswith(('min', 'under a minute')),
                  f'{r["name"]} came, with the time connected: {r["cells"]}')
        self.check_attendance_layout()
        f.shot('16a-attendance-closed-session')
        check(not f.audit('records'), f'axe with the Attendance view: {AUDITS[-1]["violations"]}')
        # On the server that keeps no records (no --data-dir), the view says so in a calm line, with no table.
        token = self.server.token(f.sub, f.name, 'facilitator', room='no-records')
        f.d.get('about:blank')
        f.d.get(f'http://127.0.0.1:{OPEN_PORT}/#room=no-records&token={token}')
        wait(lambda: f.visible('#prejoin') and f.js('return !document.getElementById("join").disabled'),
             'Robin gets ready on the server with no records')
        f.click('#join')
        wait(lambda: f.visible('#attendance-open'), 'and joins')
        f.click('#attendance-open')
        wait(lambda: self.attendance_table(f)['status'] == 'This server does not keep attendance records.',
             'the view says the server keeps no records')
        check(not f.visible('#attendance-scroll') and not self.attendance_table(f)['rows'], 'with no table')
        check(f.js('return document.getElementById("attendance-csv").disabled'), 'and nothing to download')
        f.shot('16b-attendance-no-records')
        check(not f.audit('records-off'), f'axe with the calm line: {AUDITS[-1]["violations"]}')

    def step_removed(self):
        """A removed member is told so, calmly, before her connection closes, and is not reconnected."""
        f, a = self.f, self.a
        for p, role in ((f, 'facilitator'), (a, 'member')):
            p.d.get('about:blank')
            p.d.get(f'{BASE}/#room=removal-room&token={self.server.token(p.sub, p.name, role, room="removal-room")}')
            wait(lambda: p.visible('#prejoin') and p.js('return !document.getElementById("join").disabled'),
                 f'{p.who}: the pre-join step shows, ready')
            p.click('#join')
            wait(lambda: p.visible('#session'), f'{p.who} joins the second group')
        wait(lambda: f.room()['ids'] == [f.sub, a.sub], 'Robin sees Sam')
        f.click(f'button[aria-label="Remove {a.name} from the session"]')
        wait(lambda: f.js('return document.getElementById("confirm").open'), 'a confirmation is asked')
        f.click('#confirm-ok')
        wait(lambda: a.text('#gate-title') == 'You are no longer in this session' and a.visible('#gate-title'),
             'Sam is told she is no longer in the session')
        check('closed your place' in (a.text('#gate-text') or ''), f'in kind words: {a.text("#gate-text")}')
        check(not a.visible('#session'), 'with no room controls left')
        wait(lambda: a.room()['state'] == 'closed', "Sam's client stopped")
        time.sleep(1.2)
        check(a.room()['state'] == 'closed', 'and does not reconnect')
        wait(lambda: f.room()['ids'] == [f.sub], 'Robin sees Sam gone')
        a.shot('17-removed')
        check(not a.audit('removed'), f'axe on the removal notice: {AUDITS[-1]["violations"]}')

    def step_end(self):
        f = self.f
        f.click('#end-session')
        wait(lambda: f.js('return document.getElementById("confirm").open'), 'a confirmation is asked')
        f.shot('13a-confirm-end')
        f.click('#confirm-ok')
        for p in self.pages:
            wait(lambda: p.visible('#ended'), f'{p.who} sees the end')
            wait(lambda: p.room()['state'] == 'closed', f"{p.who}'s client stopped (no reconnect)")
        time.sleep(1.2)
        for p in self.pages:
            check(p.room()['state'] == 'closed', f'{p.who} stays closed')


def cors_head(url, headers, method='GET'):
    """The response headers (lower-case names, plus `:status`) for one request."""
    request = urllib.request.Request(url, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=3) as r:
            status, found = r.status, r.headers
    except urllib.error.HTTPError as e:
        status, found = e.code, e.headers
    out = {k.lower(): v for k, v in found.items()}
    out[':status'] = status
    return out


STEPS = ['link', 'early', 'prejoin', 'join', 'keyboard', 'webrtc', 'round', 'mute', 'privateword', 'hands', 'silence',
         'resume', 'crossorigin', 'attendance', 'end', 'records', 'removed']


def main():
    if os.environ.get(INSIDE) != '1':
        return enter_namespace()
    started = time.monotonic()
    nets = interfaces()
    print(f'network namespace interfaces: {" ".join(nets)}', flush=True)
    if nets != ['lo']:
        print('0 passed, 1 failed (the namespace holds more than loopback)')
        return 1
    if not os.path.exists(CIRCLE):
        print(f'missing {CIRCLE}: build with `swift build -c release --product circle`')
        print('0 passed, 1 failed')
        return 1
    only = sys.argv[1:]  # step names to stop after, for a quicker look: run.py privateword
    shutil.rmtree(SCREENS, ignore_errors=True)
    os.makedirs(SCREENS)
    server = Server(origins=[BASE, OTHER], records=True)
    open_server = Server(port=OPEN_PORT, name='open-server')
    drivers = []
    session = None
    passed = failed = 0
    try:
        with ThreadPoolExecutor(3) as pool:
            drivers = list(pool.map(lambda _: browser(), range(3)))
        pages = [Page('robin', 'f-robin', drivers[0]), Page('sam', 'm-sam', drivers[1]),
                 Page('alexandra', 'm-alexandra', drivers[2], home=PHONE)]
        for p, name in zip(pages, ['Robin', 'Sam', 'Alexandra Konstantinopoulou-Whitfield']):
            p.name = name
        session = Session(server, pages)
        for n, name in enumerate(STEPS, 1):
            t = time.monotonic()
            if failed or (only and STEPS.index(name) > max(STEPS.index(o) for o in only)):
                print(f'SKIP  {name}')
                failed += 1 if failed else 0
                continue
            try:
                getattr(session, f'step_{name}')()
                serious = {p.who: v for p in pages if p.d.current_url.startswith(BASE) for v in [p.audit(name)] if v}
                check(not serious, f'axe-core: serious or critical violations: {serious}')
                passed += 1
                print(f'PASS  {name} ({time.monotonic() - t:.1f}s)', flush=True)
            except Exception as e:
                failed += 1
                print(f'FAIL  {name}: {e}', flush=True)
                if not isinstance(e, AssertionError):
                    traceback.print_exc()
                for p in pages:
                    for entry in p.logs()[-10:]:
                        print(f'      {p.who} console: {entry[:300]}')
            for p in pages:
                try:
                    p.shot(f'{n:02d}-{name}')
                except Exception:
                    pass
    finally:
        for d in drivers + (session.extra if session else []):
            try:
                d.quit()
            except Exception:
                pass
        server.stop()
        open_server.stop()
        with open(os.path.join(OUT, 'axe.json'), 'w') as f:
            json.dump(AUDITS, f, indent=1)
    print(f'screenshots: {os.path.relpath(SCREENS, ROOT)}/ · axe: {len(AUDITS)} page states audited, '
          f'{sum(len(a["violations"]) for a in AUDITS)} findings (none serious) in .build-browser/axe.json · '
          f'{time.monotonic() - started:.1f}s')
    print(f'{passed} passed, {failed} failed')
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
