#!/usr/bin/env python3
"""A platform's webhook endpoint, for Circle's tests: verifies each POST with the Standard Webhooks library
(signature over id.timestamp.body, timestamps older or newer than 5 minutes refused) and logs one JSON line per
request to LOG.

  receiver.py serve --secret whsec_... --port-file F --log LOG [--fail-first N]   # answers 204, or 401 / 503
  receiver.py verify --secret whsec_... --id ID --timestamp T --signature SIG --body-file F   # exit 0 verified, 1 refused
"""
import argparse, json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def verify(secret, headers, body):
    try:
        Webhook(secret).verify(body, headers)
        return None
    except WebhookVerificationError as e:
        return str(e)


def serve(args):
    lock = threading.Lock()
    state = {"seen": 0}
    log = open(args.log, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k: v for k, v in self.headers.items()}
            refusal = verify(args.secret, headers, body)
            with lock:
                state["seen"] += 1
                failing = state["seen"] <= args.fail_first
            status = 401 if refusal else (503 if failing else 204)
            log.write(json.dumps({"status": status, "refusal": refusal, "id": headers.get("webhook-id"),
                                  "timestamp": headers.get("webhook-timestamp"),
                                  "content_type": headers.get("Content-Type"),
                                  "body": body.decode("utf-8", "replace")}) + "\n")
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["serve", "verify"])
    p.add_argument("--secret", required=True)
    p.add_argument("--port-file")
    p.add_argument("--log")
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--id")
    p.add_argument("--timestamp")
    p.add_argument("--signature")
    p.add_argument("--body-file")
    args = p.parse_args()
    if args.mode == "serve":
        serve(args)
    else:
        body = open(args.body_file, "rb").read()
        refusal = verify(args.secret, {"webhook-id": args.id, "webhook-timestamp": args.timestamp,
                                       "webhook-signature": args.signature}, body)
        print(refusal or "verified")
        sys.exit(1 if refusal else 0)


if __name__ == "__main__":
    main()
