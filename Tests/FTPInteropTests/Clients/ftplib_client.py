#!/usr/bin/env python3
"""Drives FsTPy with Python's ftplib, one scenario per invocation.

    python3 ftplib_client.py SCENARIO PORT

The Swift test (FtplibTests.swift) starts the server on a served temporary directory and passes, in the environment,
FTP_HOST, FTP_ROOT (the served directory on disk, to check uploads and prepare downloads), FTP_OUTSIDE (a directory
that is not served), the users' passwords and the expected texts. Exit status 0: the scenario passed; 1: a
mismatch, described on stderr as "FAIL [scenario]: ..."; 2: an unexpected exception (traceback on stderr).
"""

import ftplib
import hashlib
import io
import os
import socket
import struct
import sys
import threading
import time
import traceback

TIMEOUT = 30
MiB = 1024 * 1024

HOST = os.environ.get("FTP_HOST", "127.0.0.1")
PORT = 0
ROOT = os.environ.get("FTP_ROOT", "")
OUTSIDE = os.environ.get("FTP_OUTSIDE", "")
PASSWORDS = {
    "alice": os.environ.get("FTP_ALICE_PASSWORD", ""),
    "bob": os.environ.get("FTP_BOB_PASSWORD", ""),
    "carol": os.environ.get("FTP_CAROL_PASSWORD", ""),
}


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def disk(relative):
    return os.path.join(ROOT, relative)


def read_disk(relative):
    with open(disk(relative), "rb") as f:
        return f.read()


def write_disk(relative, data):
    path = disk(relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def read_at_least(conn, count):
    """Reads from a data connection until at least `count` bytes came; returns how many did."""
    got = 0
    while got < count:
        chunk = conn.recv(256 * 1024)
        check(chunk, "the data connection closed after %d bytes" % got)
        got += len(chunk)
    return got


def recv_all(conn):
    """Reads a data connection to its end."""
    chunks = []
    while True:
        chunk = conn.recv(MiB)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def connect(user="alice", passive=True, host=None):
    ftp = ftplib.FTP(timeout=TIMEOUT, encoding="utf-8")
    ftp.connect(host or HOST, PORT)
    if user is not None:
        ftp.login(user, PASSWORDS[user])
    ftp.set_pasv(passive)
    return ftp


def code_of(call, *args, **kwargs):
    """Runs an ftplib call; returns the reply text (success) or the error reply text (4xx/5xx)."""
    try:
        result = call(*args, **kwargs)
        return str(result)
    except (ftplib.error_perm, ftplib.error_temp, ftplib.error_reply) as error:
        return str(error)


def expect(code, call, *args, what=None, **kwargs):
    reply = code_of(call, *args, **kwargs)
    check(reply[:3] == str(code), "%s: expected %s, got %r" % (what or describe(call, args), code, reply))
    return reply


def expect_class(prefix, call, *args, what=None, **kwargs):
    """Expects a reply whose code starts with one of the digits in prefix (e.g. "45": any 4xx or 5xx)."""
    reply = code_of(call, *args, **kwargs)
    check(reply[:1] in prefix, "%s: expected a %sxx reply, got %r" % (what or describe(call, args), "/".join(prefix), reply))
    return reply


def describe(call, args):
    name = getattr(call, "__name__", str(call))
    return "%s(%s)" % (name, ", ".join(repr(a) for a in args))


def retr(ftp, name, rest=None):
    chunks = []
    ftp.retrbinary("RETR " + name, chunks.append, blocksize=MiB, rest=rest)
    return b"".join(chunks)


def stor(ftp, name, data, rest=None):
    return ftp.storbinary("STOR " + name, io.BytesIO(data), blocksize=MiB, rest=rest)


def raw_transfer(ftp, command, payload=None, type_code="I"):
    """A transfer over a raw data socket: returns the bytes received (or sends payload), then the final reply."""
    ftp.voidcmd("TYPE " + type_code)
    conn = ftp.transfercmd(command)
    received = []
    try:
        conn.settimeout(TIMEOUT)
        if payload is None:
            while True:
                chunk = conn.recv(MiB)
                if not chunk:
                    break
                received.append(chunk)
        else:
            conn.sendall(payload)
    finally:
        conn.close()
    reply = ftp.voidresp()
    return b"".join(received), reply


def snapshot(root):
    """Every path under root with its kind, size, mode and mtime (symbolic links not followed)."""
    result = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            content = None
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as f:
                    content = sha(f.read())
            result[os.path.relpath(path, root)] = (st.st_mode, st.st_size, st.st_mtime_ns, content)
    return result


def listing_names(ftp, path=""):
    return set(os.path.basename(n.rstrip("/")) for n in ftp.nlst(*( [path] if path else [] )))


# --------------------------------------------------------------------------------------------------------------------
# Scenarios


def scenario_roundtrip(size, passive):
    mode = "pasv" if passive else "active"
    ftp = connect(passive=passive)
    # Up: the server writes exactly what we sent.
    data = os.urandom(size)
    name = "up-%d-%s.bin" % (size, mode)
    reply = stor(ftp, name, data)
    check(reply.startswith("226"), "STOR final reply: %r" % reply)
    on_disk = read_disk(name)
    check(len(on_disk) == size, "uploaded %d bytes, the server stored %d" % (size, len(on_disk)))
    check(sha(on_disk) == sha(data), "uploaded file's SHA-256 differs on disk (%d bytes)" % size)
    check(ftp.size(name) == size, "SIZE %s: %r, expected %d" % (name, ftp.size(name), size))
    back = retr(ftp, name)
    check(sha(back) == sha(data), "downloading what was uploaded: SHA-256 differs (%d of %d bytes)" % (len(back), size))
    # Down: a file written on disk by us comes back identical.
    other = os.urandom(size)
    other_name = "down-%d-%s.bin" % (size, mode)
    write_disk(other_name, other)
    got = retr(ftp, other_name)
    check(len(got) == size, "downloaded %d bytes of %d" % (len(got), size))
    check(sha(got) == sha(other), "downloaded file's SHA-256 differs (%d bytes)" % size)
    check(ftp.quit().startswith("221"), "QUIT")


def scenario_ascii():
    ftp = connect()
    # storlines sends CRLF lines in TYPE A: the server stores LF.
    lines = [b"first line", b"second line", b"", b"last line with trailing spaces  "]
    ftp.storlines("STOR ascii.txt", io.BytesIO(b"\r\n".join(lines) + b"\r\n"))
    expected = b"\n".join(lines) + b"\n"
    stored = read_disk("ascii.txt")
    check(stored == expected, "TYPE A STOR: on disk %r, expected LF-only %r" % (stored, expected))
    # A binary RETR after the ASCII STOR shows the LF-only bytes.
    binary = retr(ftp, "ascii.txt")
    check(binary == expected, "binary RETR after ASCII STOR: %r, expected %r" % (binary, expected))
    # retrlines of an LF file gives the lines; the raw TYPE A stream has CRLF.
    write_disk("lf.txt", b"alpha\nbeta\n\ngamma\n")
    seen = []
    ftp.retrlines("RETR lf.txt", seen.append)
    check(seen == ["alpha", "beta", "", "gamma"], "retrlines: %r" % seen)
    raw, _ = raw_transfer(ftp, "RETR lf.txt", type_code="A")
    check(raw == b"alpha\r\nbeta\r\n\r\ngamma\r\n", "TYPE A RETR raw bytes: %r" % raw)
    # CRLF pairs split across the server's read chunks (lines of every length around 256 KiB boundaries).
    body = b"".join((b"x" * (i % 997)) + b"\r\n" for i in range(2600))
    _, reply = raw_transfer(ftp, "STOR big-ascii.txt", payload=body, type_code="A")
    check(reply.startswith("226"), "TYPE A STOR of %d bytes: %r" % (len(body), reply))
    stored = read_disk("big-ascii.txt")
    check(stored == body.replace(b"\r\n", b"\n"),
          "TYPE A STOR of %d bytes: %d stored, expected %d (CRLF split across chunks?)"
          % (len(body), len(stored), len(body.replace(b"\r\n", b"\n"))))
    raw, _ = raw_transfer(ftp, "RETR big-ascii.txt", type_code="A")
    check(raw == body, "TYPE A RETR of a large LF file: %d bytes, expected %d with CRLF" % (len(raw), len(body)))
    # A file that already has CRLF on disk does not become CR CR LF (only a bare LF gets its CR).
    write_disk("crlf.txt", b"one\r\ntwo\r\n")
    raw, _ = raw_transfer(ftp, "RETR crlf.txt", type_code="A")
    check(raw == b"one\r\ntwo\r\n", "TYPE A RETR of a CRLF file: %r (CR doubled?)" % raw)
    ftp.quit()


def scenario_rest_download():
    ftp = connect()
    data = os.urandom(3 * MiB + 7)
    write_disk("resume-down.bin", data)
    for offset in (1, 12345, MiB + 3, len(data) - 1, len(data)):
        got = retr(ftp, "resume-down.bin", rest=offset)
        check(got == data[offset:], "RETR with REST %d: %d bytes (sha %s), expected %d (sha %s)"
              % (offset, len(got), sha(got)[:12], len(data) - offset, sha(data[offset:])[:12]))
    # A REST beyond the end is refused (RFC 3659 §5.3: 554) or sends nothing; it never sends wrong bytes.
    ftp.voidcmd("TYPE I")
    expect(350, ftp.sendcmd, "REST %d" % (len(data) + 100))
    try:
        conn = ftp.transfercmd("RETR resume-down.bin")
        got = conn.recv(100)
        conn.close()
        ftp.voidresp()
        check(got == b"", "RETR with REST beyond EOF sent %r" % got)
    except (ftplib.error_perm, ftplib.error_temp) as error:
        check(str(error)[:1] in "45", "REST beyond EOF: %r" % str(error))
    # REST is used up by one transfer command.
    full = retr(ftp, "resume-down.bin")
    check(full == data, "RETR after a REST+RETR pair must start at 0 again (%d bytes)" % len(full))
    expect(501, ftp.sendcmd, "REST -5")
    expect(501, ftp.sendcmd, "REST abc")
    ftp.quit()


def scenario_rest_upload():
    ftp = connect()
    data = os.urandom(3 * MiB + 11)
    cut = MiB + 5
    stor(ftp, "resume-up.bin", data[:cut])
    check(ftp.size("resume-up.bin") == cut, "SIZE after the partial upload")
    stor(ftp, "resume-up.bin", data[cut:], rest=cut)
    stored = read_disk("resume-up.bin")
    check(sha(stored) == sha(data), "REST %d + STOR: %d bytes on disk (sha %s), expected %d (sha %s)"
          % (cut, len(stored), sha(stored)[:12], len(data), sha(data)[:12]))
    # REST + STOR rewrites from the offset (later bytes after the written part stay, as pyftpdlib does).
    patch = b"PATCHED"
    stor(ftp, "resume-up.bin", patch, rest=10)
    stored = read_disk("resume-up.bin")
    check(stored[:10] == data[:10] and stored[10:17] == patch,
          "REST 10 + STOR 'PATCHED': first 20 bytes %r" % stored[:20])
    # APPE adds at the end.
    stor(ftp, "append.bin", b"head-")
    ftp.storbinary("APPE append.bin", io.BytesIO(b"tail"))
    check(read_disk("append.bin") == b"head-tail", "APPE: %r" % read_disk("append.bin"))
    # APPE to a new file creates it.
    ftp.storbinary("APPE new-append.bin", io.BytesIO(b"fresh"))
    check(read_disk("new-append.bin") == b"fresh", "APPE to a new file")
    ftp.quit()


def scenario_rename_delete():
    ftp = connect()
    stor(ftp, "a.txt", b"rename me")
    expect(350, ftp.sendcmd, "RNFR a.txt")
    expect(250, ftp.sendcmd, "RNTO b.txt")
    check(not os.path.exists(disk("a.txt")) and read_disk("b.txt") == b"rename me", "file rename on disk")
    # Directory rename, with content.
    ftp.mkd("d1")
    stor(ftp, "d1/inner.txt", b"inner")
    ftp.rename("d1", "d2")
    check(not os.path.exists(disk("d1")) and read_disk("d2/inner.txt") == b"inner", "directory rename on disk")
    # Move a file into a directory.
    ftp.rename("b.txt", "d2/b.txt")
    check(read_disk("d2/b.txt") == b"rename me", "move into a directory")
    # Errors: RNFR of a missing file, RNTO without RNFR, RNTO after another command.
    expect(550, ftp.sendcmd, "RNFR no-such-file")
    expect(503, ftp.sendcmd, "RNTO whatever")
    expect(350, ftp.sendcmd, "RNFR d2/b.txt")
    expect(200, ftp.sendcmd, "NOOP")
    expect(503, ftp.sendcmd, "RNTO c.txt", what="RNTO after RNFR, NOOP")
    check(os.path.exists(disk("d2/b.txt")) and not os.path.exists(disk("c.txt")), "an interrupted rename changed the disk")
    # A directory cannot move into itself.
    ftp.sendcmd("RNFR d2")
    expect_class("5", ftp.sendcmd, "RNTO d2/inside", what="RNTO of a directory into itself")
    check(os.path.isdir(disk("d2")), "directory moved into itself vanished")
    # Delete.
    expect(250, ftp.sendcmd, "DELE d2/b.txt")
    check(not os.path.exists(disk("d2/b.txt")), "DELE left the file")
    expect(550, ftp.sendcmd, "DELE d2/b.txt", what="DELE of a missing file")
    expect(550, ftp.sendcmd, "DELE d2", what="DELE of a directory")
    check(os.path.isdir(disk("d2")), "DELE of a directory removed it")
    ftp.quit()


def scenario_mkdir_rmdir():
    ftp = connect()
    for path in ("a", "a/b", "a/b/c"):
        name = ftp.mkd(path)
        check(name.rstrip("/").endswith(path), "MKD %s answered %r" % (path, name))
    check(os.path.isdir(disk("a/b/c")), "nested MKD did not create a/b/c on disk")
    expect(550, ftp.sendcmd, "MKD a/b/c", what="MKD of an existing directory")
    expect(550, ftp.sendcmd, "MKD missing/parent/x", what="MKD under a missing parent")
    ftp.cwd("a/b/c")
    check(ftp.pwd() == "/a/b/c", "PWD after CWD a/b/c: %r" % ftp.pwd())
    ftp.cwd("..")
    check(ftp.pwd() == "/a/b", "PWD after CWD ..: %r" % ftp.pwd())
    expect(250, ftp.sendcmd, "CDUP")
    check(ftp.pwd() == "/a", "PWD after CDUP: %r" % ftp.pwd())
    ftp.cwd("/")
    # Relative MKD in a subdirectory, quoted 257 reply with a double quote doubled (RFC 959).
    ftp.cwd("a")
    reply = ftp.sendcmd('MKD say "hi"')
    check(reply.startswith("257") and '"/a/say ""hi"""' in reply, "MKD with a quote: %r" % reply)
    check(os.path.isdir(disk('a/say "hi"')), "MKD with a quote on disk")
    ftp.rmd('say "hi"')
    ftp.cwd("/")
    # Non-empty directories are refused.
    stor(ftp, "a/b/c/file.txt", b"x")
    expect(550, ftp.sendcmd, "RMD a", what="RMD of a non-empty directory")
    expect(550, ftp.sendcmd, "RMD a/b/c", what="RMD of a directory holding a file")
    check(os.path.exists(disk("a/b/c/file.txt")), "a refused RMD removed content")
    expect(550, ftp.sendcmd, "RMD a/b/c/file.txt", what="RMD of a file")
    ftp.delete("a/b/c/file.txt")
    for path in ("a/b/c", "a/b", "a"):
        ftp.rmd(path)
    check(not os.path.exists(disk("a")), "RMD left a on disk")
    expect(550, ftp.sendcmd, "RMD a", what="RMD of a missing directory")
    expect(550, ftp.sendcmd, "CWD a", what="CWD to a missing directory")
    write_disk("plain.txt", b"p")
    expect(550, ftp.sendcmd, "CWD plain.txt", what="CWD to a file")
    # The root itself can't be removed.
    expect_class("5", ftp.sendcmd, "RMD /", what="RMD /")
    check(os.path.isdir(ROOT), "RMD / removed the root")
    ftp.quit()


def scenario_mlsd_list():
    ftp = connect()
    os.makedirs(disk("m/sub"))
    write_disk("m/file.bin", os.urandom(1234))
    write_disk("m/name with space.txt", b"12345")
    stamp = 1577934245  # 2020-01-02 03:04:05 UTC
    os.utime(disk("m/file.bin"), (stamp, stamp))
    entries = dict(ftp.mlsd("m", facts=["type", "size", "modify", "perm", "unique"]))
    names = set(n for n, f in entries.items() if f.get("type") not in ("cdir", "pdir"))
    check(names == {"file.bin", "sub", "name with space.txt"}, "MLSD names: %r" % sorted(entries))
    f = entries["file.bin"]
    check(f.get("type") == "file", "file.bin type: %r" % f)
    check(f.get("size") == "1234", "file.bin size: %r" % f)
    check(f.get("modify", "").startswith("20200102030405"), "file.bin modify: %r" % f)
    check(set("adfrw") <= set(f.get("perm", "")), "alice's perm on a file: %r" % f.get("perm"))
    d = entries["sub"]
    check(d.get("type") == "dir", "sub type: %r" % d)
    check(set("celmp") <= set(d.get("perm", "")), "alice's perm on a directory: %r" % d.get("perm"))
    uniques = [e.get("unique") for n, e in entries.items() if n in names]
    check(all(uniques) and len(set(uniques)) == len(uniques), "unique facts: %r" % uniques)
    # MLST of one entry: a 250 with the facts line.
    reply = ftp.sendcmd("MLST m/file.bin")
    lines = reply.splitlines()
    check(reply.startswith("250") and len(lines) >= 3, "MLST: %r" % reply)
    facts = lines[1]
    check(facts.startswith(" ") and "type=file;" in facts and "size=1234;" in facts and facts.rstrip().endswith("file.bin"),
          "MLST facts line: %r" % facts)
    expect(550, ftp.sendcmd, "MLST m/missing", what="MLST of a missing file")
    # OPTS MLST selects facts.
    expect(200, ftp.sendcmd, "OPTS MLST type;size;")
    only = dict(ftp.mlsd("m"))
    check(set(only["file.bin"]) <= {"type", "size"}, "MLSD after OPTS MLST type;size;: %r" % only["file.bin"])
    # LIST lines: "-rw-r--r-- 1 owner group SIZE Mon DD HH:MM NAME".
    lines = []
    ftp.dir("m", lines.append)
    parsed = {}
    for line in lines:
        parts = line.split(None, 8)
        check(len(parts) == 9, "LIST line is not in the usual 9 columns: %r" % line)
        parsed[parts[8]] = (parts[0], parts[4])
    check(set(parsed) >= {"file.bin", "sub", "name with space.txt"}, "LIST names: %r" % sorted(parsed))
    check(parsed["file.bin"][1] == "1234" and parsed["file.bin"][0].startswith("-"), "LIST file.bin: %r" % (parsed["file.bin"],))
    check(parsed["name with space.txt"][1] == "5", "LIST name with space: %r" % (parsed["name with space.txt"],))
    check(parsed["sub"][0].startswith("d"), "LIST sub: %r" % (parsed["sub"],))
    # LIST of a single file lists that file; LIST -la (ls options) is tolerated.
    one = []
    ftp.dir("m/file.bin", one.append)
    check(len(one) == 1 and one[0].endswith("file.bin"), "LIST of a file: %r" % one)
    withopts = []
    ftp.dir("-la m", withopts.append)
    check(any(l.endswith("file.bin") for l in withopts), "LIST -la m: %r" % withopts)
    # NLST.
    check(listing_names(ftp, "m") == {"file.bin", "sub", "name with space.txt"}, "NLST m: %r" % ftp.nlst("m"))
    # Bob's perm facts show read-only.
    bob = connect("bob")
    for name, facts in bob.mlsd("m", facts=["type", "perm"]):
        if facts.get("type") == "file":
            check(set(facts.get("perm", "")) <= set("r"), "bob's perm on %s: %r" % (name, facts.get("perm")))
        if facts.get("type") == "dir":
            check(set(facts.get("perm", "")) <= set("el"), "bob's perm on %s: %r" % (name, facts.get("perm")))
    bob.quit()
    ftp.quit()


def scenario_unicode_names():
    ftp = connect()
    directory = "dir with space"
    name = "ünïcödé 名前.txt"
    data = os.urandom(4096)
    ftp.mkd(directory)
    stor(ftp, directory + "/" + name, data)
    check(read_disk(os.path.join(directory, name)) == data, "upload of %r: on disk differs" % name)
    check(name in os.listdir(disk(directory)), "on disk the name is %r" % os.listdir(disk(directory)))
    check(name in listing_names(ftp, directory), "NLST: %r" % ftp.nlst(directory))
    facts = dict(ftp.mlsd(directory))
    check(name in facts, "MLSD: %r" % list(facts))
    lines = []
    ftp.dir(directory, lines.append)
    check(any(l.endswith(" " + name) for l in lines), "LIST: %r" % lines)
    check(retr(ftp, directory + "/" + name) == data, "download of %r" % name)
    ftp.cwd(directory)
    check(ftp.pwd() == "/" + directory, "PWD: %r" % ftp.pwd())
    check(ftp.size(name) == 4096, "SIZE of %r" % name)
    ftp.rename(name, "ändere ✓ émoji 🎉.bin")
    check(os.path.exists(disk(directory + "/ändere ✓ émoji 🎉.bin")), "rename to a non-ASCII name")
    ftp.delete("ändere ✓ émoji 🎉.bin")
    ftp.cwd("/")
    # A file created on disk with a non-ASCII name in a non-ASCII directory.
    write_disk("日本語/ファイル.txt", b"nihongo")
    check(retr(ftp, "日本語/ファイル.txt") == b"nihongo", "download from a non-ASCII directory")
    # Spaces at the start and end of a name are part of it (RFC 959: the argument is everything after one space).
    stor(ftp, " lead and trail ", b"spaces")
    check(read_disk(" lead and trail ") == b"spaces", "leading/trailing spaces kept: %r" % sorted(os.listdir(ROOT)))
    ftp.quit()


def scenario_size_mdtm_mfmt_chmod():
    ftp = connect()
    write_disk("meta.txt", b"m" * 777)
    stamp = 1600000000  # 2020-09-13 12:26:40 UTC
    os.utime(disk("meta.txt"), (stamp, stamp))
    ftp.voidcmd("TYPE I")
    expect(213, ftp.sendcmd, "SIZE meta.txt")
    check(ftp.sendcmd("SIZE meta.txt") == "213 777", "SIZE: %r" % ftp.sendcmd("SIZE meta.txt"))
    reply = ftp.sendcmd("MDTM meta.txt")
    check(reply.startswith("213 20200913122640"), "MDTM: %r" % reply)
    expect(550, ftp.sendcmd, "SIZE missing.txt")
    expect(550, ftp.sendcmd, "MDTM missing.txt")
    expect(550, ftp.sendcmd, "SIZE pub", what="SIZE of a directory")
    reply = ftp.sendcmd("MFMT 20210304050607 meta.txt")
    check(reply.startswith("213") and "20210304050607" in reply, "MFMT reply: %r" % reply)
    mtime = int(os.stat(disk("meta.txt")).st_mtime)
    check(mtime == 1614834367, "MFMT on disk: mtime %d, expected 1614834367" % mtime)
    check(ftp.sendcmd("MDTM meta.txt").startswith("213 20210304050607"), "MDTM after MFMT")
    expect(501, ftp.sendcmd, "MFMT notadate meta.txt", what="MFMT with a bad time")
    expect(550, ftp.sendcmd, "MFMT 20210304050607 missing.txt")
    expect(200, ftp.sendcmd, "SITE CHMOD 600 meta.txt")
    mode = os.stat(disk("meta.txt")).st_mode & 0o777
    check(mode == 0o600, "SITE CHMOD 600: mode %o on disk" % mode)
    expect(200, ftp.sendcmd, "SITE CHMOD 755 meta.txt")
    mode = os.stat(disk("meta.txt")).st_mode & 0o777
    check(mode == 0o755, "SITE CHMOD 755: mode %o on disk" % mode)
    expect(501, ftp.sendcmd, "SITE CHMOD 999 meta.txt", what="SITE CHMOD with a non-octal mode")
    expect(550, ftp.sendcmd, "SITE CHMOD 644 missing.txt")
    expect_class("5", ftp.sendcmd, "SITE NOPE", what="unknown SITE command")
    expect(214, ftp.sendcmd, "SITE HELP")
    ftp.quit()


def scenario_feat_stat_help():
    ftp = connect(user=None)
    # FEAT works before login (RFC 2389).
    reply = ftp.sendcmd("FEAT")
    check(reply.startswith("211"), "FEAT: %r" % reply)
    features = [l[1:] for l in reply.splitlines()[1:-1]]
    check(all(l.startswith(" ") for l in reply.splitlines()[1:-1]), "FEAT lines must start with one space: %r" % reply)
    for feature in ("UTF8", "EPSV", "REST STREAM", "SIZE", "MDTM"):
        check(feature in features, "FEAT lacks %s: %r" % (feature, features))
    mlst = [f for f in features if f.startswith("MLST ")]
    check(mlst and all(x in mlst[0] for x in ("type", "size", "modify", "perm", "unique")), "FEAT MLST line: %r" % mlst)
    expect(200, ftp.sendcmd, "OPTS UTF8 ON")
    expect(215, ftp.sendcmd, "SYST")
    ftp.login("alice", PASSWORDS["alice"])
    reply = ftp.sendcmd("STAT")
    check(reply.startswith("211") and "alice" in reply, "STAT: %r" % reply)
    reply = ftp.sendcmd("STAT pub")
    check(reply[:3] in ("211", "212", "213") and "readme.txt" in reply, "STAT pub: %r" % reply)
    reply = ftp.sendcmd("HELP")
    check(reply.startswith("214") and all(v in reply for v in ("RETR", "STOR", "MLSD", "EPSV")), "HELP: %r" % reply)
    expect(214, ftp.sendcmd, "HELP RETR")
    expect_class("5", ftp.sendcmd, "HELP BOGUS", what="HELP of an unknown command")
    expect(200, ftp.sendcmd, "TYPE A")
    expect(200, ftp.sendcmd, "TYPE I")
    expect_class("5", ftp.sendcmd, "TYPE X", what="TYPE X")
    expect(200, ftp.sendcmd, "MODE S")
    expect(504, ftp.sendcmd, "MODE B")
    expect(200, ftp.sendcmd, "STRU F")
    expect(504, ftp.sendcmd, "STRU R")
    expect_class("2", ftp.sendcmd, "ALLO 100")
    expect(200, ftp.sendcmd, "NOOP")
    ftp.quit()


def scenario_read_only():
    before = snapshot(ROOT)
    ftp = connect("bob")
    # Reading works.
    check(retr(ftp, "pub/readme.txt").decode() == os.environ["FTP_README_TEXT"], "bob can't read pub/readme.txt")
    check("readme.txt" in listing_names(ftp, "pub"), "bob can't list pub")
    ftp.cwd("pub")
    ftp.cwd("/")
    refused = []

    def refuse(what, call, *args):
        reply = code_of(call, *args)
        if not reply.startswith("550"):
            refused.append("%s: %r" % (what, reply))

    refuse("STOR", stor, ftp, "new.txt", b"nope")
    refuse("STOR over an existing file", stor, ftp, "pub/readme.txt", b"nope")
    refuse("APPE", ftp.storbinary, "APPE pub/readme.txt", io.BytesIO(b"more"))
    refuse("STOU", ftp.storbinary, "STOU", io.BytesIO(b"unique"))
    refuse("DELE", ftp.sendcmd, "DELE pub/readme.txt")
    refuse("RNFR", ftp.sendcmd, "RNFR pub/readme.txt")
    refuse("MKD", ftp.sendcmd, "MKD newdir")
    refuse("RMD", ftp.sendcmd, "RMD pub")
    refuse("SITE CHMOD", ftp.sendcmd, "SITE CHMOD 777 pub/readme.txt")
    refuse("MFMT", ftp.sendcmd, "MFMT 20000101000000 pub/readme.txt")
    refuse("REST+STOR", stor, ftp, "pub/readme.txt", b"x", 2)
    check(not refused, "bob (elr) was not refused with 550: " + "; ".join(refused))
    # RNTO after a refused RNFR: still no rename.
    expect_class("5", ftp.sendcmd, "RNTO pub/renamed.txt", what="RNTO after a refused RNFR")
    expect(200, ftp.sendcmd, "NOOP")
    ftp.quit()
    after = snapshot(ROOT)
    changed = sorted(set(before.items()) ^ set(after.items()))
    check(not changed, "bob's refused writes changed the disk: %r" % changed)


def scenario_traversal():
    ftp = connect()
    ftp.cwd("../../..")
    check(ftp.pwd() == "/", "PWD after CWD ../../..: %r" % ftp.pwd())
    ftp.cwd("pub/../../../pub")
    check(ftp.pwd() == "/pub", "PWD after CWD pub/../../../pub: %r" % ftp.pwd())
    ftp.cwd("/")
    for path in ("../../../../etc/passwd", "/../../../etc/passwd", "pub/../../../../etc/passwd", "..\\..\\etc\\passwd"):
        reply = code_of(retr, ftp, path)
        check(reply.startswith("550"), "RETR %s: expected 550, got %r" % (path, reply[:200]))
    expect(550, ftp.sendcmd, "SIZE ../../../../etc/passwd")
    expect(550, ftp.sendcmd, "CWD /etc")
    # An upload with a climbing path lands inside the root (or is refused), never outside it.
    reply = code_of(stor, ftp, "../../escaped.txt", b"escape")
    parent = os.path.dirname(ROOT)
    check(not os.path.exists(os.path.join(parent, "escaped.txt")), "STOR ../../escaped.txt wrote outside the root")
    check(not os.path.exists(os.path.join(os.path.dirname(parent), "escaped.txt")), "STOR ../../escaped.txt wrote outside")
    if reply.startswith("226"):
        check(read_disk("escaped.txt") == b"escape", "STOR ../../escaped.txt: accepted but not at /escaped.txt")
    ftp.quit()

    # Carol is jailed in /carol.
    carol = connect("carol")
    check(carol.pwd() == "/", "carol's PWD: %r" % carol.pwd())
    names = listing_names(carol)
    check("inside.txt" in names and "secret.txt" not in names and "pub" not in names, "carol's / lists %r" % names)
    carol.cwd("..")
    check(carol.pwd() == "/", "carol's PWD after CWD ..: %r" % carol.pwd())
    check("secret.txt" not in listing_names(carol, ".."), "carol's NLST .. shows the real root")
    for path in ("../secret.txt", "/secret.txt", "/../secret.txt", "../../secret.txt", "/carol/../secret.txt"):
        reply = code_of(retr, carol, path)
        check(reply.startswith("550"), "carol RETR %s: expected 550, got %r" % (path, reply[:200]))
    expect(550, carol.sendcmd, "CWD ../pub", what="carol CWD ../pub")
    expect(550, carol.sendcmd, "SIZE ../secret.txt", what="carol SIZE ../secret.txt")
    expect(550, carol.sendcmd, "RNFR ../secret.txt", what="carol RNFR ../secret.txt")
    expect(550, carol.sendcmd, "DELE ../secret.txt", what="carol DELE ../secret.txt")
    reply = code_of(stor, carol, "../planted.txt", b"planted")
    check(not os.path.exists(disk("planted.txt")), "carol's STOR ../planted.txt wrote outside her home")
    if reply.startswith("226"):
        check(read_disk("carol/planted.txt") == b"planted", "carol's STOR ../planted.txt went elsewhere")
    expect(350, carol.sendcmd, "RNFR inside.txt")
    reply = code_of(carol.sendcmd, "RNTO ../../moved-out.txt")
    check(not os.path.exists(disk("moved-out.txt")), "carol's RNTO ../../moved-out.txt moved her file out of her home")
    if reply.startswith("250"):
        carol.rename("moved-out.txt", "inside.txt")
    check(read_disk("secret.txt").decode() == os.environ["FTP_SECRET_TEXT"], "secret.txt changed")
    check(retr(carol, "inside.txt").startswith(b"Carol"), "carol can't read her own file")
    carol.quit()


def scenario_symlinks():
    ftp = connect()
    outside_text = os.environ["FTP_OUTSIDE_TEXT"].encode()
    for path in ("escape-file", "escape-dir/secret-outside.txt"):
        reply = code_of(retr, ftp, path)
        check(not reply.startswith(repr(outside_text)[:5]) and outside_text.decode() not in reply,
              "RETR %s leaked the file outside the root: %r" % (path, reply[:200]))
        check(reply[:1] in "45", "RETR %s through a symbolic link out of the root: %r" % (path, reply[:200]))
    reply = code_of(ftp.cwd, "escape-dir")
    check(reply[:1] in "45", "CWD escape-dir (a link out of the root): %r" % reply)
    try:
        names = ftp.nlst("escape-dir")
    except ftplib.all_errors:
        names = []
    check(not any("secret-outside" in n for n in names), "NLST escape-dir lists the outside: %r" % names)
    before = set(os.listdir(OUTSIDE))
    code_of(stor, ftp, "escape-dir/planted.txt", b"planted")
    check(set(os.listdir(OUTSIDE)) == before, "STOR through a link wrote outside the root: %r" % os.listdir(OUTSIDE))
    code_of(ftp.sendcmd, "MKD escape-dir/newdir")
    check(set(os.listdir(OUTSIDE)) == before, "MKD through a link created outside the root")
    code_of(ftp.sendcmd, "DELE escape-dir/secret-outside.txt")
    check(os.path.exists(os.path.join(OUTSIDE, "secret-outside.txt")), "DELE through a link removed a file outside")
    code_of(ftp.sendcmd, "SITE CHMOD 777 escape-file")
    mode = os.stat(os.path.join(OUTSIDE, "secret-outside.txt")).st_mode & 0o777
    check(mode != 0o777, "SITE CHMOD through a link changed a file outside")
    expect(200, ftp.sendcmd, "NOOP")
    ftp.quit()


def scenario_login():
    # Commands before login.
    ftp = connect(user=None)
    check(ftp.getwelcome().startswith("220"), "greeting: %r" % ftp.getwelcome())
    for command in ("PWD", "CWD /", "LIST", "RETR pub/readme.txt", "MKD x", "DELE secret.txt", "SIZE secret.txt", "PASV", "STAT /"):
        expect(530, ftp.sendcmd, command, what="%s before login" % command)
    # Wrong user and wrong password: the same reply.
    expect(331, ftp.sendcmd, "USER nobody")
    unknown = code_of(ftp.sendcmd, "PASS whatever")
    expect(331, ftp.sendcmd, "USER alice")
    wrong = code_of(ftp.sendcmd, "PASS not-the-password")
    check(unknown.startswith("530"), "unknown user: %r" % unknown)
    check(unknown == wrong, "unknown user and wrong password answer differently: %r vs %r" % (unknown, wrong))
    # The third failure closes the connection with 421.
    expect(331, ftp.sendcmd, "USER bob")
    third = code_of(ftp.sendcmd, "PASS wrong-again")
    check(third.startswith("421"), "third failed login: expected 421, got %r" % third)
    try:
        ftp.sock.settimeout(5)
        rest = ftp.sock.recv(100)
    except OSError:
        rest = b""
    check(rest == b"", "the connection stays open after the third failure: %r" % rest)
    ftp.close()
    # A good login: 230 with the login message; QUIT: 221 with the logout message.
    ftp = connect(user=None)
    reply = ftp.login("alice", PASSWORDS["alice"])
    check(reply.startswith("230") and os.environ["FTP_ALICE_LOGIN_MESSAGE"] in reply, "alice's 230: %r" % reply)
    expect(503, ftp.sendcmd, "PASS again", what="PASS when logged in")
    expect_class("5", ftp.sendcmd, "USER bob", what="USER when logged in")
    check(ftp.pwd() == "/", "PWD after login")
    reply = ftp.quit()
    check(reply.startswith("221") and os.environ["FTP_ALICE_LOGOUT_MESSAGE"] in reply, "alice's 221: %r" % reply)
    # REIN logs out; another user can then log in.
    ftp = connect("alice")
    expect(220, ftp.sendcmd, "REIN")
    expect(530, ftp.sendcmd, "PWD", what="PWD after REIN")
    reply = ftp.login("bob", PASSWORDS["bob"])
    check(reply.startswith("230"), "bob after REIN: %r" % reply)
    expect(550, ftp.sendcmd, "MKD after-rein", what="bob's MKD after alice's REIN")
    ftp.quit()
    # An empty password and a case change in the user name are wrong.
    ftp = connect(user=None)
    expect(331, ftp.sendcmd, "USER ALICE")
    expect(530, ftp.sendcmd, "PASS " + PASSWORDS["alice"], what="USER ALICE (case)")
    ftp.close()


def scenario_sequence_errors():
    ftp = connect(user=None)
    expect(503, ftp.sendcmd, "PASS nothing-yet", what="PASS without USER")
    ftp.login("alice", PASSWORDS["alice"])
    expect(503, ftp.sendcmd, "RNTO x", what="RNTO without RNFR")
    expect(500, ftp.sendcmd, "FOOBAR", what="unknown command")
    expect(500, ftp.sendcmd, "XYZZY some args", what="unknown command with arguments")
    expect(501, ftp.sendcmd, "PORT 1,2,3", what="PORT with too few numbers")
    expect(501, ftp.sendcmd, "PORT 127,0,0,1,300,1", what="PORT with a number > 255")
    expect(501, ftp.sendcmd, "PORT a,b,c,d,e,f", what="PORT with letters")
    expect_class("5", ftp.sendcmd, "EPRT |3|127.0.0.1|5000|", what="EPRT with an unknown protocol")
    expect_class("5", ftp.sendcmd, "EPRT garbage", what="EPRT garbage")
    expect(501, ftp.sendcmd, "MFMT", what="MFMT without arguments")
    expect_class("5", ftp.sendcmd, "RETR", what="RETR without a name")
    # A transfer command with no data connection set up.
    expect(425, ftp.sendcmd, "LIST", what="LIST without PASV/PORT")
    write_disk("small.txt", b"small")
    expect_class("45", ftp.sendcmd, "RETR small.txt", what="RETR without PASV/PORT")
    check(code_of(retr, ftp, "pub").startswith("550"), "RETR of a directory: %r" % code_of(retr, ftp, "pub"))
    check(code_of(retr, ftp, "missing").startswith("550"), "RETR of a missing file")
    check(code_of(stor, ftp, "no/such/dir/file", b"x")[:3] == "550", "STOR into a missing directory")
    check(code_of(stor, ftp, "pub", b"x")[:3] == "550", "STOR over a directory")
    check(os.path.isdir(disk("pub")), "STOR over a directory replaced it")
    check(code_of(ftp.nlst, "missing-dir")[:3] in ("450", "550"), "NLST of a missing directory: %r" % code_of(ftp.nlst, "missing-dir"))
    check(code_of(lambda: list(ftp.mlsd("secret.txt")))[:1] == "5", "MLSD of a file must be refused (RFC 3659 7.2.1)")
    check(code_of(lambda: list(ftp.mlsd("missing-dir")))[:3] == "550", "MLSD of a missing directory")
    reply = ftp.sendcmd("MLST")
    check(reply.startswith("250") and ("type=cdir;" in reply or "type=dir;" in reply), "MLST with no argument describes the working directory: %r" % reply)
    ftp.voidcmd("TYPE I")
    expect(350, ftp.sendcmd, "REST 5")
    check(code_of(ftp.storbinary, "APPE rest-appe.txt", io.BytesIO(b"x"))[:1] == "5", "APPE with a REST offset pending")
    check(not os.path.exists(disk("rest-appe.txt")), "APPE after REST created a file")
    expect(200, ftp.sendcmd, "NOOP")
    ftp.quit()


def raw_session(user="alice"):
    """A logged-in control connection as a plain socket: for bytes ftplib would never send."""
    sock = socket.create_connection((HOST, PORT), timeout=TIMEOUT)
    reader = sock.makefile("rb")
    check(read_reply(reader).startswith(b"220"), "no 220")
    if user:
        sock.sendall(("USER %s\r\nPASS %s\r\n" % (user, PASSWORDS[user])).encode())
        check(read_reply(reader).startswith(b"331"), "USER")
        check(read_reply(reader).startswith(b"230"), "PASS")
    return sock, reader


def read_reply(reader):
    line = reader.readline()
    if not line:
        return b""
    if line[3:4] == b"-":
        code = line[:3]
        while True:
            more = reader.readline()
            if not more:
                break
            line += more
            if more[:3] == code and more[3:4] == b" ":
                break
    return line


def scenario_hostile_input():
    sock, reader = raw_session()

    def send(raw, expected, what):
        sock.sendall(raw)
        reply = read_reply(reader)
        check(reply[:3] == expected, "%s: expected %s, got %r" % (what, expected.decode(), reply[:200]))
        return reply

    # A line longer than the limit (8 KiB): 500, and the session goes on with the next line.
    send(b"NOOP " + b"A" * 20000 + b"\r\n", b"500", "a 20 KB command line")
    send(b"NOOP\r\n", b"200", "NOOP after an overlong line")
    # Invalid UTF-8: 501.
    send(b"CWD \xc3\x28\xa0\r\n", b"501", "invalid UTF-8 in a path")
    # Telnet IP/DM (as some clients send before ABOR) are removed.
    send(b"\xff\xf4\xff\xf2NOOP\r\n", b"200", "IAC IP IAC DM NOOP")
    # A bare LF ends a line too; verbs are case-insensitive.
    send(b"noop\n", b"200", "lowercase noop with a bare LF")
    # Pipelined commands in one segment come back in order.
    sock.sendall(b"NOOP\r\nPWD\r\nSYST\r\n")
    replies = [read_reply(reader)[:3] for _ in range(3)]
    check(replies == [b"200", b"257", b"215"], "pipelined NOOP PWD SYST: %r" % replies)
    # An empty line and blanks.
    send(b"\r\n", b"500", "an empty line")
    send(b"   \r\n", b"500", "a line of blanks")
    # NUL bytes and control characters in a name are refused, not passed to the file system.
    sock.sendall(b"MKD evil\x00name\r\n")
    reply = read_reply(reader)
    check(reply[:1] in b"45", "MKD with a NUL byte: %r" % reply)
    check(not any("evil" in n for n in os.listdir(ROOT)), "MKD with a NUL byte created %r" % os.listdir(ROOT))
    # A CR in the middle of a line does not split it into a second command.
    sock.sendall(b"MKD x\rDELE secret.txt\r\n")
    reply = read_reply(reader)
    check(os.path.exists(disk("secret.txt")), "a bare CR smuggled a second command (DELE ran)")
    # A huge REST value and a REST beyond 2^63.
    send(b"REST 99999999999999999999999\r\n", b"501", "REST beyond Int64")
    send(b"TYPE I\r\n", b"200", "TYPE I")
    # A very long path made of many segments.
    send(b"CWD " + b"/".join([b".."] * 2000) + b"\r\n", b"250", "CWD of 2000 '..' segments")
    send(b"PWD\r\n", b"257", "PWD")
    # Many commands in a burst: every one answered.
    burst = 500
    sock.sendall(b"NOOP\r\n" * burst)
    for i in range(burst):
        reply = read_reply(reader)
        check(reply.startswith(b"200"), "NOOP burst: reply %d was %r" % (i, reply[:100]))
    send(b"QUIT\r\n", b"221", "QUIT")
    sock.close()
    # A client that sends half a line and goes away does not hurt the next one.
    half = socket.create_connection((HOST, PORT), timeout=TIMEOUT)
    half.recv(1000)
    half.sendall(b"USER ali")
    half.close()
    # A client that sends binary garbage before logging in.
    garbage = socket.create_connection((HOST, PORT), timeout=TIMEOUT)
    garbage.recv(1000)
    garbage.sendall(os.urandom(65536))
    garbage.close()
    ftp = connect()
    expect(200, ftp.sendcmd, "NOOP")
    ftp.quit()


def scenario_abort_retr():
    block = os.urandom(MiB)
    data = block * 64
    write_disk("big.bin", data)
    ftp = connect()
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("RETR big.bin")
    conn.settimeout(TIMEOUT)
    got = read_at_least(conn, 2 * MiB)
    # STAT during a transfer answers on the control connection.
    ftp.putcmd("STAT")
    reply = ftp.getmultiline()
    check(reply[:3] in ("211", "212", "213"), "STAT during a transfer: %r" % reply)
    # ftplib's abort() sends ABOR with MSG_OOB (urgent data).
    first = ftp.abort()
    check(first[:3] in ("426", "226", "225"), "ABOR: %r" % first)
    if first.startswith("426"):
        second = ftp.getresp()
        check(second.startswith("226"), "after 426, ABOR must get 226: %r" % second)
    conn.close()
    expect(200, ftp.sendcmd, "NOOP", what="NOOP after ABOR")
    back = retr(ftp, "big.bin")
    check(sha(back) == sha(data), "RETR after ABOR: %d bytes, sha differs" % len(back))
    # ABOR without a transfer.
    expect_class("2", ftp.sendcmd, "ABOR", what="ABOR with no transfer")
    # A plain (not urgent) ABOR during a LIST-free RETR, then the data socket closed by the client.
    conn = ftp.transfercmd("RETR big.bin")
    conn.recv(65536)
    ftp.putcmd("ABOR")
    replies = [ftp.getline()[:3]]
    if replies[0] == "426":
        replies.append(ftp.getline()[:3])
    conn.close()
    check(replies in (["426", "226"], ["226"]), "plain ABOR during RETR: %r" % replies)
    # The client closes the data connection mid-transfer without ABOR: the server says 426 (or 451).
    conn = ftp.transfercmd("RETR big.bin")
    conn.recv(65536)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    reply = code_of(ftp.voidresp)
    check(reply[:3] in ("426", "451", "450"), "data connection reset by the client mid-RETR: %r" % reply)
    expect(200, ftp.sendcmd, "NOOP")
    ftp.quit()


def scenario_stor_abort_atomic():
    old = os.urandom(MiB)
    write_disk("keep.bin", old)
    ftp = connect()
    new = os.urandom(8 * MiB)
    # ABOR in the middle of a STOR: the old content stays.
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("STOR keep.bin")
    conn.sendall(new[: len(new) // 2])
    ftp.putcmd("ABOR")
    replies = [ftp.getline()[:3]]
    if replies[0] == "426":
        replies.append(ftp.getline()[:3])
    conn.close()
    check(replies in (["426", "226"], ["226"]), "ABOR during STOR: %r" % replies)
    expect(200, ftp.sendcmd, "NOOP")
    check(read_disk("keep.bin") == old, "an aborted STOR changed keep.bin (not atomic): %d bytes on disk" % len(read_disk("keep.bin")))
    # The client resets the data connection halfway: the old content stays too.
    conn = ftp.transfercmd("STOR keep.bin")
    conn.sendall(new[: len(new) // 2])
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    reply = code_of(ftp.voidresp)
    check(reply[:1] in "45", "STOR whose data connection was reset: %r" % reply)
    check(read_disk("keep.bin") == old, "a reset STOR changed keep.bin: %d bytes on disk" % len(read_disk("keep.bin")))
    # An aborted STOR of a new file leaves no file and no temporary behind.
    conn = ftp.transfercmd("STOR brand-new.bin")
    conn.sendall(new[:MiB])
    ftp.putcmd("ABOR")
    first = ftp.getline()[:3]
    if first == "426":
        ftp.getline()
    conn.close()
    expect(200, ftp.sendcmd, "NOOP")
    names = listing_names(ftp)
    check("brand-new.bin" not in names, "an aborted STOR of a new file is listed: %r" % sorted(names))
    on_disk = sorted(os.listdir(ROOT))
    expected = sorted(["carol", "pub", "secret.txt", "escape-file", "escape-dir", "keep.bin"])
    check(on_disk == expected, "after aborted STORs, the root holds %r (expected %r: a partial or temporary file left?)"
          % (on_disk, expected))
    # And a complete STOR replaces it.
    stor(ftp, "keep.bin", new)
    check(read_disk("keep.bin") == new, "a complete STOR after aborted ones")
    check(sorted(os.listdir(ROOT)) == expected, "after a complete STOR: %r" % sorted(os.listdir(ROOT)))
    ftp.quit()


def scenario_disconnect_midtransfer():
    data = os.urandom(MiB) * 16
    write_disk("drop.bin", data)
    # Control and data connections dropped mid-RETR.
    ftp = connect()
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("RETR drop.bin")
    conn.recv(65536)
    ftp.sock.close()
    conn.close()
    # Control and data dropped mid-STOR of a new file: no file appears.
    ftp = connect()
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("STOR dropped-upload.bin")
    conn.sendall(data[:2 * MiB])
    ftp.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ftp.sock.close()
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    # The server goes on serving.
    ftp = connect()
    check(sha(retr(ftp, "drop.bin")) == sha(data), "RETR after dropped sessions")
    deadline = time.time() + 10
    while time.time() < deadline:
        if not os.path.exists(disk("dropped-upload.bin")):
            break
        time.sleep(0.05)
    check(not os.path.exists(disk("dropped-upload.bin")), "a STOR whose client vanished left a file")
    ftp.quit()


def scenario_port_refused():
    write_disk("small.txt", b"small file")
    ftp = connect()
    expect(501, ftp.sendcmd, "PORT 127,0,0,2,200,10", what="PORT to another address")
    expect(501, ftp.sendcmd, "PORT 10,1,2,3,200,10", what="PORT to a foreign address")
    expect(501, ftp.sendcmd, "PORT 127,0,0,1,0,21", what="PORT to port 21")
    expect(501, ftp.sendcmd, "PORT 127,0,0,1,3,255", what="PORT to port 1023")
    expect(501, ftp.sendcmd, "EPRT |1|127.0.0.2|50000|", what="EPRT to another address")
    expect(501, ftp.sendcmd, "EPRT |1|127.0.0.1|80|", what="EPRT to port 80")
    # The refused PORT did not leave an active setup behind: a transfer now has no data connection.
    expect(425, ftp.sendcmd, "LIST", what="LIST after refused PORTs")
    # PORT to our own address on a closed port: 425 promptly.
    probe = socket.socket()
    probe.bind((HOST, 0))
    closed_port = probe.getsockname()[1]
    probe.close()
    expect(200, ftp.sendcmd, "PORT 127,0,0,1,%d,%d" % (closed_port >> 8, closed_port & 255))
    started = time.time()
    expect_class("45", ftp.sendcmd, "RETR small.txt", what="RETR to a closed active port")
    check(time.time() - started < 15, "a refused active connection took %.1f s" % (time.time() - started))
    # Active mode still works after all that.
    ftp.set_pasv(False)
    check(retr(ftp, "small.txt") == b"small file", "active RETR after refusals")
    ftp.quit()


def epsv_transfer(ftp, command, payload=None):
    ftp.voidcmd("TYPE I")
    reply = ftp.sendcmd("EPSV")
    check(reply.startswith("229"), "EPSV: %r" % reply)
    port = int(reply[reply.index("(") + 1: reply.index(")")].strip("|"))
    conn = socket.create_connection((HOST, port), timeout=TIMEOUT)
    preliminary = ftp.sendcmd(command)
    check(preliminary[:3] in ("125", "150"), "%s: %r" % (command, preliminary))
    received = b""
    if payload is None:
        while True:
            chunk = conn.recv(MiB)
            if not chunk:
                break
            received += chunk
    else:
        conn.sendall(payload)
    conn.close()
    check(ftp.voidresp().startswith("226"), "%s final reply" % command)
    return received


def scenario_epsv_all():
    write_disk("small.txt", b"small file")
    ftp = connect()
    expect(200, ftp.sendcmd, "EPSV ALL")
    expect_class("5", ftp.sendcmd, "PASV", what="PASV after EPSV ALL")
    expect_class("5", ftp.sendcmd, "PORT 127,0,0,1,200,10", what="PORT after EPSV ALL")
    expect_class("5", ftp.sendcmd, "EPRT |1|127.0.0.1|50000|", what="EPRT after EPSV ALL")
    check(epsv_transfer(ftp, "RETR small.txt") == b"small file", "EPSV RETR after EPSV ALL")
    epsv_transfer(ftp, "STOR via-epsv.txt", b"uploaded via EPSV")
    check(read_disk("via-epsv.txt") == b"uploaded via EPSV", "EPSV STOR")
    expect(522, ftp.sendcmd, "EPSV 2", what="EPSV 2 on an IPv4 connection")
    # A passive port accepts one connection only, and only for its transfer.
    reply = ftp.sendcmd("EPSV")
    port = int(reply[reply.index("(") + 1: reply.index(")")].strip("|"))
    first = socket.create_connection((HOST, port), timeout=TIMEOUT)
    ftp.sendcmd("RETR small.txt")
    got = b""
    while True:
        chunk = first.recv(1000)
        if not chunk:
            break
        got += chunk
    first.close()
    ftp.voidresp()
    check(got == b"small file", "EPSV transfer")
    try:
        second = socket.create_connection((HOST, port), timeout=2)
        second.settimeout(2)
        leaked = second.recv(100)
        second.close()
        check(leaked == b"", "a used passive port sent data to a second connection: %r" % leaked)
    except OSError:
        pass
    ftp.quit()


def scenario_passive_theft():
    """A second connection to a passive port (from the same host here) must not get another session's data."""
    data = os.urandom(MiB)
    write_disk("private.bin", data)
    ftp = connect()
    ftp.voidcmd("TYPE I")
    reply = ftp.sendcmd("PASV")
    check(reply.startswith("227"), "PASV: %r" % reply)
    numbers = reply[reply.index("(") + 1: reply.index(")")].split(",")
    check(".".join(numbers[:4]) == "127.0.0.1", "PASV announces %r on a 127.0.0.1 control connection" % numbers[:4])
    port = int(numbers[4]) * 256 + int(numbers[5])
    conn = socket.create_connection((HOST, port), timeout=TIMEOUT)
    ftp.sendcmd("RETR private.bin")
    got = b""
    while True:
        chunk = conn.recv(MiB)
        if not chunk:
            break
        got += chunk
    conn.close()
    ftp.voidresp()
    check(got == data, "PASV RETR")
    # Another address (127.0.0.2) connecting first to a passive port must not get the data (nor block the client).
    reply = ftp.sendcmd("PASV")
    numbers = reply[reply.index("(") + 1: reply.index(")")].split(",")
    port = int(numbers[4]) * 256 + int(numbers[5])
    thief = socket.socket()
    thief.settimeout(5)
    thief.bind(("127.0.0.2", 0))
    stolen = b""
    try:
        thief.connect((HOST, port))
    except OSError:
        thief = None
    conn = socket.create_connection((HOST, port), timeout=TIMEOUT)
    ftp.sendcmd("RETR private.bin")
    got = b""
    while True:
        chunk = conn.recv(MiB)
        if not chunk:
            break
        got += chunk
    conn.close()
    ftp.voidresp()
    if thief is not None:
        try:
            while True:
                chunk = thief.recv(MiB)
                if not chunk:
                    break
                stolen += chunk
        except OSError:
            pass
        thief.close()
    check(stolen == b"", "a connection from 127.0.0.2 to the passive port received %d bytes" % len(stolen))
    check(got == data, "PASV RETR with a foreign connection attempt first: %d bytes" % len(got))

    def drain(sock):
        """Everything a socket receives until the server closes it (b"" at once for a refused or reset one)."""
        received = b""
        try:
            while True:
                chunk = sock.recv(MiB)
                if not chunk:
                    break
                received += chunk
        except OSError:
            pass
        sock.close()
        return received

    # Two connections from the client's own address: the first is the data connection, the second gets nothing.
    reply = ftp.sendcmd("PASV")
    numbers = reply[reply.index("(") + 1: reply.index(")")].split(",")
    port = int(numbers[4]) * 256 + int(numbers[5])
    conn = socket.create_connection((HOST, port), timeout=TIMEOUT)
    try:
        second = socket.create_connection((HOST, port), timeout=5)
    except OSError:
        second = None  # the listener had already closed: refused outright
    ftp.sendcmd("RETR private.bin")
    got = drain(conn)
    ftp.voidresp()
    extra = drain(second) if second is not None else b""
    check(got == data, "PASV RETR with a second connection from the same address: %d bytes" % len(got))
    check(extra == b"", "a second connection to one passive port received %d bytes" % len(extra))
    # A connected but unused data connection is closed by the server when a new PASV replaces it, and the new one
    # works.
    reply = ftp.sendcmd("PASV")
    numbers = reply[reply.index("(") + 1: reply.index(")")].split(",")
    port = int(numbers[4]) * 256 + int(numbers[5])
    stale = socket.create_connection((HOST, port), timeout=10)
    time.sleep(0.2)  # let the server take the connection before PASV replaces it
    reply = ftp.sendcmd("PASV")
    try:
        ended = stale.recv(MiB) == b""
    except socket.timeout:
        ended = False
    except OSError:
        ended = True  # reset: closed as well
    stale.close()
    check(ended, "a connected data connection replaced by a new PASV was not closed by the server")
    numbers = reply[reply.index("(") + 1: reply.index(")")].split(",")
    port = int(numbers[4]) * 256 + int(numbers[5])
    conn = socket.create_connection((HOST, port), timeout=TIMEOUT)
    ftp.sendcmd("RETR private.bin")
    got = drain(conn)
    ftp.voidresp()
    check(got == data, "PASV RETR after a replaced, connected PASV: %d bytes" % len(got))
    # A PASV that is never used, then QUIT: the listener goes away.
    reply = ftp.sendcmd("PASV")
    numbers = reply[reply.index("(") + 1: reply.index(")")].split(",")
    unused = int(numbers[4]) * 256 + int(numbers[5])
    ftp.quit()
    deadline = time.time() + 10
    closed = False
    while time.time() < deadline and not closed:
        try:
            probe = socket.create_connection((HOST, unused), timeout=1)
            probe.settimeout(1)
            try:
                closed = probe.recv(10) == b""
            except socket.timeout:
                closed = False
            probe.close()
            if not closed:
                time.sleep(0.1)
        except OSError:
            closed = True
    check(closed, "the passive port %d of a finished session still accepts connections" % unused)


def scenario_stou():
    ftp = connect()
    ftp.voidcmd("TYPE I")
    names = []
    for i in range(3):
        conn, size = ftp.ntransfercmd("STOU")
        conn.sendall(b"unique %d" % i)
        conn.close()
        final = ftp.voidresp()
        check(final.startswith("226"), "STOU final reply: %r" % final)
        names.append(final)
    uploaded = [n for n in os.listdir(ROOT) if os.path.isfile(disk(n)) and read_disk(n).startswith(b"unique ")]
    check(len(uploaded) == 3, "three STOUs made %d files: %r" % (len(uploaded), uploaded))
    ftp.quit()


def scenario_send_before_reply():
    """A client that writes its upload (or ends an empty one) on the passive connection and closes it before it sends
    STOR, or before the 150 comes: the server must store exactly what was sent, not lose it."""
    ftp = connect()
    ftp.voidcmd("TYPE I")
    for name, payload in (("early-small.bin", os.urandom(4096)), ("early-empty.bin", b""),
                          ("early-large.bin", os.urandom(100 * 1024))):
        reply = ftp.sendcmd("PASV")
        numbers = reply[reply.index("(") + 1: reply.index(")")].split(",")
        port = int(numbers[4]) * 256 + int(numbers[5])
        conn = socket.create_connection((HOST, port), timeout=TIMEOUT)
        conn.sendall(payload)
        conn.close()
        time.sleep(0.3)  # the server sees the data and the end of it before the command
        ftp.putcmd("STOR " + name)
        first = ftp.getresp()
        check(first.startswith("150") or first.startswith("125"), "STOR %s after an early close: %r" % (name, first))
        final = ftp.voidresp()
        check(final.startswith("226"), "STOR %s after an early close, final reply: %r" % (name, final))
        check(read_disk(name) == payload, "STOR %s after an early close: %d bytes on disk, %d sent"
              % (name, len(read_disk(name)), len(payload)))
    ftp.quit()


def scenario_concurrent():
    errors = []
    payloads = {i: os.urandom(512 * 1024 + i) for i in range(8)}

    def worker(i):
        try:
            ftp = connect(passive=(i % 2 == 0))
            name = "concurrent-%d.bin" % i
            for _ in range(3):
                stor(ftp, name, payloads[i])
                if retr(ftp, name) != payloads[i]:
                    errors.append("session %d: downloaded bytes differ" % i)
            ftp.quit()
        except Exception as error:  # noqa: BLE001 (report everything)
            errors.append("session %d: %r" % (i, error))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    check(not any(t.is_alive() for t in threads), "a concurrent session hung")
    check(not errors, "; ".join(errors))
    for i, payload in payloads.items():
        check(read_disk("concurrent-%d.bin" % i) == payload, "concurrent-%d.bin on disk" % i)


def scenario_connection_limit():
    """Run with maximumConnectionsPerAddress = 2."""
    first = connect()
    second = connect()
    reply = code_of(connect)
    check(reply.startswith("421"), "a third connection over the per-address limit of 2: %r" % reply)
    first.quit()
    deadline = time.time() + 10
    while True:
        try:
            third = connect()
            break
        except ftplib.error_temp:
            check(time.time() < deadline, "a slot freed by QUIT never became available")
            time.sleep(0.05)
    expect(200, third.sendcmd, "NOOP")
    third.quit()
    second.quit()
    # Sessions that end (by QUIT or by the client closing) give their slot back: many in a row all fit.
    for i in range(8):
        deadline = time.time() + 3
        while True:
            try:
                session = connect()
                break
            except ftplib.error_temp as error:
                check(time.time() < deadline, "sequential session %d of 8 (each closed before the next) refused: %s" % (i + 1, error))
                time.sleep(0.05)
        if i % 2:
            session.quit()
        else:
            session.close()


def scenario_idle_timeout():
    """Run with timeouts.idle = 1 s."""
    ftp = connect()
    ftp.sock.settimeout(15)
    started = time.time()
    reply = ftp.getline()
    check(reply.startswith("421"), "an idle session: %r" % reply)
    check(time.time() - started < 10, "idle timeout took %.1f s" % (time.time() - started))
    try:
        rest = ftp.sock.recv(10)
    except OSError:
        rest = b""
    check(rest == b"", "the connection stays open after the idle 421")


def scenario_ipv6():
    """Run against a server on ::1: EPSV (passive) and EPRT (active) round trips."""
    for passive in (True, False):
        ftp = connect(passive=passive)
        data = os.urandom(MiB + 17)
        name = "v6-%s.bin" % ("pasv" if passive else "active")
        stor(ftp, name, data)
        check(read_disk(name) == data, "IPv6 %s upload" % name)
        check(retr(ftp, name) == data, "IPv6 %s download" % name)
        names = listing_names(ftp)
        check(name in names, "IPv6 NLST: %r" % names)
        ftp.quit()
    ftp = connect()
    expect_class("45", ftp.sendcmd, "PASV", what="PASV on an IPv6 connection")
    expect(522, ftp.sendcmd, "EPSV 1", what="EPSV 1 on an IPv6 connection")
    expect(501, ftp.sendcmd, "EPRT |2|::2|50000|", what="EPRT to another IPv6 address")
    expect(501, ftp.sendcmd, "EPRT |2|::1|22|", what="EPRT to a privileged port")
    reply = ftp.sendcmd("EPSV")
    check(reply.startswith("229") and "(|||" in reply, "EPSV on IPv6: %r" % reply)
    ftp.quit()


def scenario_long_names():
    ftp = connect()
    long_name = "n" * 300
    reply = code_of(stor, ftp, long_name, b"x")
    check(reply[:1] in "45", "STOR of a 300-byte name: %r" % reply)
    reply = code_of(ftp.sendcmd, "MKD " + long_name)
    check(reply[:1] in "45", "MKD of a 300-byte name: %r" % reply)
    deep = "/".join(["d%03d" % i for i in range(400)])
    reply = code_of(ftp.sendcmd, "CWD " + deep)
    check(reply[:3] == "550", "CWD of a 2000-byte missing path: %r" % reply)
    check(code_of(stor, ftp, "secret.txt/inside", b"x")[:1] in "45", "STOR below a file")
    check(code_of(ftp.sendcmd, "MKD secret.txt/sub")[:1] in "45", "MKD below a file")
    for name in (".", "..", "/"):
        reply = code_of(stor, ftp, name, b"x")
        check(reply[:1] in "45", "STOR %r: %r" % (name, reply))
    check(os.path.isdir(ROOT) and os.path.exists(disk("secret.txt")), "the root survived")
    expect(200, ftp.sendcmd, "NOOP")
    ftp.quit()


def scenario_atomic_races():
    """Two writers of one name, and a reader during a replace: nobody ever sees a mix."""
    one, two = os.urandom(4 * MiB), os.urandom(4 * MiB)
    errors = []

    def writer(payload):
        try:
            ftp = connect()
            for _ in range(3):
                stor(ftp, "contended.bin", payload)
            ftp.quit()
        except Exception as error:  # noqa: BLE001
            errors.append(repr(error))

    threads = [threading.Thread(target=writer, args=(p,)) for p in (one, two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    check(not errors, "concurrent writers: %s" % errors)
    final = read_disk("contended.bin")
    check(final in (one, two), "two concurrent STORs of one name left a mix (%d bytes)" % len(final))
    # A reader that started before a replace gets the old content complete.
    old, new = os.urandom(8 * MiB), os.urandom(8 * MiB)
    write_disk("replaced.bin", old)
    reader = connect()
    reader.voidcmd("TYPE I")
    conn = reader.transfercmd("RETR replaced.bin")
    first = conn.recv(64 * 1024)
    writer_session = connect()
    stor(writer_session, "replaced.bin", new)
    writer_session.quit()
    rest = recv_all(conn)
    conn.close()
    reader.voidresp()
    got = first + rest
    check(got == old, "a download running during a replace got %s" % ("the new content" if got == new else "a mix"))
    check(read_disk("replaced.bin") == new, "the replace did not land")
    reader.quit()


def scenario_large_directory():
    os.makedirs(disk("many"))
    count = 3000
    for i in range(count):
        with open(disk("many/file-%05d.txt" % i), "wb") as f:
            f.write(b"%d" % i)
    ftp = connect()
    names = ftp.nlst("many")
    check(len(names) == count, "NLST of %d files returned %d" % (count, len(names)))
    entries = [n for n, f in ftp.mlsd("many") if f.get("type") == "file"]
    check(len(entries) == count and len(set(entries)) == count, "MLSD of %d files returned %d" % (count, len(entries)))
    lines = []
    ftp.dir("many", lines.append)
    check(len([l for l in lines if l.startswith("-")]) == count, "LIST of %d files returned %d" % (count, len(lines)))
    ftp.quit()


def scenario_idle_during_transfer():
    """Run with timeouts.idle = 1 s: a transfer longer than that must not be cut.

    32 MiB, more than loopback socket buffers hold, so the server is still sending through the slow phase."""
    data = os.urandom(32 * MiB)
    write_disk("slow.bin", data)
    ftp = connect()
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("RETR slow.bin")
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    got = []
    started = time.time()
    while True:
        chunk = conn.recv(256 * 1024)
        if not chunk:
            break
        got.append(chunk)
        if time.time() - started < 2.5:
            time.sleep(0.05)
    conn.close()
    reply = ftp.voidresp()
    check(time.time() - started > 2, "the slow download was not slow (%.1f s)" % (time.time() - started))
    check(b"".join(got) == data, "a download slower than the idle timeout was cut: %d bytes" % sum(map(len, got)))
    check(reply.startswith("226"), "slow RETR: %r" % reply)
    after = code_of(ftp.sendcmd, "NOOP")
    stor_session = connect()
    stor_session.voidcmd("TYPE I")
    conn = stor_session.transfercmd("STOR slow-up.bin")
    started = time.time()
    for i in range(0, len(data), 128 * 1024):
        conn.sendall(data[i:i + 128 * 1024])
        time.sleep(0.1)
    conn.close()
    reply = stor_session.voidresp()
    check(reply.startswith("226") and read_disk("slow-up.bin") == data, "an upload slower than the idle timeout: %r" % reply)
    upload_after = code_of(stor_session.sendcmd, "NOOP")
    # The idle clock restarts when a transfer ends: the command right after a long transfer is answered.
    check(after.startswith("200"), "NOOP sent at once after a %.1f s download (idle timeout 1 s): %r" % (2.5, after))
    check(upload_after.startswith("200"), "NOOP sent at once after a slow upload (idle timeout 1 s): %r" % upload_after)


def scenario_data_timeout():
    """Run with timeouts.dataConnection = 1 s: a client that never connects gets 425, and the session goes on."""
    write_disk("small.txt", b"small file")
    ftp = connect()
    expect(227, ftp.sendcmd, "PASV")
    started = time.time()
    ftp.putcmd("RETR small.txt")
    replies = [ftp.getline()]
    if replies[0][:3] in ("125", "150"):
        replies.append(ftp.getline())
    check(replies[-1][:3] == "425", "RETR with no data connection made: %r" % replies)
    check(time.time() - started < 8, "the data connection timeout took %.1f s" % (time.time() - started))
    expect(200, ftp.sendcmd, "NOOP")
    ftp.set_pasv(True)
    check(retr(ftp, "small.txt") == b"small file", "RETR after a data timeout")
    ftp.quit()


SCENARIOS = {
    "ascii": scenario_ascii,
    "rest-download": scenario_rest_download,
    "rest-upload": scenario_rest_upload,
    "rename-delete": scenario_rename_delete,
    "mkdir-rmdir": scenario_mkdir_rmdir,
    "mlsd-list": scenario_mlsd_list,
    "unicode-names": scenario_unicode_names,
    "size-mdtm-mfmt-chmod": scenario_size_mdtm_mfmt_chmod,
    "feat-stat-help": scenario_feat_stat_help,
    "read-only": scenario_read_only,
    "traversal": scenario_traversal,
    "symlinks": scenario_symlinks,
    "login": scenario_login,
    "sequence-errors": scenario_sequence_errors,
    "hostile-input": scenario_hostile_input,
    "abort-retr": scenario_abort_retr,
    "stor-abort-atomic": scenario_stor_abort_atomic,
    "disconnect-midtransfer": scenario_disconnect_midtransfer,
    "port-refused": scenario_port_refused,
    "epsv-all": scenario_epsv_all,
    "passive-ports": scenario_passive_theft,
    "stou": scenario_stou,
    "send-before-reply": scenario_send_before_reply,
    "concurrent": scenario_concurrent,
    "connection-limit": scenario_connection_limit,
    "idle-timeout": scenario_idle_timeout,
    "ipv6": scenario_ipv6,
    "long-names": scenario_long_names,
    "atomic-races": scenario_atomic_races,
    "large-directory": scenario_large_directory,
    "idle-during-transfer": scenario_idle_during_transfer,
    "data-timeout": scenario_data_timeout,
}


def lookup(name):
    # roundtrip-SIZE-pasv / roundtrip-SIZE-active
    if name.startswith("roundtrip-"):
        _, size, mode = name.split("-")
        return lambda: scenario_roundtrip(int(size), mode == "pasv")
    return SCENARIOS.get(name)


def run(program, lookup_scenario):
    """The command line every client script shares: SCENARIO PORT; exit status 0 passed, 1 a mismatch, 2 an error."""
    global PORT
    if len(sys.argv) != 3:
        print("usage: %s SCENARIO PORT" % program, file=sys.stderr)
        return 2
    name, PORT = sys.argv[1], int(sys.argv[2])
    scenario = lookup_scenario(name)
    if scenario is None:
        print("unknown scenario %r" % name, file=sys.stderr)
        return 2
    socket.setdefaulttimeout(TIMEOUT)
    try:
        scenario()
    except Failure as failure:
        print("FAIL [%s]: %s" % (name, failure), file=sys.stderr)
        return 1
    except Exception:  # noqa: BLE001 (an unexpected exception is a failure with its traceback)
        print("ERROR [%s]: unexpected exception" % name, file=sys.stderr)
        traceback.print_exc()
        return 2
    print("OK [%s]" % name)
    return 0


def main():
    return run("ftplib_client.py", lookup)

if __name__ == "__main__":
    sys.exit(main())
