#!/usr/bin/env python3
"""A voicebot webhook in Python's standard library: press 1 for sales, 2 to leave a message.
Run `VOICEBOT_WEBHOOK_SECRET=... python3 samples/webhook_menu.py 8080` and configure
route_points."800" = { bot = "webhook", config = { url = "http://127.0.0.1:8080/voice" } }."""
import hashlib, hmac, json, os, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = os.environ["VOICEBOT_WEBHOOK_SECRET"].encode()

def verbs(path, request):
    if path == "/voice":
        return [{"verb": "gather", "prompt": "welcome.wav", "max_digits": 1, "tries": 2, "action": "/menu"}]
    if path == "/menu" and request["gather"]["digits"] == "1":
        return [{"verb": "transfer", "to": "100"}]
    if path == "/menu" and request["gather"]["digits"] == "2":
        return [{"verb": "play", "prompt": "message.wav"}, {"verb": "record", "max_length": "60s", "action": "/saved"}]
    if path == "/saved":
        print("voicemail:", request["record"]["path"], request["record"]["duration_ms"], "ms", flush=True)
        return [{"verb": "play", "prompt": "saved.wav"}, {"verb": "hangup"}]
    return [{"verb": "play", "prompt": "goodbye.wav"}, {"verb": "hangup"}]

class Webhook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        stamp = self.headers.get("X-Voicebot-Timestamp", "0")
        signed = "v1=" + hmac.new(SECRET, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signed, self.headers.get("X-Voicebot-Signature", "")) or abs(time.time() - int(stamp)) > 300:
            return self.send_error(401, "bad signature")
        answer = json.dumps(verbs(self.path, json.loads(body))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

HTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8080), Webhook).serve_forever()
