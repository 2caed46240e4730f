#!/usr/bin/env python3
"""A group session in real browsers: a facilitator and two members in headless Chromium, with fake camera and mic,
against a real Circle server, inside a network namespace that holds only loopback.

Steps (each one a test; a failed step stops the ones after it, which depend on it):
join, keyboard, webrtc, mute, hands, silence, resume, end. A PNG screenshot of every page after every step goes to
.build-browser/screens/. Prints `N passed, M failed` last and exits non-zero on any failure.

Run: python3 Tests/browser/run.py   (needs chromium, chromium-driver, selenium, and the debug `circle` build)
"""
import os
import shutil
import subprocess
import sys
import time
import traceback
import urllib.request
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, '.build-browser')
SCREENS = os.path.join(OUT, 'screens')
CIRCLE = os.path.join(ROOT, '.build', 'debug', 'circle')
PORT = 18080
ROOM = 'browser-test'
BASE = f'http://127.0.0.1:{PORT}'
INSIDE = 'CIRCLE_BROWSER_NAMESPACE'


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


# ── the server ───────────────────────────────────────────────────────────────────────────────────

class Server:
    def __init__(self):
        os.makedirs(OUT, exist_ok=True)
        self.secret = os.path.join(OUT, 'secret')
        with open(self.secret, 'wb') as f:
            f.write(os.urandom(32).hex().encode())
        os.chmod(self.secret, 0o600)
        self.log = open(os.path.join(OUT, 'server.log'), 'wb')
        self.proc = subprocess.Popen(
            [CIRCLE, 'serve', '--host', '127.0.0.1', '--port', str(PORT), '--secret-file', self.secret,
             '--web-root', os.path.join(ROOT, 'Web'), '--grace-seconds', '30', '--log-level', 'info'],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(BASE + '/healthz', timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError('the server did not start; see .build-browser/server.log')
            time.sleep(0.05)

    def token(self, sub, name, role):
        return subprocess.check_output(
            [CIRCLE, 'token', '--secret-file', self.secret, '--room', ROOM, '--sub', sub, '--name', name,
             '--role', role, '--ttl', '600'], text=True).strip()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


# ── the browsers ─────────────────────────────────────────────────────────────────────────────────

def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which('chromium') or '/usr/bin/chromium'
    for flag in ['--headless=new', '--no-sandbox', '--use-fake-device-for-media-stream',
                 '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
                 '--autoplay-policy=no-user-gesture-required', '--disable-dev-shm-usage',
                 '--window-size=1440,1000', '--no-first-run', '--disable-extensions']:
        options.add_argument(flag)
    service = Service(executable_path='/usr/bin/chromedriver', log_output=os.path.join(OUT, 'chromedriver.log'))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_script_timeout(10)
    driver.set_page_load_timeout(15)
    return driver


class Page:
    """One participant's browser."""

    def __init__(self, who, sub, driver):
        self.who = who
        self.sub = sub
        self.d = driver

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def stats(self):
        """Per peer: state, framesDecoded, audioPacketsReceived, audioPacketsSent (the page's getStats())."""
        return self.d.execute_async_script(
            'const done = arguments[arguments.length - 1];'
            'window.circleApp.peerStats().then(done, (e) => done({error: String(e)}));')

    def text(self, css):
        return self.js('const e = document.querySelector(arguments[0]); return e ? e.textContent : null;', css)

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
                       ' phase: c.room.phase, queue: c.room.queue, floor: c.room.floor ?? null,'
                       ' ids: [...c.room.participants.keys()],'
                       ' conn: Object.fromEntries([...c.room.participants.values()].map(p => [p.id, p.connection])),'
                       ' muted: Object.fromEntries([...c.room.participants.values()].map(p => [p.id, p.muted]))};')

    def shot(self, step):
        self.d.save_screenshot(os.path.join(SCREENS, f'{step}-{self.who}.png'))


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

class Session:
    def __init__(self, server, pages):
        self.server = server
        self.f, self.a, self.b = pages  # facilitator Robin, members Sam and Alex
        self.pages = pages

    def everyone(self, fn):
        with ThreadPoolExecutor(len(self.pages)) as pool:
            return list(pool.map(fn, self.pages))

    def step_join(self):
        for p in self.pages:
            role = 'facilitator' if p is self.f else 'member'
            token = self.server.token(p.sub, p.who.capitalize(), role)
            p.d.get(f'{BASE}/#room={ROOM}&token={token}')
            time.sleep(0.3)  # join in a known order: Robin, Sam, Alex
        subs = [p.sub for p in self.pages]
        for p in self.pages:
            wait(lambda: p.room()['ids'] == subs, f'{p.who} sees all three, in join order')
            wait(lambda: p.js('return document.querySelectorAll("#tiles .tile").length') == 3, f'{p.who}: 3 tiles')
            check('token' not in p.d.current_url, 'the token is gone from the address bar')
        check(not self.f.js('return document.getElementById("console").hidden'), 'the facilitator sees the console')
        check(self.a.js('return document.getElementById("console").hidden'), 'a member does not')
        check(self.f.text('#phase').startswith('Introductions'), 'the phase is shown')

    def step_keyboard(self):
        """Every control has an accessible name, and a member reaches "Raise hand" with Tab alone."""
        from selenium.webdriver.common.keys import Keys
        unnamed = self.f.js(
            'return [...document.querySelectorAll("button, input, select")].filter(e => e.offsetParent !== null)'
            '.filter(e => !((e.labels && e.labels.length) || e.getAttribute("aria-label") || e.textContent.trim()))'
            '.map(e => e.outerHTML.slice(0, 80));')
        check(unnamed == [], f'controls without a name: {unnamed}')
        from selenium.webdriver.common.action_chains import ActionChains
        self.b.d.find_element('css selector', 'body').click()
        # The skip link, the mic, the camera, then the hand: four Tabs in one go, then one at a time if needed.
        ActionChains(self.b.d).send_keys(Keys.TAB * 4).perform()
        for _ in range(30):
            if self.b.js('return document.activeElement.id') == 'hand':
                break
            ActionChains(self.b.d).send_keys(Keys.TAB).perform()
        check(self.b.js('return document.activeElement.id') == 'hand', 'Tab reaches the raise-hand button')
        # The facilitator's keyboard focus rests on Sam's "Mute"; the room changing elsewhere must not take it away.
        mute_sam = f'#people tr[data-participant="{self.a.sub}"] button[data-act="mute"]'
        self.f.js('const b = document.querySelector(arguments[0]); b.dataset.probe = "1"; b.focus();', mute_sam)
        self.b.d.switch_to.active_element.send_keys(Keys.ENTER)
        wait(lambda: self.f.room()['queue'] == [self.b.sub], 'Alex raised a hand with the keyboard')
        wait(lambda: self.f.js('return document.querySelectorAll("#queue li[data-participant]").length') == 1,
             "the console lists Alex's hand")
        check(self.f.js('return document.activeElement.dataset.probe') == '1',
              "the facilitator's focus stayed on Sam's Mute button while the room changed")
        self.b.click('#hand')  # and lowers it again with a click
        wait(lambda: self.f.room()['queue'] == [], 'Alex lowered the hand')

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

    def step_mute(self):
        a, f = self.a, self.f
        sent = lambda: a.stats()[f.sub]['audioPacketsSent']
        received = lambda: f.stats()[a.sub]['audioPacketsReceived']
        s0, r0 = sent(), received()
        time.sleep(0.6)
        check(sent() > s0 and received() > r0, 'Sam is sending audio before the mute')
        f.click(f'#people tr[data-participant="{a.sub}"] button[data-act="mute"]')
        wait(lambda: a.text('#mic') == 'Muted by facilitator', "Sam's page shows the mute")
        check(a.js('return document.getElementById("mic").disabled'), "Sam's mic button is held")
        wait(lambda: 'muted' in (a.text('#notice') or ''), "Sam's page says why")
        wait(lambda: 'muted by facilitator' in self.b.text(f'#tiles [data-participant="{a.sub}"] .status'),
             "Alex sees Sam muted")
        time.sleep(0.5)  # packets already on the wire arrive
        s1, r1 = sent(), received()
        time.sleep(1.5)
        s2, r2 = sent(), received()
        check(s2 == s1, f'Sam sends no audio packets while muted ({s1} → {s2})')
        check(r2 == r1, f'the facilitator receives no audio from Sam while muted ({r1} → {r2})')

    def step_hands(self):
        f, a, b = self.f, self.a, self.b
        f.click('button[data-phase="sharing"]')
        wait(lambda: all(p.room()['phase'] == 'sharing' for p in self.pages), 'everyone is in open sharing')
        a.click('#hand')
        wait(lambda: f.room()['queue'] == [a.sub], 'Sam is first in the queue')
        b.click('#hand')
        wait(lambda: f.room()['queue'] == [a.sub, b.sub], 'Alex is second')
        wait(lambda: b.text('#hand') == 'Lower hand (2nd in line)', 'Alex sees their place')
        wait(lambda: f.js('return document.querySelectorAll("#queue li[data-participant]").length') == 2,
             'the console lists both hands')
        f.shot('05a-hands-raised')
        f.click(f'#queue li[data-participant="{a.sub}"] button[data-act="floor"]')
        wait(lambda: all(p.room()['floor'] == a.sub for p in self.pages), 'Sam has the floor everywhere')
        wait(lambda: a.text('#floor').startswith('You have the floor'), 'Sam is told')
        wait(lambda: b.text('#floor') == 'Sam has the floor', 'Alex sees who speaks')
        check(f.room()['queue'] == [b.sub], 'Sam left the queue by taking the floor')
        check(f.room()['muted'][a.sub] is False, "the floor lifted Sam's mute")
        wait(lambda: not a.js('return document.getElementById("mic").disabled'), "Sam's mic is Sam's again")
        check(a.text('#mic') == 'Microphone off', 'but stays off until Sam turns it on')
        a.click('#mic')
        wait(lambda: f.room() and f.js(f'return window.circleApp.room.participants.get("{a.sub}").mic') is True,
             'Sam turned the mic on')
        a.click('#end-turn')
        wait(lambda: f.room()['floor'] is None, "Sam ended the turn")
        a.click('#hand')
        wait(lambda: f.room()['queue'] == [b.sub, a.sub], 'Sam raised a hand again, behind Alex')

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
            for p in self.pages:
                p.shot('06a-silence')
        wait(lambda: all(p.js('return window.seen.phases') == ['silence', 'sharing'] for p in self.pages),
             'the silence ended by itself, back to sharing', timeout=12)
        check(a.js('return window.seen.muteRequests') == ['silence'], 'Sam was asked to mute for the silence')
        check(a.text('#mic') == 'Microphone off', "Sam's mic went off for the silence and stays Sam's choice")
        wait(lambda: 'silence has ended' in (a.text('#notice') or ''), 'Sam is told, gently, that it ended')
        wait(lambda: a.js('return document.getElementById("silence").hidden'), 'the countdown is gone')
        check(f.room()['queue'] == [self.b.sub, a.sub], 'hands stayed raised through the silence')

    def step_resume(self):
        f, b = self.f, self.b
        before = b.room()['seq']
        b.js('window.circleApp.client.dropConnection(2000)')
        wait(lambda: f.room()['conn'][b.sub] == 'reconnecting', 'the facilitator sees Alex reconnecting')
        wait(lambda: 'reconnecting' in f.text(f'#tiles [data-participant="{b.sub}"] .status'), '…on the tile too')
        wait(lambda: b.room()['state'] == 'reconnecting', "Alex's page knows it is reconnecting")
        for p in self.pages:
            p.shot('07a-dropped')
        f.click(f'#people tr[data-participant="{self.a.sub}"] button[data-act="mute"]')  # a change Alex misses
        wait(lambda: f.room()['muted'][self.a.sub], 'Sam is muted while Alex is away')
        wait(lambda: b.room()['state'] == 'open', 'Alex is back', timeout=10)
        wait(lambda: f.room()['conn'][b.sub] == 'connected', 'the facilitator sees Alex connected')
        wait(lambda: b.room()['seq'] == f.room()['seq'], "Alex's room is at the facilitator's seq")
        check(b.room()['seq'] > before, 'Alex caught up on what happened while away')
        check(b.room()['muted'][self.a.sub], 'including the mute that was missed')
        check(b.room()['queue'] == [b.sub, self.a.sub], 'Alex kept first place in the queue')
        check(b.text('#hand') == 'Lower hand (1st in line)', "Alex's page shows that place")
        check(b.js('return window.circleApp.client.attempt') == 0, 'the backoff reset after the welcome')
        stats = b.stats()
        check(all(stats[q.sub]['state'] == 'connected' for q in (f, self.a)), f'the video calls survived: {stats}')

    def step_end(self):
        f = self.f
        f.click('#end-session')
        wait(lambda: f.js('return document.getElementById("confirm").open'), 'a confirmation is asked')
        f.shot('08a-confirm-end')
        f.click('#confirm-ok')
        for p in self.pages:
            wait(lambda: not p.js('return document.getElementById("ended").hidden'), f'{p.who} sees the end')
            wait(lambda: p.room()['state'] == 'closed', f"{p.who}'s client stopped (no reconnect)")
        time.sleep(1.2)
        for p in self.pages:
            check(p.room()['state'] == 'closed', f'{p.who} stays closed')


STEPS = ['join', 'keyboard', 'webrtc', 'mute', 'hands', 'silence', 'resume', 'end']


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
        print(f'missing {CIRCLE}: build with `swift build --product circle`')
        print('0 passed, 1 failed')
        return 1
    shutil.rmtree(SCREENS, ignore_errors=True)
    os.makedirs(SCREENS)
    server = Server()
    drivers = []
    passed = failed = 0
    try:
        with ThreadPoolExecutor(3) as pool:
            drivers = list(pool.map(lambda _: browser(), range(3)))
        pages = [Page('robin', 'f-robin', drivers[0]), Page('sam', 'm-sam', drivers[1]),
                 Page('alex', 'm-alex', drivers[2])]
        session = Session(server, pages)
        for n, name in enumerate(STEPS, 1):
            t = time.monotonic()
            if failed:
                print(f'SKIP  {name}')
                failed += 1
                continue
            try:
                getattr(session, f'step_{name}')()
                passed += 1
                print(f'PASS  {name} ({time.monotonic() - t:.1f}s)', flush=True)
            except Exception as e:
                failed += 1
                print(f'FAIL  {name}: {e}', flush=True)
                if not isinstance(e, AssertionError):
                    traceback.print_exc()
                for p in pages:
                    for entry in p.d.get_log('browser')[-10:]:
                        print(f'      {p.who} console: {entry.get("level")} {entry.get("message", "")[:300]}')
            for p in pages:
                try:
                    p.shot(f'{n:02d}-{name}')
                except Exception:
                    pass
    finally:
        for d in drivers:
            try:
                d.quit()
            except Exception:
                pass
        server.stop()
    print(f'screenshots: {os.path.relpath(SCREENS, ROOT)}/ · {time.monotonic() - started:.1f}s')
    print(f'{passed} passed, {failed} failed')
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
