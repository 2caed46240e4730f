"""The fencing case of Scripts/cluster-test: an owner paused past its lease is fenced out and no client sees its
stale effects. Talks to the nodes directly (not through HAProxy) so that who owns the room is known.
Usage: cluster-fence.py CIRCLE SECRET_FILE OLD_PORT NEW_PORT OLD_PID LEASE_MS; prints one JSON object."""
import json
import os
import signal
import subprocess
import sys
import time

from websockets.sync.client import connect

circle, secret, old_port, new_port, old_pid, lease_ms = sys.argv[1:7]
old_pid, lease_s = int(old_pid), int(lease_ms) / 1000
room = f"fence{os.getpid()}"


def token(sub, role):
    return subprocess.check_output([circle, "token", "--secret-file", secret, "--room", room, "--sub", sub,
                                    "--name", sub, "--role", role, "--ttl", "600"], text=True).strip()


def join(port, sub, role="member"):
    ws = connect(f"ws://127.0.0.1:{port}/rooms/{room}?access_token={token(sub, role)}", open_timeout=15)
    seen = [json.loads(ws.recv(timeout=15))]
    return ws, seen


def drain(ws, seen, seconds):
    """Reads what arrives for `seconds`; returns the close code if the connection closed."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            seen.append(json.loads(ws.recv(timeout=max(0.01, end - time.monotonic()))))
        except TimeoutError:
            pass
        except Exception:
            return ws.close_code
    return None


f, f_seen = join(old_port, "f", "facilitator")
m, m_seen = join(old_port, "m")
f.send(json.dumps({"type": "set_phase", "id": "p", "phase": "sharing"}))
drain(f, f_seen, 0.5)
# A change, then the owner stops before its snapshot leaves (saves go every 100 ms): that write is stale.
m.send(json.dumps({"type": "raise_hand", "id": "h1"}))
time.sleep(0.02)
os.kill(old_pid, signal.SIGSTOP)
m.send(json.dumps({"type": "lower_hand", "id": "stale"}))  # waits in the paused owner's socket
time.sleep(lease_s + 0.7)
n, n_seen = join(new_port, "n")  # the new node takes the room over from what Redis holds
took_over = n_seen[0].get("type") == "welcome"
os.kill(old_pid, signal.SIGCONT)
codes = [drain(m, m_seen, 3), drain(f, f_seen, 0.1)]
drain(n, n_seen, 0.5)
# The stale request is never answered, and the new owner's clients see no queue change from the old one.
stale_seen = sum(1 for x in m_seen + f_seen if x.get("id") == "stale")
stale_seen += sum(1 for x in n_seen[1:] if x.get("type") == "queue_changed")
print(json.dumps({"took_over": took_over, "old_owner_close_codes": codes, "stale_effects_seen": stale_seen}))
