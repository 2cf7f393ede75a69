#!/usr/bin/env python3
"""FTP sessions with known events, for the event, metrics, xferlog and webhook tests (EventsTests.swift).

    python3 events_client.py session PORT        the session whose events the tests check (see scenario_session)
    python3 events_client.py upload PORT PATH... one session uploading a small file to each PATH (directories made)
    python3 events_client.py many PORT COUNT     one session uploading COUNT files of 256 KiB; prints the seconds taken
    python3 events_client.py stall PORT          STOR /pub/stalled.bin: 1 KiB, then nothing until the server gives up

Environment as for ftplib_client.py (FTP_HOST, FTP_ROOT, the passwords). Exit status 0: done; 1: a mismatch
("FAIL ..." on stderr); 2: an unexpected exception.
"""

import ftplib
import io
import os
import sys
import time
import traceback

TIMEOUT = 30
MiB = 1024 * 1024
HOST = os.environ.get("FTP_HOST", "127.0.0.1")
ROOT = os.environ.get("FTP_ROOT", "")
PASSWORDS = {
    "alice": os.environ.get("FTP_ALICE_PASSWORD", ""),
    "carol": os.environ.get("FTP_CAROL_PASSWORD", ""),
    "dave": os.environ.get("FTP_DAVE_PASSWORD", ""),
}
PORT = 0


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def connect(user="alice"):
    ftp = ftplib.FTP(timeout=TIMEOUT, encoding="utf-8")
    ftp.connect(HOST, PORT)
    ftp.login(user, PASSWORDS[user])
    ftp.voidcmd("TYPE I")
    return ftp


def abort_store(ftp, name, data):
    """STOR that sends part of the data, then ABOR: an incomplete file received."""
    conn = ftp.transfercmd("STOR " + name)
    conn.sendall(data[: len(data) // 2])
    ftp.putcmd("ABOR")
    first = ftp.getline()
    if first.startswith("426"):
        ftp.getline()
    conn.close()
    check(first[:3] in ("426", "226"), "ABOR during STOR: %r" % first)


def abort_retrieve(ftp, name):
    """RETR that reads a little, then ABOR: an incomplete file sent."""
    conn = ftp.transfercmd("RETR " + name)
    conn.settimeout(TIMEOUT)
    check(conn.recv(65536), "RETR %s sent nothing" % name)
    ftp.putcmd("ABOR")
    first = ftp.getline()
    if first.startswith("426"):
        ftp.getline()
    conn.close()
    check(first[:3] in ("426", "226"), "ABOR during RETR: %r" % first)


def mkdirs(ftp, path):
    parts = path.strip("/").split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        try:
            ftp.mkd("/" + "/".join(parts[:depth]))
        except ftplib.error_perm:
            pass


def scenario_session():
    """One session of alice, then one of carol (home /carol). The events, in order:

    alice: connect, login_failed (user "nobody"), login_failed (alice, wrong password), login, file_received
    (/pub/up.bin, 100 KiB), file_sent (/pub/up.bin), file_received (/pub/my file.txt, 5 bytes, TYPE A),
    incomplete_file_received (/pub/aborted.bin), incomplete_file_sent (/pub/big.bin), logout, disconnect.
    (RETR of a missing file fails before any transfer: no event, one storage error.)
    carol: connect, login, file_received (/x.txt, 3 bytes; /carol/x.txt in the storage), logout, disconnect.
    """
    big = os.urandom(MiB) * 32
    with open(os.path.join(ROOT, "pub", "big.bin"), "wb") as f:
        f.write(big)
    ftp = ftplib.FTP(timeout=TIMEOUT, encoding="utf-8")
    ftp.connect(HOST, PORT)
    for user, password in (("nobody", "nothing"), ("alice", "wrong-password")):
        try:
            ftp.login(user, password)
            raise Failure("login as %s with a wrong password succeeded" % user)
        except ftplib.error_perm as error:
            check(str(error).startswith("530"), "failed login: %r" % error)
    ftp.login("alice", PASSWORDS["alice"])
    ftp.voidcmd("TYPE I")
    up = os.urandom(100 * 1024)
    ftp.storbinary("STOR /pub/up.bin", io.BytesIO(up))
    back = io.BytesIO()
    ftp.retrbinary("RETR /pub/up.bin", back.write)
    check(back.getvalue() == up, "RETR /pub/up.bin gave other bytes")
    try:
        ftp.retrbinary("RETR /pub/missing.bin", lambda _: None)
        raise Failure("RETR of a missing file succeeded")
    except ftplib.error_perm as error:
        check(str(error).startswith("550"), "RETR missing: %r" % error)
    ftp.storlines("STOR /pub/my file.txt", io.BytesIO(b"text\n"))
    ftp.voidcmd("TYPE I")
    abort_store(ftp, "/pub/aborted.bin", os.urandom(4 * MiB))
    abort_retrieve(ftp, "/pub/big.bin")
    ftp.quit()

    carol = connect("carol")
    carol.storbinary("STOR /x.txt", io.BytesIO(b"xyz"))
    carol.quit()


def scenario_upload(paths):
    ftp = connect(os.environ.get("FTP_USER", "alice"))
    for path in paths:
        mkdirs(ftp, path)
        ftp.storbinary("STOR " + path, io.BytesIO(b"data for " + path.encode("utf-8")))
    ftp.quit()


def scenario_many(count):
    ftp = connect()
    payload = os.urandom(256 * 1024)
    started = time.monotonic()
    for index in range(count):
        ftp.storbinary("STOR /pub/many-%d.bin" % index, io.BytesIO(payload))
    elapsed = time.monotonic() - started
    ftp.quit()
    print("%.3f" % elapsed)


def scenario_stall():
    ftp = connect()
    conn = ftp.transfercmd("STOR /pub/stalled.bin")
    conn.sendall(os.urandom(1024))
    reply = ftp.getline()
    conn.close()
    check(reply.startswith("426"), "a stalled STOR: %r" % reply)
    ftp.quit()


def main():
    global PORT
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    name, PORT = sys.argv[1], int(sys.argv[2])
    try:
        if name == "session":
            scenario_session()
        elif name == "upload":
            scenario_upload(sys.argv[3:])
        elif name == "stall":
            scenario_stall()
        elif name == "many":
            scenario_many(int(sys.argv[3]))
        else:
            print("unknown scenario %r" % name, file=sys.stderr)
            return 2
    except Failure as failure:
        print("FAIL [%s]: %s" % (name, failure), file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
