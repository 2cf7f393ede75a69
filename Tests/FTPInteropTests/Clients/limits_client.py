#!/usr/bin/env python3
"""Trips FsTPy's limits and timeouts with Python's ftplib and raw sockets, one scenario per invocation.

    python3 limits_client.py SCENARIO PORT

LimitsTests.swift starts the server with the small limits each scenario's docstring names, and passes the same
environment as for ftplib_client.py, whose helpers this script reuses. Exit status 0: passed; 1: a mismatch
("FAIL [scenario]: ..." on stderr); 2: an unexpected exception.
"""

import ftplib
import os
import socket
import sys
import threading
import time

import ftplib_client as base
from ftplib_client import MiB, Failure, check, code_of, connect, disk, expect, read_disk, retr, stor, write_disk


def open_data(ftp, command, rcvbuf=None):
    """EPSV data connection opened with a small receive buffer set before connecting (so the TCP window stays
    small), then the transfer command; returns the data socket after the 150 reply."""
    host, port = base.HOST, ftp.makepasv()[1]
    conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    conn.settimeout(base.TIMEOUT)
    conn.connect((host, port))
    reply = ftp.sendcmd(command)
    check(reply[:3] in ("125", "150"), "%s: %r" % (command, reply))
    return conn


def drain(conn, timeout):
    """Reads until the peer closes (EOF or reset); returns the byte count. Fails if the peer keeps it open."""
    conn.settimeout(timeout)
    total = 0
    while True:
        try:
            chunk = conn.recv(1 << 20)
        except ConnectionResetError:
            return total
        except socket.timeout:
            raise Failure("the server kept the connection open for %.0f s without sending (%d bytes read)" % (timeout, total))
        if not chunk:
            return total
        total += len(chunk)


def scenario_ban():
    """loginBan: 3 failures within 30 s ban for 2 s; maximumLoginAttempts 2; failedLoginDelay 10 ms."""
    early = connect(user=None)  # open before the ban: its PASS must be refused too
    first = connect(user=None)
    expect(530, first.login, "alice", "wrong-1", what="first failure")
    reply = code_of(first.login, "alice", "wrong-2")
    check(reply.startswith("421"), "second failure on one connection (limit 2) should close it: %r" % reply)
    second = connect(user=None)
    reply = code_of(second.login, "nobody-at-all", "wrong-3")
    check(reply.startswith("421") and "failed logins" in reply, "third failure from the address should ban it: %r" % reply)
    banned_at = time.time()
    # A new connection from the banned address is refused at the greeting, whatever it would send.
    refused = ftplib.FTP(timeout=base.TIMEOUT)
    reply = code_of(refused.connect, base.HOST, base.PORT)
    check(reply.startswith("421"), "a connection from a banned address: %r" % reply)
    # A session opened before the ban cannot log in either, even with the right password.
    reply = code_of(early.login, "alice", base.PASSWORDS["alice"])
    check(reply.startswith("421"), "PASS on a session opened before the ban: %r" % reply)
    # The ban expires by itself.
    while True:
        try:
            ftp = connect(user=None)
            break
        except ftplib.error_temp as error:
            check(time.time() - banned_at < 8, "the 2 s ban did not expire: %s" % error)
            time.sleep(0.1)
    lasted = time.time() - banned_at
    check(lasted >= 1.5, "the ban lasted only %.2f s (2 s configured)" % lasted)
    expect(230, ftp.login, "alice", base.PASSWORDS["alice"], what="login after the ban expired")
    ftp.quit()


def timed_failures(user, count):
    ftp = connect(user=None)
    times = []
    for _ in range(count):
        expect(331, ftp.sendcmd, "USER " + user)
        started = time.time()
        reply = code_of(ftp.sendcmd, "PASS not-the-password")
        times.append(time.time() - started)
        check(reply.startswith("530"), "failed PASS: %r" % reply)
    ftp.close()
    return times


def scenario_login_delay():
    """failedLoginDelay 300 ms doubling up to 800 ms; maximumLoginAttempts 10; no bans.

    The lower bounds are strict (a pause never ends early); the upper bounds leave room for a loaded machine. A load
    only ever adds time, so the comparison of a wrong user with a wrong password uses, per failure, the shortest of up
    to three rounds: a busy machine cannot make two equal pauses look different in every round."""
    expected = [0.3, 0.6, 0.8, 0.8]
    shortest = None
    for _ in range(3):
        wrong_password = timed_failures("alice", len(expected))
        wrong_user = timed_failures("no-such-user", len(expected))
        for label, times in (("wrong password", wrong_password), ("wrong user", wrong_user)):
            for i, (measured, wanted) in enumerate(zip(times, expected)):
                check(wanted - 0.02 <= measured <= wanted + 0.35,
                      "%s, failure %d: %.3f s, expected about %.1f s (all: %s)" % (label, i + 1, measured, wanted, times))
        rounds = (wrong_password, wrong_user)
        shortest = rounds if shortest is None else tuple(
            [min(a, b) for a, b in zip(old, new)] for old, new in zip(shortest, rounds))
        if all(abs(a - b) < 0.15 for a, b in zip(*shortest)):
            break
    for i, (a, b) in enumerate(zip(*shortest)):
        check(abs(a - b) < 0.15, "failure %d: wrong password %.3f s, wrong user %.3f s (shortest of the rounds)"
              % (i + 1, a, b))
    print("measured: failed-login pauses: wrong password %s, wrong user %s"
          % (["%.3f" % t for t in shortest[0]], ["%.3f" % t for t in shortest[1]]))
    started = time.time()
    ftp = connect()
    check(time.time() - started < 0.5, "a good login is not delayed")
    ftp.quit()


def scenario_stall_download():
    """stalledTransfer 1 s: a client that never reads its download gets 426, and the session goes on."""
    data = os.urandom(48 * MiB)
    write_disk("big.bin", data)
    ftp = connect()
    ftp.voidcmd("TYPE I")
    conn = open_data(ftp, "RETR big.bin", rcvbuf=4096)
    started = time.time()
    ftp.sock.settimeout(20)
    reply = ftp.getline()
    elapsed = time.time() - started
    check(reply.startswith("426"), "a download nobody reads: %r" % reply)
    check(1.0 <= elapsed < 8, "the stalled download was cut after %.2f s (timeout 1 s)" % elapsed)
    received = drain(conn, 10)
    conn.close()
    check(received < len(data), "the whole file arrived (%d bytes) although the transfer was cut" % received)
    expect(200, ftp.sendcmd, "NOOP", what="NOOP after a stalled download")
    check(retr(ftp, "pub/readme.txt") == os.environ["FTP_README_TEXT"].encode(), "a download after the stall")
    ftp.quit()


def scenario_stall_upload():
    """stalledTransfer 1 s: an upload that stops sending gets 426 and leaves no file."""
    ftp = connect()
    ftp.voidcmd("TYPE I")
    conn = open_data(ftp, "STOR stalled.bin")
    conn.sendall(b"x" * 1000)
    started = time.time()
    ftp.sock.settimeout(20)
    reply = ftp.getline()
    elapsed = time.time() - started
    check(reply.startswith("426"), "an upload that stops sending: %r" % reply)
    check(1.0 <= elapsed < 8, "the stalled upload was cut after %.2f s (timeout 1 s)" % elapsed)
    conn.close()
    check(not os.path.exists(disk("stalled.bin")), "a stalled upload left a file behind")
    expect(200, ftp.sendcmd, "NOOP", what="NOOP after a stalled upload")
    ftp.quit()


def scenario_slow_not_stalled():
    """stalledTransfer 1 s: a download that is slow but moving (one sendfile region larger than the socket buffers)
    is not cut."""
    data = os.urandom(16 * MiB)
    write_disk("slow.bin", data)
    ftp = connect()
    ftp.voidcmd("TYPE I")
    conn = open_data(ftp, "RETR slow.bin", rcvbuf=65536)
    got = []
    started = time.time()
    while True:
        chunk = conn.recv(256 * 1024)
        if not chunk:
            break
        got.append(chunk)
        time.sleep(0.03)
    conn.close()
    reply = ftp.voidresp()
    elapsed = time.time() - started
    check(reply.startswith("226"), "a slow download (%.1f s) with a 1 s stall timeout: %r" % (elapsed, reply))
    check(b"".join(got) == data, "the slow download's bytes (%d of %d)" % (sum(map(len, got)), len(data)))
    check(elapsed > 1.5, "the download was not slow enough to test anything (%.2f s)" % elapsed)
    ftp.quit()


def scenario_reply_timeout():
    """replyWrite 1 s: a client that sends commands and never reads replies is disconnected."""
    os.makedirs(disk("many"), exist_ok=True)
    for i in range(400):
        with open(disk("many/%03d-%s" % (i, "n" * 100)), "wb") as f:
            f.write(b"x")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect((base.HOST, base.PORT))
    commands = b"USER alice\r\nPASS " + base.PASSWORDS["alice"].encode() + b"\r\n" + b"STAT many\r\n" * 500
    sock.sendall(commands)
    # About 60 KB a reply, 500 of them: far more than the socket buffers hold. The server must give up. Not reading
    # for 20 s leaves it time to fill the buffers and then wait out its 1 s even when a loaded machine makes each
    # listing slow (after 4 s, and once after 10 s, a loaded debug build had not filled them yet, and the drain below
    # kept it going).
    time.sleep(20)
    received = drain(sock, 8)
    sock.close()
    check(received < 10 * MiB, "the server wrote %d bytes: it should have closed the connection" % received)
    # The server still serves others.
    ftp = connect()
    expect(200, ftp.sendcmd, "NOOP")
    ftp.quit()


def timed_retr(user, name, results, index, ascii=False):
    ftp = connect(user=user)
    if ascii:
        ftp.voidcmd("TYPE A")
        conn = ftp.transfercmd("RETR " + name)
    started = time.time()
    if ascii:
        data = base.recv_all(conn)
        conn.close()
        ftp.voidresp()
    else:
        data = retr(ftp, name)
    results[index] = (data, time.time() - started)
    ftp.quit()


LIMIT = 2 * MiB


def check_rate(label, size, elapsed, limit=LIMIT):
    rate = size / elapsed
    print("measured: %s: %d bytes in %.2f s = %.0f KiB/s (limit %.0f KiB/s, %.2fx)"
          % (label, size, elapsed, rate / 1024, limit / 1024, rate / limit))
    check(0.6 * limit <= rate <= 1.15 * limit,
          "%s: %d bytes in %.2f s = %.0f KiB/s, limit %.0f KiB/s" % (label, size, elapsed, rate / 1024, limit / 1024))


def scenario_rate_download():
    """bandwidth.maximumDownloadRate 2 MiB/s: a binary download (sendfile, in regions sized by the bucket)."""
    data = os.urandom(6 * MiB)
    write_disk("rate.bin", data)
    results = [None]
    timed_retr("alice", "rate.bin", results, 0)
    got, elapsed = results[0]
    check(got == data, "the paced binary download's bytes")
    check_rate("binary download", len(data), elapsed)


def scenario_rate_download_ascii():
    """bandwidth.maximumDownloadRate 128 KiB/s: an ASCII download (buffers through the converter; a debug build
    converts about 1 MB/s, time the pacing cannot give back, so the limit stays well below that)."""
    limit = 128 * 1024
    text = b"a line of text for the ASCII download\n" * (384 * 1024 // 38)
    write_disk("rate.txt", text)
    results = [None]
    timed_retr("alice", "rate.txt", results, 0, ascii=True)
    got, elapsed = results[0]
    check(got == text.replace(b"\n", b"\r\n"), "the paced ASCII download's bytes")
    # The limit counts the bytes sent, CRLF included.
    check_rate("ASCII download", len(got), elapsed, limit=limit)


def scenario_rate_upload():
    """bandwidth.maximumUploadRate 2 MiB/s."""
    data = os.urandom(6 * MiB)
    ftp = connect()
    started = time.time()
    reply = stor(ftp, "up-rate.bin", data)
    elapsed = time.time() - started
    check(reply.startswith("226") and read_disk("up-rate.bin") == data, "the paced upload: %r" % reply)
    check_rate("upload", len(data), elapsed)
    ftp.quit()


def scenario_rate_per_user():
    """bandwidth.userMaximumDownloadRate 2 MiB/s: alice's two sessions share her 2 MiB/s; bob has his own."""
    data = os.urandom(3 * MiB)
    write_disk("pub/share.bin", data)
    results = [None, None, None]
    threads = [
        threading.Thread(target=timed_retr, args=("alice", "pub/share.bin", results, 0)),
        threading.Thread(target=timed_retr, args=("alice", "pub/share.bin", results, 1)),
        threading.Thread(target=timed_retr, args=("bob", "pub/share.bin", results, 2)),
    ]
    started = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check(all(result is not None and result[0] == data for result in results), "every paced download's bytes")
    alice_elapsed = max(results[0][1], results[1][1])
    check_rate("alice's two sessions together", 2 * len(data), alice_elapsed)
    check_rate("bob alone", len(data), results[2][1])
    check(results[2][1] < alice_elapsed * 0.8,
          "bob (%.2f s) was held by alice's limit (%.2f s)" % (results[2][1], alice_elapsed))
    _ = started


def scenario_log_lines():
    """Drives the commands whose log lines LimitsTests.swift checks: a login, a failed login, ACCT, RETR, STOR."""
    ftp = connect()
    check(retr(ftp, "pub/readme.txt") == os.environ["FTP_README_TEXT"].encode(), "RETR pub/readme.txt")
    stor(ftp, "logged-upload.txt", b"12345")
    code_of(ftp.sendcmd, "ACCT acct-secret-4")
    ftp.quit()
    other = connect(user=None)
    expect(530, other.login, "alice", "wrong-secret-5")
    other.quit()


SCENARIOS = {
    "ban": scenario_ban,
    "login-delay": scenario_login_delay,
    "stall-download": scenario_stall_download,
    "stall-upload": scenario_stall_upload,
    "slow-not-stalled": scenario_slow_not_stalled,
    "reply-timeout": scenario_reply_timeout,
    "rate-download": scenario_rate_download,
    "rate-download-ascii": scenario_rate_download_ascii,
    "rate-upload": scenario_rate_upload,
    "rate-per-user": scenario_rate_per_user,
    "log-lines": scenario_log_lines,
}


def main():
    return base.run("limits_client.py", SCENARIOS.get)

if __name__ == "__main__":
    sys.exit(main())
