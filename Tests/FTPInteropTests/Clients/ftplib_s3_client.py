#!/usr/bin/env python3
"""Drives FsTPy serving an S3 bucket with Python's ftplib, one scenario per invocation.

    python3 ftplib_s3_client.py SCENARIO PORT

The Swift test (S3InteropTests.swift) starts SeaweedFS and the server on a fresh bucket, seeds objects straight into
the bucket when a scenario needs them, and checks the bucket afterwards. Everything here goes through FTP only. The
environment carries the users' passwords (as for ftplib_client.py, whose helpers this script reuses) and:

    FTP_SEED_SHA      SHA-256 of the seeded object `seed.bin` (roundtrip, rest-download)
    FTP_SEED_SIZE     its size
    FTP_MANY          how many objects were seeded below `many/` (many-objects)
    FTP_STORE_PID     the PID of the S3 server, which the store-gone scenarios kill mid-transfer

Exit status 0: the scenario passed; 1: a mismatch ("FAIL [scenario]: ..." on stderr); 2: an unexpected exception.
Lines "UPLOADED name sha256 size" on stdout tell the Swift side what to find in the bucket.
"""

import ftplib
import hashlib
import io
import os
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftplib_client as base  # noqa: E402 (the shared helpers: connect, expect, retr, stor...)
from ftplib_client import MiB, TIMEOUT, Failure, check, code_of, connect, expect, expect_class, retr, sha, stor  # noqa: E402


def uploaded(name, data):
    print("UPLOADED %s %s %d" % (name, sha(data), len(data)))


def seed():
    return os.environ.get("FTP_SEED_SHA", ""), int(os.environ.get("FTP_SEED_SIZE", "0"))


def names(ftp, path=""):
    return sorted(os.path.basename(n.rstrip("/")) for n in ftp.nlst(*([path] if path else [])))


def random_bytes(size):
    # os.urandom is slow for hundreds of MiB: repeat a random MiB with a counter so no two MiB are equal.
    if size <= MiB:
        return os.urandom(size)
    block = os.urandom(MiB)
    parts = []
    for index in range(size // MiB):
        parts.append(struct.pack(">Q", index) + block[8:])
    parts.append(os.urandom(size % MiB))
    return b"".join(parts)


# --------------------------------------------------------------------------------------------------------------------
# Scenarios


def scenario_roundtrip(size):
    ftp = connect()
    data = random_bytes(size)
    name = "up-%d.bin" % size
    reply = stor(ftp, name, data)
    check(reply.startswith("226"), "STOR final reply: %r" % reply)
    uploaded(name, data)
    check(ftp.size(name) == size, "SIZE %s: %r, expected %d" % (name, ftp.size(name), size))
    facts = ftp.sendcmd("MLST " + name)
    check(("size=%d;" % size) in facts.lower(), "MLST %s: %r" % (name, facts))
    back = retr(ftp, name)
    check(len(back) == size and sha(back) == sha(data),
          "RETR of the upload: %d of %d bytes, SHA-256 %s" % (len(back), size, "differs" if sha(back) != sha(data) else "equal"))
    # Down: an object put into the bucket by the test comes back identical.
    seed_sha, seed_size = seed()
    got = retr(ftp, "seed.bin")
    check(len(got) == seed_size, "RETR seed.bin: %d bytes of %d" % (len(got), seed_size))
    check(sha(got) == seed_sha, "RETR seed.bin: SHA-256 differs")
    check(ftp.quit().startswith("221"), "QUIT")


def scenario_rest_download():
    seed_sha, size = seed()
    ftp = connect()
    whole = retr(ftp, "seed.bin")
    check(sha(whole) == seed_sha, "RETR seed.bin")
    for offset in (0, 1, size // 2, size - 1, size):
        part = retr(ftp, "seed.bin", rest=offset)
        check(part == whole[offset:], "REST %d + RETR: %d bytes, expected %d" % (offset, len(part), size - offset))
    ftp.voidcmd("TYPE I")
    expect(350, ftp.sendcmd, "REST %d" % (size + 1))
    reply = code_of(ftp.retrbinary, "RETR seed.bin", lambda _: None)
    check(reply[:3] == "554", "RETR after a REST past the end: %r" % reply)
    ftp.quit()


def scenario_resume_upload():
    ftp = connect()
    # A large upload interrupted at 6 MiB, resumed with REST + STOR: the kept part is copied by the store.
    full = random_bytes(13 * MiB + 5)
    stor(ftp, "resume.bin", full[: 6 * MiB])
    check(ftp.size("resume.bin") == 6 * MiB, "the partial upload")
    reply = stor(ftp, "resume.bin", full[6 * MiB:], rest=6 * MiB)
    check(reply.startswith("226"), "REST + STOR: %r" % reply)
    check(sha(retr(ftp, "resume.bin")) == sha(full), "REST + STOR of a large file: content differs")
    uploaded("resume.bin", full)
    # REST inside the file: what follows the offset is replaced, what precedes stays.
    tail = os.urandom(1000)
    stor(ftp, "resume.bin", tail, rest=5 * MiB + 17)
    expected = full[: 5 * MiB + 17] + tail
    check(sha(retr(ftp, "resume.bin")) == sha(expected), "REST inside a large file")
    # Small files: the kept bytes are read back and uploaded again.
    stor(ftp, "small.bin", b"0123456789")
    stor(ftp, "small.bin", b"abc", rest=4)
    check(retr(ftp, "small.bin") == b"0123abc", "REST + STOR of a small file: %r" % retr(ftp, "small.bin"))
    ftp.voidcmd("TYPE I")
    expect(350, ftp.sendcmd, "REST 100")
    reply = code_of(ftp.storbinary, "STOR small.bin", io.BytesIO(b"x"))
    check(reply[:1] == "5", "REST past the end + STOR: %r" % reply)
    check(retr(ftp, "small.bin") == b"0123abc", "a refused resume must not change the file")
    # APPE: small, large (copied), and onto a new name.
    ftp.storbinary("APPE small.bin", io.BytesIO(b"-appended"))
    check(retr(ftp, "small.bin") == b"0123abc-appended", "APPE to a small file")
    more = os.urandom(2 * MiB)
    ftp.storbinary("APPE resume.bin", io.BytesIO(more), blocksize=MiB)
    check(sha(retr(ftp, "resume.bin")) == sha(expected + more), "APPE to a large file")
    ftp.storbinary("APPE new.bin", io.BytesIO(b"created"))
    check(retr(ftp, "new.bin") == b"created", "APPE creates a file")
    ftp.quit()


def scenario_rename():
    ftp = connect()
    stor(ftp, "a.txt", b"A")
    expect(350, ftp.sendcmd, "RNFR a.txt")
    expect(250, ftp.sendcmd, "RNTO b.txt")
    check(names(ftp) == ["b.txt"], "after RNFR/RNTO of a file: %r" % names(ftp))
    check(retr(ftp, "b.txt") == b"A", "the renamed file's content")
    # A directory with nested content and an empty subdirectory.
    ftp.mkd("dir")
    ftp.mkd("dir/empty")
    ftp.mkd("dir/sub")
    for index in range(12):
        stor(ftp, "dir/f%d" % index, b"file %d" % index)
    stor(ftp, "dir/sub/deep.txt", b"deep")
    ftp.mkd("target")
    expect(350, ftp.sendcmd, "RNFR dir")
    expect(250, ftp.sendcmd, "RNTO target/moved")
    check(names(ftp) == ["b.txt", "target"], "root after moving dir: %r" % names(ftp))
    check(names(ftp, "target/moved") == sorted(["empty", "sub"] + ["f%d" % i for i in range(12)]),
          "the moved directory: %r" % names(ftp, "target/moved"))
    check(retr(ftp, "target/moved/sub/deep.txt") == b"deep", "a file deep in the moved directory")
    # Onto an existing directory: refused; onto an existing file: replaced.
    ftp.mkd("other")
    expect(350, ftp.sendcmd, "RNFR target")
    expect(550, ftp.sendcmd, "RNTO other")
    stor(ftp, "c.txt", b"C")
    expect(350, ftp.sendcmd, "RNFR b.txt")
    expect(250, ftp.sendcmd, "RNTO c.txt")
    check(retr(ftp, "c.txt") == b"A", "RNTO over an existing file replaces it")
    expect(550, ftp.sendcmd, "RNFR missing")
    ftp.quit()


def scenario_mkdir_rmdir():
    ftp = connect()
    check(ftp.mkd("d").endswith("d"), "MKD")
    expect(550, ftp.mkd, "d")
    check("d" in names(ftp), "an empty directory is listed")
    mlsd = dict(ftp.mlsd())
    check(mlsd.get("d", {}).get("type") == "dir", "MLSD type of an empty directory: %r" % mlsd.get("d"))
    expect(250, ftp.cwd, "d")
    check(ftp.pwd() == "/d", "PWD")
    stor(ftp, "inside.txt", b"x")
    ftp.cwd("/")
    expect(550, ftp.rmd, "d")
    expect(550, ftp.mkd, "missing/child")
    ftp.delete("d/inside.txt")
    check("d" in names(ftp), "a directory emptied by DELE stays")
    expect(250, ftp.rmd, "d")
    check("d" not in names(ftp), "RMD removed it")
    expect(550, ftp.rmd, "d")
    expect(550, ftp.cwd, "d")
    ftp.quit()


def scenario_unsupported():
    ftp = connect()
    stor(ftp, "f.txt", b"x")
    expect(502, ftp.sendcmd, "MFMT 20200101000000 f.txt", what="MFMT on S3")
    expect(502, ftp.sendcmd, "SITE CHMOD 600 f.txt", what="SITE CHMOD on S3")
    mdtm = ftp.sendcmd("MDTM f.txt")
    check(mdtm.startswith("213 20"), "MDTM from the object's Last-Modified: %r" % mdtm)
    ftp.voidcmd("TYPE I")
    check(ftp.size("f.txt") == 1, "SIZE")
    ftp.quit()


def scenario_many_objects():
    count = int(os.environ["FTP_MANY"])
    ftp = connect()
    listed = names(ftp, "many")
    check(len(listed) == count, "NLST many: %d names, expected %d" % (len(listed), count))
    check(listed == sorted("f%05d" % i for i in range(count)), "NLST many: names differ")
    facts = list(ftp.mlsd("many"))
    check(len(facts) == count, "MLSD many: %d entries" % len(facts))
    check(all(f["type"] == "file" and f["size"] == "5" for _, f in facts), "MLSD facts: %r" % facts[:3])
    lines = []
    ftp.retrlines("LIST many", lines.append)
    check(len(lines) == count, "LIST many: %d lines" % len(lines))
    ftp.quit()


def scenario_abort_stor():
    ftp = connect()
    old = os.urandom(MiB)
    stor(ftp, "keep.bin", old)
    new = random_bytes(40 * MiB)
    ftp.voidcmd("TYPE I")
    # ABOR in the middle of a STOR whose parts are already on their way: the old object stays.
    conn = ftp.transfercmd("STOR keep.bin")
    conn.sendall(new[: 30 * MiB])
    ftp.putcmd("ABOR")
    replies = [ftp.getline()[:3]]
    if replies[0] == "426":
        replies.append(ftp.getline()[:3])
    conn.close()
    check(replies in (["426", "226"], ["226"]), "ABOR during STOR: %r" % replies)
    check(sha(retr(ftp, "keep.bin")) == sha(old), "an aborted STOR replaced keep.bin")
    # The data connection reset halfway.
    conn = ftp.transfercmd("STOR keep.bin")
    conn.sendall(new[: 20 * MiB])
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    reply = code_of(ftp.voidresp)
    check(reply[:1] in "45", "STOR whose data connection was reset: %r" % reply)
    check(sha(retr(ftp, "keep.bin")) == sha(old), "a reset STOR replaced keep.bin")
    # A new name, aborted: nothing appears.
    conn = ftp.transfercmd("STOR brand-new.bin")
    conn.sendall(new[: 12 * MiB])
    ftp.putcmd("ABOR")
    if ftp.getline()[:3] == "426":
        ftp.getline()
    conn.close()
    check(names(ftp) == ["keep.bin"], "after aborted uploads: %r" % names(ftp))
    # The client vanishes mid-STOR (control and data): nothing appears either.
    lost = connect()
    lost.voidcmd("TYPE I")
    conn = lost.transfercmd("STOR vanished.bin")
    conn.sendall(new[: 20 * MiB])
    lost.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    lost.sock.close()
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    time.sleep(2)
    check(names(ftp) == ["keep.bin"], "after a vanished client: %r" % names(ftp))
    # And a complete STOR replaces it.
    stor(ftp, "keep.bin", new)
    check(sha(retr(ftp, "keep.bin")) == sha(new), "a complete STOR after aborted ones")
    uploaded("keep.bin", new)
    ftp.quit()


def scenario_abort_retr():
    seed_sha, size = seed()
    ftp = connect()
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("RETR seed.bin")
    conn.settimeout(TIMEOUT)
    got = base.read_at_least(conn, 2 * MiB)
    first = ftp.abort()
    check(first[:3] in ("426", "226", "225"), "ABOR: %r" % first)
    if first.startswith("426"):
        check(ftp.getresp().startswith("226"), "226 after 426")
    conn.close()
    expect(200, ftp.sendcmd, "NOOP", what="NOOP after ABOR")
    check(sha(retr(ftp, "seed.bin")) == seed_sha, "RETR after ABOR")
    ftp.quit()


def kill_store():
    os.kill(int(os.environ["FTP_STORE_PID"]), signal.SIGKILL)


def scenario_store_gone_stor():
    ftp = connect()
    check(ftp.size("keep.bin") == MiB, "keep.bin is seeded")
    ftp.voidcmd("TYPE I")
    data = random_bytes(64 * MiB)
    conn = ftp.transfercmd("STOR keep.bin")
    conn.settimeout(TIMEOUT)
    conn.sendall(data[: 24 * MiB])
    kill_store()
    sent = 24 * MiB
    try:
        while sent < len(data):
            conn.sendall(data[sent: sent + MiB])
            sent += MiB
    except OSError:
        pass  # The server stopped reading: expected once the store is gone.
    conn.close()
    reply = code_of(ftp.voidresp)
    check(reply[:1] in "45", "STOR while the store went away: expected an error, got %r (%d bytes sent)" % (reply, sent))
    print("STOR REPLY %s" % reply.replace("\n", " "))
    # The session survives; commands that need the store fail cleanly.
    expect(200, ftp.sendcmd, "NOOP")
    expect_class("45", ftp.size, "keep.bin")
    ftp.quit()


def scenario_store_gone_retr():
    seed_sha, size = seed()
    ftp = connect()
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("RETR seed.bin")
    conn.settimeout(TIMEOUT)
    received = 0
    while received < 8 * MiB:
        chunk = conn.recv(MiB)
        check(chunk, "the download ended after %d bytes, before the store went away" % received)
        received += len(chunk)
    kill_store()
    try:
        while True:
            chunk = conn.recv(MiB)
            if not chunk:
                break
            received += len(chunk)
    except OSError:
        pass
    conn.close()
    reply = code_of(ftp.voidresp)
    check(received < size, "the whole object arrived although the store went away (%d bytes)" % received)
    check(reply[:1] in "45", "RETR while the store went away: expected an error, got %r after %d of %d bytes"
          % (reply, received, size))
    print("RETR REPLY %s" % reply.replace("\n", " "))
    expect(200, ftp.sendcmd, "NOOP")
    ftp.quit()


def scenario_refused():
    """The server's keys are wrong, or its bucket is missing: every storage command fails with 550, the session
    goes on."""
    ftp = connect()
    expect(550, ftp.sendcmd, "CWD sub")
    expect(550, ftp.sendcmd, "SIZE anything.bin")
    reply = code_of(ftp.retrlines, "LIST", lambda _: None)
    check(reply[:3] == "550", "LIST: %r" % reply)
    reply = code_of(ftp.retrbinary, "RETR anything.bin", lambda _: None)
    check(reply[:3] == "550", "RETR: %r" % reply)
    reply = code_of(ftp.storbinary, "STOR new.bin", io.BytesIO(b"data"))
    check(reply[:3] == "550", "STOR: %r" % reply)
    expect(550, ftp.mkd, "newdir")
    expect(200, ftp.sendcmd, "NOOP")
    ftp.quit()


SCENARIOS = {
    "rest-download": scenario_rest_download,
    "resume-upload": scenario_resume_upload,
    "rename": scenario_rename,
    "mkdir-rmdir": scenario_mkdir_rmdir,
    "unsupported": scenario_unsupported,
    "many-objects": scenario_many_objects,
    "abort-stor": scenario_abort_stor,
    "abort-retr": scenario_abort_retr,
    "store-gone-stor": scenario_store_gone_stor,
    "store-gone-retr": scenario_store_gone_retr,
    "refused": scenario_refused,
}


def lookup(name):
    if name.startswith("roundtrip-"):
        return lambda: scenario_roundtrip(int(name.split("-")[1]))
    return SCENARIOS.get(name)


def main():
    return base.run("ftplib_s3_client.py", lookup)

if __name__ == "__main__":
    sys.exit(main())
