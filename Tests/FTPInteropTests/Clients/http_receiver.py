#!/usr/bin/env python3
"""A real HTTP server that records what a webhook posts (EventsTests.swift, FstpydCLITests).

    python3 http_receiver.py PORT_FILE RECORD_FILE STOP_FILE [DELAY_SECONDS]

Listens on 127.0.0.1 on a free port and writes the port to PORT_FILE. Each POST is answered 204 after DELAY_SECONDS
(default 0), and recorded in RECORD_FILE as one JSON line: {"path", "content_type", "body"} with the body as text,
in arrival order. Exits when STOP_FILE exists (requests still waiting are not answered).
"""

import http.server
import json
import os
import sys
import threading
import time


def main():
    port_file, record_file, stop_file = sys.argv[1:4]
    delay = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    lock = threading.Lock()
    records = open(record_file, "a", encoding="utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("utf-8")
            with lock:
                records.write(json.dumps({
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "body": body,
                }) + "\n")
                records.flush()
            if delay:
                time.sleep(delay)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    deadline = time.monotonic() + 300
    while not os.path.exists(stop_file) and time.monotonic() < deadline:
        time.sleep(0.05)
    server.shutdown()
    records.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
