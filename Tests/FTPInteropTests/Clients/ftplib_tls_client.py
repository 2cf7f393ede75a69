#!/usr/bin/env python3
"""Drives FsTPy's FTPS with Python's ftplib.FTP_TLS and ssl, one scenario per invocation.

    python3 ftplib_tls_client.py SCENARIO PORT

Besides what ftplib_client.py documents, the environment carries FTP_CA_FILE (the test authority that signed the
server's certificate), FTP_IMPLICIT_PORT (the implicit FTPS port, when the server has one), FTP_FINGERPRINT (the
SHA-256 of the certificate the server presents, AB:CD:...), and for the reload scenario FTP_FINGERPRINT_NEXT and
FTP_SIGNAL_DIR. Exit status 0: passed; 1: a mismatch ("FAIL [scenario]: ..." on stderr); 2: an unexpected exception.
"""

import ftplib
import hashlib
import io
import os
import socket
import ssl
import sys
import time

import ftplib_client as base
from ftplib_client import MiB, Failure, check, sha, read_disk, write_disk, expect, code_of, read_reply

TIMEOUT = base.TIMEOUT
CA_FILE = os.environ.get("FTP_CA_FILE", "")
# The certificate the server is expected to present (the reload scenario changes it).
EXPECTED = {"fingerprint": os.environ.get("FTP_FINGERPRINT", "")}


def context():
    """Verifies the server against the test authority, host name (IP) included, as a careful client does."""
    ctx = ssl.create_default_context(cafile=CA_FILE)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def fingerprint(sock):
    der = sock.getpeercert(binary_form=True)
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


class ReusingFTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's TLS session, as curl, lftp and FileZilla do
    (ftplib as shipped does not), and remember whether they did."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.data_reused = []
        self.data_versions = []

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
            self.data_reused.append(conn.session_reused)
            self.data_versions.append(conn.version())
        return conn, size


class ImplicitFTP_TLS(ReusingFTP_TLS):
    """Implicit FTPS: TLS from the first byte, data protected without PBSZ/PROT."""

    def connect(self, host="", port=0, timeout=-999, source_address=None):
        self.host, self.port = host, port
        self.timeout = TIMEOUT
        raw = socket.create_connection((host, port), TIMEOUT)
        self.af = raw.family
        self.sock = self.context.wrap_socket(raw, server_hostname=host)
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        self._prot_p = True
        return self.welcome


def connect_tls(user="alice", passive=True, cls=ReusingFTP_TLS, protect=True, ctx=None):
    ftp = cls(context=ctx or context(), timeout=TIMEOUT, encoding="utf-8")
    ftp.connect(base.HOST, base.PORT)
    expect(234, ftp.auth, what="AUTH TLS")
    check(ftp.sock.version() in ("TLSv1.2", "TLSv1.3"), "control TLS version %r" % ftp.sock.version())
    if EXPECTED["fingerprint"]:
        check(fingerprint(ftp.sock) == EXPECTED["fingerprint"], "the server presented another certificate")
    if user is not None:
        ftp.login(user, base.PASSWORDS[user])
    if protect:
        ftp.prot_p()
    ftp.set_pasv(passive)
    return ftp


def connect_implicit(user="alice", passive=True):
    port = int(os.environ["FTP_IMPLICIT_PORT"])
    ftp = ImplicitFTP_TLS(context=context(), timeout=TIMEOUT, encoding="utf-8")
    ftp.connect(base.HOST, port)
    check(ftp.welcome.startswith("220"), "implicit FTPS greeting: %r" % ftp.welcome)
    check(ftp.sock.version() in ("TLSv1.2", "TLSv1.3"), "implicit TLS version %r" % ftp.sock.version())
    if user is not None:
        ftp.login(user, base.PASSWORDS[user])
    ftp.set_pasv(passive)
    return ftp


def round_trip(ftp, size, label):
    data = os.urandom(size)
    name = "tls-up-%s.bin" % label
    reply = base.stor(ftp, name, data)
    check(reply.startswith("226"), "STOR over TLS: %r" % reply)
    on_disk = read_disk(name)
    check(len(on_disk) == size and sha(on_disk) == sha(data), "uploaded over TLS: %d of %d bytes, or SHA-256 differs"
          % (len(on_disk), size))
    other = os.urandom(size)
    write_disk("tls-down-%s.bin" % label, other)
    got = base.retr(ftp, "tls-down-%s.bin" % label)
    check(len(got) == size and sha(got) == sha(other), "downloaded over TLS: %d of %d bytes, or SHA-256 differs"
          % (len(got), size))


# --------------------------------------------------------------------------------------------------------------------
# Scenarios


def scenario_roundtrip(size, passive):
    ftp = connect_tls(passive=passive)
    round_trip(ftp, size, "%d-%s" % (size, "pasv" if passive else "active"))
    # Every data connection ran TLS and resumed the control connection's session.
    check(ftp.data_versions and all(v in ("TLSv1.2", "TLSv1.3") for v in ftp.data_versions),
          "data connections' TLS versions: %r" % ftp.data_versions)
    check(all(ftp.data_reused), "data connections did not resume the control session: %r" % ftp.data_reused)
    # A listing over TLS.
    names = ftp.nlst()
    check("tls-up-%d-%s.bin" % (size, "pasv" if passive else "active") in names, "NLST over TLS: %r" % names)
    check(ftp.quit().startswith("221"), "QUIT")


def scenario_commands():
    ftp = ftplib.FTP_TLS(context=context(), timeout=TIMEOUT, encoding="utf-8")
    ftp.connect(base.HOST, base.PORT)
    features = ftp.sendcmd("FEAT")
    for feature in ("AUTH TLS", "PBSZ", "PROT"):
        check("\n " + feature in features, "FEAT lacks %r: %r" % (feature, features))
    expect(503, ftp.sendcmd, "PBSZ 0", what="PBSZ before AUTH")
    expect(503, ftp.sendcmd, "PROT P", what="PROT before AUTH")
    expect(533, ftp.sendcmd, "CCC", what="CCC in clear")
    expect(504, ftp.sendcmd, "AUTH GSSAPI", what="an unknown AUTH mechanism")
    # After a refused AUTH the session goes on in clear.
    expect(200, ftp.sendcmd, "NOOP", what="NOOP after a refused AUTH")
    expect(234, ftp.auth, what="AUTH TLS")
    expect(503, ftp.sendcmd, "AUTH TLS", what="AUTH TLS twice")
    ftp.login("alice", base.PASSWORDS["alice"])
    expect(503, ftp.sendcmd, "PROT P", what="PROT before PBSZ")
    expect(501, ftp.sendcmd, "PBSZ lots", what="PBSZ with a word")
    reply = expect(200, ftp.sendcmd, "PBSZ 1024", what="PBSZ 1024")
    check("PBSZ=0" in reply, "PBSZ answers with the size it uses (0): %r" % reply)
    expect(536, ftp.sendcmd, "PROT S", what="PROT S")
    expect(536, ftp.sendcmd, "PROT E", what="PROT E")
    expect(504, ftp.sendcmd, "PROT Z", what="PROT Z")
    expect(534, ftp.sendcmd, "CCC", what="CCC under TLS")
    # PROT C: the data connection is clear (a plain socket reads the listing).
    write_disk("clear.txt", b"in clear\n")
    expect(200, ftp.sendcmd, "PROT C")
    ftp._prot_p = False
    check(base.retr(ftp, "clear.txt") == b"in clear\n", "RETR with PROT C")
    # PROT P: the data connection needs TLS.
    expect(200, ftp.sendcmd, "PROT P")
    ftp._prot_p = True
    check(base.retr(ftp, "clear.txt") == b"in clear\n", "RETR with PROT P")
    status = ftp.sendcmd("STAT")
    check("TLS" in status, "STAT should say the session is protected: %r" % status)
    # A plain socket on a PROT P data connection gets no clear data.
    ftp._prot_p = False
    conn = ftp.transfercmd("RETR clear.txt")
    conn.settimeout(5)
    try:
        conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
        received = conn.recv(4096)
    except (ConnectionError, socket.timeout):
        received = b""
    conn.close()
    check(b"in clear" not in received, "a PROT P data connection sent clear data: %r" % received[:64])
    reply = code_of(ftp.voidresp)
    check(reply[:1] == "4", "a failed TLS data connection must end with 4xx: %r" % reply)
    expect(200, ftp.sendcmd, "NOOP", what="NOOP after a failed TLS data connection")
    ftp.quit()


def scenario_injection():
    # The classic STARTTLS injection: a command right behind AUTH TLS in the same packet.
    sock = socket.create_connection((base.HOST, base.PORT), timeout=TIMEOUT)
    reader = sock.makefile("rb")
    check(read_reply(reader).startswith(b"220"), "no 220")
    sock.sendall(b"AUTH TLS\r\nUSER alice\r\n")
    rest = reader.read()
    check(rest == b"", "the server must close without answering when data follows AUTH TLS, got %r" % rest[:80])
    sock.close()
    # The same two lines in separate packets, after the 234: the USER goes into the TLS handshake and fails it.
    sock = socket.create_connection((base.HOST, base.PORT), timeout=TIMEOUT)
    reader = sock.makefile("rb")
    check(read_reply(reader).startswith(b"220"), "no 220")
    sock.sendall(b"AUTH TLS\r\n")
    check(read_reply(reader).startswith(b"234"), "AUTH TLS alone gets 234")
    sock.sendall(b"USER alice\r\n")
    rest = reader.read()
    check(not rest.startswith(b"331"), "a clear USER after 234 must never be answered: %r" % rest[:80])
    sock.close()
    # The server is still fine.
    ftp = connect_tls()
    expect(200, ftp.sendcmd, "NOOP")
    ftp.quit()


def scenario_required_control():
    ftp = ftplib.FTP(timeout=TIMEOUT, encoding="utf-8")
    ftp.connect(base.HOST, base.PORT)
    reply = expect(534, ftp.sendcmd, "USER alice", what="USER in clear when TLS is required")
    check("TLS" in reply, "the refusal should say TLS is required: %r" % reply)
    reply = expect(530, ftp.sendcmd, "PASS " + base.PASSWORDS["alice"], what="PASS in clear when TLS is required")
    check("TLS" in reply, "the refusal should say TLS is required: %r" % reply)
    ftp.close()
    ftp = connect_tls()
    round_trip(ftp, MiB, "required-control")
    ftp.quit()


def scenario_required_data():
    ftp = connect_tls(protect=False)
    expect(200, ftp.sendcmd, "PBSZ 0")
    write_disk("data.bin", b"x" * 1000)
    reply = expect(521, ftp.sendcmd, "RETR data.bin", what="RETR with PROT C when data TLS is required")
    check("PROT P" in reply, "the refusal should name PROT P: %r" % reply)
    expect(534, ftp.sendcmd, "PROT C", what="PROT C when data TLS is required")
    expect(200, ftp.sendcmd, "PROT P")
    ftp._prot_p = True
    check(base.retr(ftp, "data.bin") == b"x" * 1000, "RETR with PROT P")
    ftp.quit()


def transfer_without_resumption(ftp, session=None):
    """RETR over a PROT P data connection that resumes `session` (None: a full handshake); returns
    (session_reused, bytes received, final reply)."""
    ftp.voidcmd("TYPE I")
    host, port = ftplib.parse227(ftp.sendcmd("PASV"))
    raw = socket.create_connection((host, port), TIMEOUT)
    ftp.putcmd("RETR data.bin")
    first = ftp.getresp()
    check(first.startswith("150"), "RETR: %r" % first)
    received = b""
    reused = None
    try:
        conn = ftp.context.wrap_socket(raw, server_hostname=ftp.host, session=session)
        reused = conn.session_reused
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += chunk
    except (ssl.SSLError, ConnectionError, OSError):
        pass
    raw.close()
    return reused, received, code_of(ftp.voidresp)


def scenario_reuse_required():
    write_disk("data.bin", os.urandom(MiB))
    ftp = connect_tls()
    check(sha(base.retr(ftp, "data.bin")) == sha(read_disk("data.bin")), "RETR with session reuse")
    check(ftp.data_reused == [True], "the data connection should resume the control session: %r" % ftp.data_reused)
    round_trip(ftp, MiB, "reuse-required")
    # Python's stock ftplib does not resume: its data connections are refused with 522.
    reused, received, reply = transfer_without_resumption(ftp)
    check(reused is not True, "a fresh handshake cannot be a resumption")
    check(received == b"", "a refused data connection sent %d bytes" % len(received))
    check(reply.startswith("522"), "a data connection without session reuse: %r" % reply)
    # Another session's TLS session, presented on this session's data connection: refused as well.
    # (Python only resumes a session within the SSLContext that made it: share one.)
    other = connect_tls(ctx=ftp.context)
    check(base.retr(other, "data.bin"), "the other session works")
    reused, received, reply = transfer_without_resumption(ftp, session=other.sock.session)
    check(reused is not True, "another control connection's session must not resume here")
    check(received == b"", "a data connection with another session's TLS session sent %d bytes" % len(received))
    check(reply.startswith("522"), "a data connection resuming another session: %r" % reply)
    # The session is still usable after the refusals.
    check(sha(base.retr(ftp, "data.bin")) == sha(read_disk("data.bin")), "RETR after the refusals")
    other.quit()
    ftp.quit()


def scenario_no_reuse_allowed():
    # Without the reuse requirement, Python's stock FTP_TLS (no resumption) transfers over PROT P.
    ftp = ftplib.FTP_TLS(context=context(), timeout=TIMEOUT, encoding="utf-8")
    ftp.connect(base.HOST, base.PORT)
    ftp.auth()
    ftp.login("alice", base.PASSWORDS["alice"])
    ftp.prot_p()
    round_trip(ftp, 3 * MiB + 17, "stock-ftplib")
    ftp.quit()


def scenario_implicit():
    for passive in (True, False):
        ftp = connect_implicit(passive=passive)
        # Protected by default: no PBSZ or PROT needed.
        round_trip(ftp, 4 * MiB, "implicit-%s" % ("pasv" if passive else "active"))
        check(all(v in ("TLSv1.2", "TLSv1.3") for v in ftp.data_versions), "implicit data TLS: %r" % ftp.data_versions)
        check(all(ftp.data_reused), "implicit data connections resume: %r" % ftp.data_reused)
        expect(503, ftp.sendcmd, "AUTH TLS", what="AUTH TLS on the implicit port")
        # PROT C is still allowed (PBSZ is implied).
        expect(200, ftp.sendcmd, "PROT C")
        ftp._prot_p = False
        write_disk("implicit-clear.txt", b"clear\n")
        check(base.retr(ftp, "implicit-clear.txt") == b"clear\n", "PROT C on the implicit port")
        ftp.quit()
    # A clear client on the implicit port gets no greeting in clear.
    sock = socket.create_connection((base.HOST, int(os.environ["FTP_IMPLICIT_PORT"])), timeout=5)
    try:
        sock.sendall(b"USER alice\r\n")
        data = sock.recv(100)
    except (ConnectionError, socket.timeout):
        data = b""
    sock.close()
    check(not data.startswith(b"220") and not data.startswith(b"331"), "the implicit port spoke clear FTP: %r" % data)


def scenario_abort():
    block = os.urandom(MiB)
    write_disk("big.bin", block * 64)
    ftp = connect_tls()
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("RETR big.bin")
    got = 0
    while got < 2 * MiB:
        chunk = conn.recv(256 * 1024)
        check(chunk, "the data connection closed after %d bytes" % got)
        got += len(chunk)
    ftp.putcmd("ABOR")
    replies = [ftp.getline()[:3]]
    if replies[0] == "426":
        replies.append(ftp.getline()[:3])
    conn.close()
    check(replies in (["426", "226"], ["226"]), "ABOR during a PROT P RETR: %r" % replies)
    expect(200, ftp.sendcmd, "NOOP")
    back = base.retr(ftp, "big.bin")
    check(sha(back) == sha(block * 64), "RETR after ABOR over TLS")
    ftp.quit()


def scenario_reload():
    signal_dir = os.environ["FTP_SIGNAL_DIR"]
    following = os.environ["FTP_FINGERPRINT_NEXT"]
    first = connect_tls()
    check(fingerprint(first.sock) == EXPECTED["fingerprint"], "the first session sees the first certificate")
    write_disk("reload.bin", os.urandom(MiB))
    with open(os.path.join(signal_dir, "ready"), "w") as f:
        f.write("ready")
    deadline = time.time() + 60
    while not os.path.exists(os.path.join(signal_dir, "reloaded")):
        check(time.time() < deadline, "the test never reloaded the certificate")
        time.sleep(0.05)
    # A new session gets the new certificate...
    EXPECTED["fingerprint"] = following
    second = connect_tls()
    check(fingerprint(second.sock) == following, "a session after the reload sees the new certificate")
    check(sha(base.retr(second, "reload.bin")) == sha(read_disk("reload.bin")), "RETR in the new session")
    # ...while the first one goes on with its own, data connections included (they resume its session).
    check(sha(base.retr(first, "reload.bin")) == sha(read_disk("reload.bin")), "RETR in the session from before")
    check(all(first.data_reused), "the old session's data connection resumed its session: %r" % first.data_reused)
    second.quit()
    first.quit()


SCENARIOS = {
    "commands": scenario_commands,
    "injection": scenario_injection,
    "required-control": scenario_required_control,
    "required-data": scenario_required_data,
    "reuse-required": scenario_reuse_required,
    "no-reuse-allowed": scenario_no_reuse_allowed,
    "implicit": scenario_implicit,
    "abort": scenario_abort,
    "reload": scenario_reload,
}


def lookup(name):
    # roundtrip-SIZE-pasv / roundtrip-SIZE-active
    if name.startswith("roundtrip-"):
        _, size, mode = name.split("-")
        return lambda: scenario_roundtrip(int(size), mode == "pasv")
    return SCENARIOS.get(name)


def main():
    return base.run("ftplib_tls_client.py", lookup)

if __name__ == "__main__":
    sys.exit(main())
