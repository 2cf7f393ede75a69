#!/usr/bin/env python3
"""Real ZeroMQ subscribers (pyzmq, libzmq inside) for the --pubport tests. Prints one JSON document on stdout.

    python zmq_subscriber.py sub ENDPOINT TOPIC... --until PREFIX
        A SUB socket subscribed to each TOPIC ("" for everything); receives until a message starting with PREFIX,
        then prints {"messages": [...]}.
    python zmq_subscriber.py sub-cancel ENDPOINT
        A SUB socket subscribed to "chan" and "end": receives until "end /end/1", unsubscribes "chan", receives until
        "end /end/2"; prints {"first": [...], "second": [...]}. (libzmq 4.3 sends SUBSCRIBE/CANCEL commands to a
        ZMTP 3.1 peer, and 1/0 + topic messages to a ZMTP 3.0 one.)
    python zmq_subscriber.py xsub ENDPOINT
        An XSUB socket, which does no filtering of its own, so what it gets shows the publisher's filtering. Sends
        subscriptions for "chan" and "end" (as messages: 1 + topic, whatever the ZMTP version), receives until "end /end/1", then cancels
        "chan" (0 + topic) and receives until "end /end/2"; prints {"first": [...], "second": [...]}.
    python zmq_subscriber.py slow ENDPOINT SECONDS
        A SUB socket subscribed to everything that does not read for SECONDS (so the publisher's queue for it
        fills), then reads until nothing comes for 2 seconds; prints {"count": N, "sizes": [distinct sizes]}.
    python zmq_subscriber.py warm ENDPOINT
        (fstpyd test) Subscribes to everything and, in a loop, uploads /warm/N with events_client-style ftplib until
        the first message arrives (the subscription has then reached the publisher); then uploads the files named
        in FTP_UPLOADS (separated by "|"), receives until one message per upload arrived, and prints
        {"warm": N, "messages": [...]}.

A message is decoded as UTF-8. Every wait is bounded (30 s): on a timeout the script exits 1 with what it got.
"""

import ftplib
import io
import json
import os
import sys
import time

import zmq

TIMEOUT_MS = 30000


def receive(socket, timeout_ms=TIMEOUT_MS):
    if not socket.poll(timeout_ms):
        raise TimeoutError("no message within %d ms" % timeout_ms)
    parts = socket.recv_multipart()
    if len(parts) != 1:
        raise ValueError("a message of %d frames (expected 1)" % len(parts))
    return parts[0].decode("utf-8")


def until(socket, prefix, got):
    while True:
        message = receive(socket)
        got.append(message)
        if message.startswith(prefix):
            return got


def main():
    mode, endpoint = sys.argv[1], sys.argv[2]
    context = zmq.Context.instance()
    result = {}
    try:
        if mode == "sub":
            arguments = sys.argv[3:]
            split = arguments.index("--until")
            topics, prefix = arguments[:split], arguments[split + 1]
            socket = context.socket(zmq.SUB)
            for topic in topics:
                socket.setsockopt(zmq.SUBSCRIBE, topic.encode("utf-8"))
            socket.connect(endpoint)
            result["messages"] = until(socket, prefix, [])
        elif mode == "sub-cancel":
            socket = context.socket(zmq.SUB)
            socket.setsockopt(zmq.SUBSCRIBE, b"chan")
            socket.setsockopt(zmq.SUBSCRIBE, b"end")
            socket.connect(endpoint)
            result["first"] = until(socket, "end /end/1", [])
            socket.setsockopt(zmq.UNSUBSCRIBE, b"chan")
            result["second"] = until(socket, "end /end/2", [])
        elif mode == "xsub":
            socket = context.socket(zmq.XSUB)
            socket.connect(endpoint)
            socket.send(b"\x01chan")
            socket.send(b"\x01end")
            result["first"] = until(socket, "end /end/1", [])
            socket.send(b"\x00chan")
            result["second"] = until(socket, "end /end/2", [])
        elif mode == "slow":
            seconds = float(sys.argv[3])
            socket = context.socket(zmq.SUB)
            socket.setsockopt(zmq.RCVHWM, 10)
            socket.setsockopt(zmq.RCVBUF, 64 * 1024)
            socket.setsockopt(zmq.SUBSCRIBE, b"")
            socket.connect(endpoint)
            time.sleep(seconds)
            count, sizes = 0, set()
            while socket.poll(2000):
                message = socket.recv()
                count += 1
                sizes.add(len(message))
            result["count"] = count
            result["sizes"] = sorted(sizes)
        elif mode == "warm":
            socket = context.socket(zmq.SUB)
            socket.setsockopt(zmq.SUBSCRIBE, b"")
            socket.connect(endpoint)
            host = os.environ.get("FTP_HOST", "127.0.0.1")
            port = int(os.environ["FTP_PORT"])
            ftp = ftplib.FTP(timeout=30, encoding="utf-8")
            ftp.connect(host, port)
            ftp.login(os.environ["FTP_USER"], os.environ["FTP_PASSWORD"])
            ftp.voidcmd("TYPE I")
            for directory in ("/warm", "/chan"):
                try:
                    ftp.mkd(directory)
                except ftplib.error_perm:
                    pass
            messages, warm = [], 0
            deadline = time.monotonic() + 30
            while not messages:
                if time.monotonic() > deadline:
                    raise TimeoutError("no message after %d warm-up uploads" % warm)
                ftp.storbinary("STOR /warm/%d" % warm, io.BytesIO(b"warm"))
                warm += 1
                if socket.poll(200):
                    messages.append(socket.recv().decode("utf-8"))
            # Warm-up uploads still in flight may announce themselves after the first one.
            uploads = [name for name in os.environ.get("FTP_UPLOADS", "").split("|") if name]
            for name in uploads:
                ftp.storbinary("STOR " + name, io.BytesIO(b"payload of " + name.encode("utf-8")))
            while sum(1 for m in messages if not m.startswith("warm ")) < len(uploads):
                messages.append(receive(socket))
            result["warm"] = warm
            result["messages"] = messages
            result["metrics"] = scrape(os.environ.get("METRICS_URL"))
            ftp.quit()
        else:
            print("unknown mode %r" % mode, file=sys.stderr)
            return 2
    except (TimeoutError, ValueError) as error:
        result["error"] = str(error)
        print(json.dumps(result))
        return 1
    print(json.dumps(result))
    return 0


def scrape(url):
    """The metrics page while the session is still open (warm mode)."""
    if not url:
        return None
    import urllib.request
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


if __name__ == "__main__":
    sys.exit(main())
