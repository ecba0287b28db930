#!/usr/bin/python3
"""Self-test of the Dovecot harness with standard clients only.

Starts two harness instances at once (variant open, variant tlsonly), then proves with
python3's imaplib/poplib/smtplib, curl and a raw line client that OAuth 2.0 (XOAUTH2,
OAUTHBEARER) and password (PLAIN, LOGIN) logins behave as documented in
tests/integration/harness/README.md on IMAP, POP3 and submission, over plaintext,
STARTTLS and implicit TLS. Records the raw exchanges of the raw client into
transcripts/*.txt (fixtures for offline unit tests; tokens and passwords redacted),
measures start and stop times, stops everything and checks nothing is left running.

  selftest.py [--workdir DIR] [--transcripts DIR] [--record | --no-transcripts] [--keep] [--cycles N]

By default each raw exchange is compared with its recorded transcript (post-login
LOGOUT timings masked); --record rewrites the transcripts instead.

Exit 0 = all checks passed, 1 = a check failed, 77 = cannot run here (not root, no Dovecot).
"""

import argparse
import base64
import imaplib
import json
import os
import poplib
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep the source tree clean
from dovecot import children_of, reap_children, set_subreaper  # noqa: E402  (same directory)

HARNESS = os.path.join(HERE, "dovecot.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
ALICE, BOB = "alice@example.test", "bob@example.test"
CAROL = "carol@example.test"  # nologin host=imap2.example.test: password logins get a login referral

XOAUTH2_ERROR = {"status": "401", "schemes": "bearer", "scope": "mail"}
OAUTHBEARER_ERROR = {"status": "invalid_token"}

# ---------------------------------------------------------------- SASL payloads


def xoauth2(user, token):
    """RFC-less Google format: user=U ^A auth=Bearer T ^A ^A."""
    return b"user=%s\x01auth=Bearer %s\x01\x01" % (user.encode(), token.encode())


def oauthbearer(user, token, host, port):
    """RFC 7628 3.1: gs2 header, then host/port/auth key-value pairs separated by ^A."""
    gs2 = b"n,a=%s," % user.encode() if user is not None else b"n,,"
    return gs2 + b"\x01host=%s\x01port=%d\x01auth=Bearer %s\x01\x01" % (host.encode(), port, token.encode())


def plain(user, password):
    return b"\0%s\0%s" % (user.encode(), password.encode())


def b64(data):
    return base64.b64encode(data).decode("ascii")


# ---------------------------------------------------------------- raw recording client


class Conn:
    """Line client that records every line exactly (CRLF stripped) as C:/S:, and T: at TLS start."""

    def __init__(self, st, service, bind=None, connect=None, secrets=()):
        self.st = st
        self.host = connect or st["host"]
        self.service = service
        self.port = st["ports"][service]
        self.ctx = ssl.create_default_context(cafile=st["tls"]["ca_file"])
        self.secrets = [s for s in secrets if s]
        self.lines = []
        raw = socket.create_connection((self.host, self.port), timeout=10,
                                       source_address=(bind, 0) if bind else None)
        self.bind = bind or raw.getsockname()[0]
        self.sock = raw
        self.buf = b""
        if st["services"][service]["tls"] == "implicit":
            self.sock = self.ctx.wrap_socket(raw, server_hostname=self.host)
            self.lines.append("T: tls")

    def redact(self, text):
        for s, placeholder in self.secrets:
            text = text.replace(s, placeholder)
        return text

    def send(self, line):
        self.sock.sendall(line.encode("latin-1") + b"\r\n")
        self.lines.append("C: " + self.redact(line))

    def recv(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection; so far:\n" + "\n".join(self.lines))
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        text = line.rstrip(b"\r").decode("latin-1")
        self.lines.append("S: " + text)
        return text

    def recv_until_tagged(self, tag):
        while True:
            line = self.recv()
            if line.startswith(tag + " "):
                return line

    def recv_smtp(self):
        """A whole SMTP reply; returns its last line."""
        while True:
            line = self.recv()
            if len(line) < 4 or line[3] != "-":
                return line

    def recv_pop3_multi(self):
        first = self.recv()
        if first.startswith("+OK"):
            while self.recv() != ".":
                pass
        return first

    def starttls(self):
        assert not self.buf, "plaintext bytes buffered before TLS"
        self.sock = self.ctx.wrap_socket(self.sock, server_hostname=self.host)
        self.lines.append("T: tls")

    def expect_eof(self):
        try:
            data = self.sock.recv(1)
        except (ConnectionResetError, ssl.SSLError):
            data = b""
        assert data == b"", "expected the server to close"

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------- test bookkeeping


VOLATILE = re.compile(r"Logout completed \(\d+\.\d+ \+ \d+\.\d+ secs\)\.")


def normalise(text):
    """Transcript lines without comments, volatile parts masked (post-login LOGOUT timings)."""
    return [VOLATILE.sub("Logout completed (T + T secs).", l) for l in text.splitlines() if not l.startswith("#")]


class Run:
    def __init__(self, transcripts_dir, record):
        self.transcripts_dir = transcripts_dir
        self.record = record
        self.passed, self.failed = [], []
        self.written = []
        self.all_secrets = set()

    def check(self, name, fn, *args):
        t0 = time.monotonic()
        try:
            fn(*args)
            if time.monotonic() - t0 > 0.5:
                print("slow  %s: %.2f s" % (name, time.monotonic() - t0))
            self.passed.append(name)
            print("ok    %s" % name)
        except Exception as e:  # noqa: BLE001 - report every failure and carry on
            self.failed.append(name)
            print("FAIL  %s: %s" % (name, e))
            traceback.print_exc(limit=3, file=sys.stdout)

    def save(self, name, conn, description, st):
        text = "\n".join(conn.lines)
        for s in self.all_secrets:
            assert s not in text, "secret leaked into transcript " + name
        if not self.transcripts_dir:
            return
        head = ["# " + description,
                "# server: Dovecot %s (Debian bookworm), harness variant %s, service %s; client %s -> %s"
                % (st["dovecot_version"], st["variant"], conn.service, conn.bind, conn.host),
                "# C: client line, S: server line (CRLF stripped), T: TLS handshake completed here.",
                "# <token>/<password>: the base64 (or raw) argument carrying the secret, see README.md."]
        path = os.path.join(self.transcripts_dir, name + ".txt")
        if self.record:
            with open(path, "w") as f:
                f.write("\n".join(head) + "\n" + text + "\n")
            self.written.append(name)
            return
        # Compare with the recorded fixture: the server must still behave as recorded.
        try:
            with open(path) as f:
                want = normalise(f.read())
        except FileNotFoundError:
            raise AssertionError("no fixture %s (run with --record)" % path)
        got = normalise(text)
        if got != want:
            diff = [("-" + w, "+" + g) for w, g in zip(want, got) if w != g][:3]
            raise AssertionError("differs from %s (%d vs %d lines) %s" % (path, len(want), len(got), diff))
        self.written.append(name)


def eq(got, want):
    assert got == want, "got %r, want %r" % (got, want)


def starts(got, prefix):
    assert got.startswith(prefix), "got %r, want it to start with %r" % (got, prefix)


def challenge_json(line, prefix):
    starts(line, prefix)
    return json.loads(base64.b64decode(line[len(prefix):], validate=True))


# ---------------------------------------------------------------- raw IMAP


def tok(st, user=ALICE, kind="valid"):
    return st["tokens"][user][kind]


def secrets_for(payload, placeholder="<token>"):
    return [(b64(payload), placeholder)]


def imap_capability(run, st):
    c = Conn(st, "imap")
    starts(c.recv(), "* OK [CAPABILITY IMAP4rev1 SASL-IR")
    c.send("A1 CAPABILITY")
    caps = c.recv()
    starts(caps, "* CAPABILITY ")
    for cap in ("SASL-IR", "STARTTLS", "AUTH=PLAIN", "AUTH=LOGIN", "AUTH=XOAUTH2", "AUTH=OAUTHBEARER"):
        assert cap in caps.split(), cap
    eq(c.recv(), "A1 OK Pre-login capabilities listed, post-login capabilities have more.")
    c.send("A2 LOGOUT")
    starts(c.recv(), "* BYE")
    starts(c.recv(), "A2 OK")
    run.save("imap_capability", c, "IMAP pre-login CAPABILITY on the plaintext port.", st)


def imap_auth(run, st, name, service, mech, kind="valid", ir=True, user=ALICE, token_user=None,
              answer=None, starttls=False, description=""):
    """One IMAP AUTHENTICATE; ok for a valid token of the same user, error challenge + final NO otherwise."""
    token = tok(st, token_user or user, kind)
    expect_ok = kind == "valid" and (token_user or user) == user
    if mech == "XOAUTH2":
        payload = xoauth2(user, token)
    else:
        payload = oauthbearer(user, token, st["host"], st["ports"][service])
    c = Conn(st, service, secrets=secrets_for(payload))
    starts(c.recv(), "* OK ")
    if starttls:
        c.send("S1 STARTTLS")
        eq(c.recv(), "S1 OK Begin TLS negotiation now.")
        c.starttls()
        c.send("S2 CAPABILITY")
        caps = c.recv()
        assert "AUTH=XOAUTH2" in caps.split() and "STARTTLS" not in caps.split(), caps
        starts(c.recv(), "S2 OK")
    if ir:
        c.send("A1 AUTHENTICATE %s %s" % (mech, b64(payload)))
    else:
        c.send("A1 AUTHENTICATE %s" % mech)
        eq(c.recv(), "+ ")
        c.send(b64(payload))
    if expect_ok:
        line = c.recv()
        starts(line, "A1 OK [CAPABILITY IMAP4rev1 ")
        assert line.endswith("] Logged in"), line
        c.send("A2 LOGOUT")
        starts(c.recv(), "* BYE")
        starts(c.recv_until_tagged("A2"), "A2 OK")
    else:
        line = c.recv()
        got = challenge_json(line, "+ ")
        if mech == "XOAUTH2":
            eq(got, XOAUTH2_ERROR)
        else:
            eq(got.get("status"), "invalid_token")
        if answer is None:
            answer = "" if mech == "XOAUTH2" else "AQ=="
        c.send(answer)
        if answer == "*":
            eq(c.recv(), "A1 BAD Authentication aborted by client.")
        else:
            eq(c.recv(), "A1 NO [AUTHENTICATIONFAILED] Authentication failed.")
        c.send("A2 LOGOUT")
        starts(c.recv(), "* BYE")
        starts(c.recv(), "A2 OK")
    c.close()
    run.save(name, c, description, st)


def imap_oauthbearer_no_user(run, st):
    payload = oauthbearer(None, tok(st), st["host"], st["ports"]["imap"])
    c = Conn(st, "imap", secrets=secrets_for(payload))
    c.recv()
    c.send("A1 AUTHENTICATE OAUTHBEARER %s" % b64(payload))
    eq(c.recv(), "A1 NO [AUTHENTICATIONFAILED] Authentication failed.")
    c.send("A2 LOGOUT")
    c.recv_until_tagged("A2")
    run.save("imap_oauthbearer_no_authzid", c,
             "IMAP OAUTHBEARER without a=user in the GS2 header: fails at once, no error challenge.", st)


def imap_password(run, st, mech):
    pw = st["users"][ALICE]
    c = Conn(st, "imap", secrets=[(b64(plain(ALICE, pw)), "<password>"), (b64(pw.encode()), "<password>"),
                                  ('"%s"' % pw, "<password>")])
    c.recv()
    if mech == "PLAIN":
        c.send("A1 AUTHENTICATE PLAIN %s" % b64(plain(ALICE, pw)))
    elif mech == "LOGIN":
        c.send("A1 AUTHENTICATE LOGIN")
        eq(c.recv(), "+ VXNlcm5hbWU6")
        c.send(b64(ALICE.encode()))
        eq(c.recv(), "+ UGFzc3dvcmQ6")
        c.send(b64(pw.encode()))
    else:
        c.send('A1 LOGIN %s "%s"' % (ALICE, pw))
    line = c.recv()
    starts(line, "A1 OK [CAPABILITY IMAP4rev1 ")
    c.send("A2 LOGOUT")
    c.recv_until_tagged("A2")
    name = {"PLAIN": "imap_plain_ok", "LOGIN": "imap_login_mech_ok", "CMD": "imap_login_command_ok"}[mech]
    run.save(name, c, "IMAP password login (%s) on the plaintext port." % mech, st)


def imap_password_referral(run, st):
    pw = st["users"][CAROL]
    c = Conn(st, "imap", secrets=[(b64(plain(CAROL, pw)), "<password>")])
    c.recv()
    c.send("A1 AUTHENTICATE PLAIN %s" % b64(plain(CAROL, pw)))
    eq(c.recv(), "A1 NO [REFERRAL imap://carol%40example.test;AUTH=PLAIN@imap2.example.test/] "
                 "Try this server instead.")
    c.send("A2 LOGOUT")
    c.recv_until_tagged("A2")
    run.save("imap_plain_referral", c,
             "IMAP PLAIN for carol@example.test, whose passdb entry says nologin host=imap2.example.test: "
             "an RFC 2221 login referral.", st)


# ---------------------------------------------------------------- raw POP3


def pop3_capa(run, st):
    c = Conn(st, "pop3")
    eq(c.recv(), "+OK Dovecot (Debian) ready.")
    c.send("CAPA")
    eq(c.recv_pop3_multi(), "+OK")
    caps = [l[3:] for l in c.lines if l.startswith("S: ")][2:-1]
    assert "STLS" in caps and "SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER" in caps, caps
    c.send("QUIT")
    starts(c.recv(), "+OK")
    run.save("pop3_capa", c, "POP3 CAPA before login on the plaintext port.", st)


def pop3_auth(run, st, name, service, mech, kind="valid", inline=True, answer=None, starttls=False,
              description=""):
    token = tok(st, ALICE, kind)
    payload = xoauth2(ALICE, token) if mech == "XOAUTH2" else \
        oauthbearer(ALICE, token, st["host"], st["ports"][service])
    c = Conn(st, service, secrets=secrets_for(payload))
    eq(c.recv(), "+OK Dovecot (Debian) ready.")
    if starttls:
        c.send("STLS")
        eq(c.recv(), "+OK Begin TLS negotiation now.")
        c.starttls()
        c.send("CAPA")
        c.recv_pop3_multi()
    if inline:
        c.send("AUTH %s %s" % (mech, b64(payload)))
    else:
        c.send("AUTH %s" % mech)
        eq(c.recv(), "+ ")
        c.send(b64(payload))
    if kind == "valid":
        eq(c.recv(), "+OK Logged in.")
        c.send("STAT")
        starts(c.recv(), "+OK ")
    else:
        line = c.recv()
        got = challenge_json(line, "+ ")
        if mech == "XOAUTH2":
            eq(got, XOAUTH2_ERROR)
        else:
            eq(got.get("status"), "invalid_token")
        if answer is None:
            answer = "" if mech == "XOAUTH2" else "AQ=="
        c.send(answer)
        if answer == "*":
            starts(c.recv(), "-ERR")
        else:
            eq(c.recv(), "-ERR [AUTH] Authentication failed.")
    c.send("QUIT")
    starts(c.recv(), "+OK")
    c.close()
    run.save(name, c, description, st)


def pop3_password(run, st, how):
    pw = st["users"][ALICE]
    c = Conn(st, "pop3", secrets=[(b64(plain(ALICE, pw)), "<password>"), (pw, "<password>")])
    c.recv()
    if how == "PLAIN":
        c.send("AUTH PLAIN %s" % b64(plain(ALICE, pw)))
    else:
        c.send("USER %s" % ALICE)
        starts(c.recv(), "+OK")
        c.send("PASS %s" % pw)
    eq(c.recv(), "+OK Logged in.")
    c.send("QUIT")
    c.recv()
    run.save("pop3_plain_ok" if how == "PLAIN" else "pop3_user_pass_ok", c,
             "POP3 password login (%s) on the plaintext port." % how, st)


# ---------------------------------------------------------------- raw SMTP


def smtp_ehlo(run, st):
    c = Conn(st, "submission")
    eq(c.recv(), "220 mail.example.test Dovecot (Debian) ready.")
    c.send("EHLO client.example.test")
    eq(c.recv_smtp()[:4], "250 ")
    ehlo = [l[7:] for l in c.lines if l.startswith("S: 250")]
    assert "AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER" in ehlo and "STARTTLS" in ehlo, ehlo
    c.send("QUIT")
    starts(c.recv(), "221")
    run.save("smtp_ehlo", c, "Submission EHLO before login on the plaintext port.", st)


def smtp_auth(run, st, name, service, mech, kind="valid", inline=True, answer=None, starttls=False,
              send_mail=False, description=""):
    token = tok(st, ALICE, kind)
    payload = xoauth2(ALICE, token) if mech == "XOAUTH2" else \
        oauthbearer(ALICE, token, st["host"], st["ports"][service])
    c = Conn(st, service, secrets=secrets_for(payload))
    eq(c.recv(), "220 mail.example.test Dovecot (Debian) ready.")
    c.send("EHLO client.example.test")
    c.recv_smtp()
    if starttls:
        c.send("STARTTLS")
        eq(c.recv(), "220 2.0.0 Begin TLS negotiation now.")
        c.starttls()
        c.send("EHLO client.example.test")
        c.recv_smtp()
    if inline:
        c.send("AUTH %s %s" % (mech, b64(payload)))
    else:
        c.send("AUTH %s" % mech)
        eq(c.recv(), "334 ")
        c.send(b64(payload))
    if kind == "valid":
        eq(c.recv(), "235 2.7.0 Logged in.")
        if send_mail:
            c.send("MAIL FROM:<%s>" % ALICE)
            eq(c.recv(), "250 2.1.0 Ok")
            c.send("RCPT TO:<%s>" % BOB)
            eq(c.recv(), "250 2.1.5 Ok")
            c.send("DATA")
            starts(c.recv(), "354 ")
            for line in ("From: Alice <%s>" % ALICE, "To: Bob <%s>" % BOB,
                         "Subject: mailauth harness self-test", "Message-ID: <selftest-1@example.test>",
                         "", "Sent through Dovecot submission after SASL XOAUTH2.", "..leading dot", "."):
                c.send(line)
            starts(c.recv(), "250 2.0.0 ")
    else:
        line = c.recv()
        got = challenge_json(line, "334 ")
        if mech == "XOAUTH2":
            eq(got, XOAUTH2_ERROR)
        else:
            eq(got.get("status"), "invalid_token")
        if answer is None:
            answer = "" if mech == "XOAUTH2" else "AQ=="
        c.send(answer)
        if answer == "*":
            eq(c.recv(), "501 5.5.2 Authentication aborted by client.")
        else:
            eq(c.recv(), "535 5.7.8 Authentication failed.")
    c.send("QUIT")
    starts(c.recv(), "221 ")
    c.close()
    run.save(name, c, description, st)


def smtp_password(run, st, mech):
    pw = st["users"][ALICE]
    c = Conn(st, "submission", secrets=[(b64(plain(ALICE, pw)), "<password>"), (b64(pw.encode()), "<password>")])
    c.recv()
    c.send("EHLO client.example.test")
    c.recv_smtp()
    if mech == "PLAIN":
        c.send("AUTH PLAIN %s" % b64(plain(ALICE, pw)))
    else:
        c.send("AUTH LOGIN")
        eq(c.recv(), "334 VXNlcm5hbWU6")
        c.send(b64(ALICE.encode()))
        eq(c.recv(), "334 UGFzc3dvcmQ6")
        c.send(b64(pw.encode()))
    eq(c.recv(), "235 2.7.0 Logged in.")
    c.send("QUIT")
    c.recv()
    run.save("smtp_%s_ok" % mech.lower(), c, "Submission password login (%s) on the plaintext port." % mech, st)


def check_sink_message(st, marker=b"Sent through Dovecot submission after SASL XOAUTH2."):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for name in sorted(os.listdir(st["sink_dir"])):
            if name.endswith(".eml"):
                with open(os.path.join(st["sink_dir"], name), "rb") as f:
                    data = f.read()
                if marker in data:
                    with open(os.path.join(st["sink_dir"], name[:-4] + ".json")) as f:
                        env = json.load(f)
                    return data, env
        time.sleep(0.05)
    raise AssertionError("message not in the sink dir %s" % st["sink_dir"])


def smtp_send_landed(st):
    data, env = check_sink_message(st)
    eq(env["mail_from"], ALICE)
    eq(env["rcpt_to"], [BOB])
    assert b"\r\n.leading dot\r\n" in data, data  # dot-stuffing undone exactly once
    assert b"Subject: mailauth harness self-test\r\n" in data, data


# ---------------------------------------------------------------- tlsonly variant (raw)


def tlsonly_imap(run, st, connect):
    payload = xoauth2(ALICE, tok(st))
    c = Conn(st, "imap", bind="127.0.0.2", connect=connect, secrets=secrets_for(payload))
    greeting = c.recv()
    c.send("A1 CAPABILITY")
    caps = c.recv().split()
    c.recv_until_tagged("A1")
    secured = connect == "127.0.0.2"
    if secured:
        assert "LOGINDISABLED" not in caps and "AUTH=XOAUTH2" in caps, caps
        c.send("A2 AUTHENTICATE XOAUTH2 %s" % b64(payload))
        starts(c.recv(), "* CAPABILITY ")  # asked CAPABILITY before: untagged, then a plain OK
        eq(c.recv(), "A2 OK Logged in")
        run.save("tlsonly_imap_same_address", c,
                 "IMAP, plaintext auth disabled, client 127.0.0.2 -> server 127.0.0.2: Dovecot counts "
                 "remote IP == local IP as secure, so no LOGINDISABLED.", st)
        return
    assert "LOGINDISABLED" in caps and "STARTTLS" in caps, caps
    assert not [x for x in caps if x.startswith("AUTH=")], caps
    assert "LOGINDISABLED" in greeting, greeting
    c.send("A2 AUTHENTICATE XOAUTH2 %s" % b64(payload))
    eq(c.recv(), "A2 NO [PRIVACYREQUIRED] Plaintext authentication disabled.")
    c.send('A3 LOGIN %s "%s"' % (ALICE, "x"))
    starts(c.recv_until_tagged("A3"), "A3 NO [PRIVACYREQUIRED]")
    c.send("A4 STARTTLS")
    starts(c.recv(), "A4 OK")
    c.starttls()
    c.send("A5 CAPABILITY")
    caps = c.recv().split()
    c.recv_until_tagged("A5")
    assert "LOGINDISABLED" not in caps and "AUTH=XOAUTH2" in caps and "AUTH=OAUTHBEARER" in caps, caps
    c.send("A6 AUTHENTICATE XOAUTH2 %s" % b64(payload))
    starts(c.recv(), "* CAPABILITY ")
    eq(c.recv(), "A6 OK Logged in")
    c.send("A7 LOGOUT")
    c.recv_until_tagged("A7")
    run.save("tlsonly_imap", c, "IMAP, plaintext auth disabled, client 127.0.0.2 -> server 127.0.0.1 "
                                "(insecure): LOGINDISABLED, PRIVACYREQUIRED, then STARTTLS and XOAUTH2.", st)


def tlsonly_pop3(run, st):
    payload = xoauth2(ALICE, tok(st))
    c = Conn(st, "pop3", bind="127.0.0.2", connect="127.0.0.1", secrets=secrets_for(payload))
    c.recv()
    c.send("CAPA")
    c.recv_pop3_multi()
    caps = [l[3:] for l in c.lines if l.startswith("S: ")][2:-1]
    assert "SASL" in caps and "STLS" in caps, caps  # bare SASL: no mechanism offered
    assert not [x for x in caps if x.startswith("SASL ")], caps
    c.send("AUTH XOAUTH2 %s" % b64(payload))
    eq(c.recv(), "-ERR [AUTH] Plaintext authentication disabled.")
    c.send("USER %s" % ALICE)
    starts(c.recv(), "-ERR ")
    c.send("STLS")
    starts(c.recv(), "+OK")
    c.starttls()
    c.send("CAPA")
    c.recv_pop3_multi()
    assert "S: SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER" in c.lines, c.lines
    c.send("AUTH XOAUTH2 %s" % b64(payload))
    eq(c.recv(), "+OK Logged in.")
    c.send("QUIT")
    c.recv()
    run.save("tlsonly_pop3", c, "POP3, plaintext auth disabled, client 127.0.0.2 -> server 127.0.0.1 "
                                "(insecure): bare SASL, refused AUTH/USER, then STLS and XOAUTH2.", st)


def tlsonly_smtp(run, st):
    payload = xoauth2(ALICE, tok(st))
    c = Conn(st, "submission", bind="127.0.0.2", connect="127.0.0.1", secrets=secrets_for(payload))
    c.recv()
    c.send("EHLO client.example.test")
    c.recv_smtp()
    assert "S: 250-AUTH " in c.lines, c.lines  # AUTH with an empty mechanism list
    c.send("AUTH XOAUTH2 %s" % b64(payload))
    starts(c.recv(), "523 5.7.10 ")
    c.send("STARTTLS")
    starts(c.recv(), "220 ")
    c.starttls()
    c.send("EHLO client.example.test")
    c.recv_smtp()
    assert "S: 250-AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER" in c.lines, c.lines
    c.send("AUTH XOAUTH2 %s" % b64(payload))
    eq(c.recv(), "235 2.7.0 Logged in.")
    c.send("QUIT")
    c.recv()
    run.save("tlsonly_smtp", c, "Submission, plaintext auth disabled, client 127.0.0.2 -> server 127.0.0.1 "
                                "(insecure): empty AUTH list, 523, then STARTTLS and XOAUTH2.", st)


# ---------------------------------------------------------------- stdlib clients (independent check)


class SaslObj:
    """Callable for imaplib.authenticate / smtplib.auth: first the payload, then `answer` to a challenge."""

    def __init__(self, payload, answer=b""):
        self.payload, self.answer, self.challenges, self.calls = payload, answer, [], 0

    def __call__(self, challenge=None):
        self.calls += 1
        if self.calls == 1 and not challenge:
            return self.payload
        self.challenges.append(challenge)
        return self.answer


def ctx_for(st):
    return ssl.create_default_context(cafile=st["tls"]["ca_file"])


def stdlib_imap(st, tls, mech, kind):
    h, ports = st["host"], st["ports"]
    if tls == "implicit":
        m = imaplib.IMAP4_SSL(h, ports["imaps"], ssl_context=ctx_for(st))
        port = ports["imaps"]
    else:
        m = imaplib.IMAP4(h, ports["imap"])
        port = ports["imap"]
        if tls == "starttls":
            m.starttls(ssl_context=ctx_for(st))
    token = tok(st, ALICE, kind)
    payload = xoauth2(ALICE, token) if mech == "XOAUTH2" else oauthbearer(ALICE, token, h, port)
    auth = SaslObj(payload, b"" if mech == "XOAUTH2" else b"\x01")
    try:
        if kind == "valid":
            typ, _ = m.authenticate(mech, auth)
            eq(typ, "OK")
            typ, _ = m.select("INBOX")
            eq(typ, "OK")
        else:
            try:
                m.authenticate(mech, auth)
                raise AssertionError("authenticate succeeded with an %s token" % kind)
            except imaplib.IMAP4.error as e:
                assert "[AUTHENTICATIONFAILED]" in str(e), e
            got = json.loads(auth.challenges[-1])
            eq(got, XOAUTH2_ERROR) if mech == "XOAUTH2" else eq(got["status"], "invalid_token")
    finally:
        m.logout()


def stdlib_pop3(st, tls, mech, kind):
    h, ports = st["host"], st["ports"]
    if tls == "implicit":
        m = poplib.POP3_SSL(h, ports["pop3s"], context=ctx_for(st), timeout=10)
        port = ports["pop3s"]
    else:
        m = poplib.POP3(h, ports["pop3"], timeout=10)
        port = ports["pop3"]
        if tls == "starttls":
            m.stls(context=ctx_for(st))
    token = tok(st, ALICE, kind)
    payload = xoauth2(ALICE, token) if mech == "XOAUTH2" else oauthbearer(ALICE, token, h, port)
    try:
        resp = m._shortcmd("AUTH %s %s" % (mech, b64(payload)))
        if kind == "valid":
            eq(resp, b"+OK Logged in.")
            m.stat()
        else:
            got = json.loads(base64.b64decode(resp[2:]))
            eq(got, XOAUTH2_ERROR) if mech == "XOAUTH2" else eq(got["status"], "invalid_token")
            try:
                m._shortcmd("" if mech == "XOAUTH2" else "AQ==")
                raise AssertionError("POP3 AUTH succeeded with an %s token" % kind)
            except poplib.error_proto as e:
                eq(e.args[0], b"-ERR [AUTH] Authentication failed.")
    finally:
        m.quit()


def stdlib_smtp(st, tls, mech, kind, send=False):
    h, ports = st["host"], st["ports"]
    if tls == "implicit":
        m = smtplib.SMTP_SSL(h, ports["submissions"], context=ctx_for(st), timeout=10)
        port = ports["submissions"]
    else:
        m = smtplib.SMTP(h, ports["submission"], timeout=10)
        port = ports["submission"]
        if tls == "starttls":
            m.starttls(context=ctx_for(st))
    m.ehlo("client.example.test")
    token = tok(st, ALICE, kind)
    payload = xoauth2(ALICE, token) if mech == "XOAUTH2" else oauthbearer(ALICE, token, h, port)
    # smtplib base64-encodes whatever the callable returns (str); latin-1 keeps the bytes.
    auth = SaslObj(payload.decode("latin-1"), "" if mech == "XOAUTH2" else "\x01")
    try:
        if kind == "valid":
            code, _ = m.auth(mech, auth, initial_response_ok=True)
            eq(code, 235)
            if send:
                msg = ("From: %s\r\nTo: %s\r\nSubject: smtplib via %s\r\n\r\nsmtplib %s %s body\r\n"
                       % (ALICE, BOB, tls, mech, tls))
                refused = m.sendmail(ALICE, [BOB], msg)
                eq(refused, {})
                check_sink_message(st, ("smtplib %s %s body" % (mech, tls)).encode())
        else:
            try:
                m.auth(mech, auth, initial_response_ok=True)
                raise AssertionError("SMTP AUTH succeeded with an %s token" % kind)
            except smtplib.SMTPAuthenticationError as e:
                eq((e.smtp_code, e.smtp_error), (535, b"5.7.8 Authentication failed."))
            got = json.loads(auth.challenges[-1])
            eq(got, XOAUTH2_ERROR) if mech == "XOAUTH2" else eq(got["status"], "invalid_token")
    finally:
        m.quit()


def stdlib_password(st):
    pw = st["users"][ALICE]
    m = imaplib.IMAP4(st["host"], st["ports"]["imap"])
    eq(m.login(ALICE, pw)[0], "OK")
    m.logout()
    m = imaplib.IMAP4(st["host"], st["ports"]["imap"])
    try:
        m.login(ALICE, "wrong")
        raise AssertionError("wrong password accepted")
    except imaplib.IMAP4.error as e:
        assert "AUTHENTICATIONFAILED" in str(e), e
    m.logout()
    p = poplib.POP3(st["host"], st["ports"]["pop3"], timeout=10)
    p.user(ALICE)
    p.pass_(pw)
    p.quit()
    s = smtplib.SMTP(st["host"], st["ports"]["submission"], timeout=10)
    s.login(BOB, st["users"][BOB])  # smtplib picks CRAM-MD5/PLAIN/LOGIN itself
    s.quit()


# ---------------------------------------------------------------- curl


def curl(st, args, stdin=None):
    r = subprocess.run(["curl", "-sS", "--max-time", "15", "--cacert", st["tls"]["ca_file"]] + args,
                       input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def curl_checks(st):
    h, p, t = st["host"], st["ports"], tok(st)
    rc, out, err = curl(st, ["--user", ALICE, "--oauth2-bearer", t, "imaps://%s:%d/" % (h, p["imaps"])])
    eq((rc, err), (0, ""))
    assert "INBOX" in out, out
    rc, out, err = curl(st, ["--ssl-reqd", "--user", ALICE, "--oauth2-bearer", t,
                             "imap://%s:%d/" % (h, p["imap"])])
    eq((rc, err), (0, ""))
    rc, out, err = curl(st, ["--user", ALICE, "--oauth2-bearer", t, "pop3s://%s:%d/" % (h, p["pop3s"])])
    eq((rc, err), (0, ""))
    msg = b"From: %s\r\nTo: %s\r\nSubject: curl\r\n\r\ncurl smtps oauthbearer body\r\n" % (ALICE.encode(),
                                                                                            BOB.encode())
    rc, out, err = curl(st, ["--user", ALICE, "--oauth2-bearer", t, "--mail-from", ALICE, "--mail-rcpt", BOB,
                             "-T", "-", "smtps://%s:%d/" % (h, p["submissions"])], stdin=msg)
    eq((rc, err), (0, ""))
    check_sink_message(st, b"curl smtps oauthbearer body")
    rc, out, err = curl(st, ["--user", ALICE, "--oauth2-bearer", tok(st, ALICE, "expired"),
                             "imaps://%s:%d/" % (h, p["imaps"])])
    assert rc == 67, (rc, err)  # CURLE_LOGIN_DENIED


# ---------------------------------------------------------------- driver


def harness(*args):
    t0 = time.monotonic()
    r = subprocess.run([PYTHON, HARNESS] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = time.monotonic() - t0
    reap_children()
    return r, dt


def pgrep_for(d):
    r = subprocess.run(["pgrep", "-af", d], stdout=subprocess.PIPE, text=True)
    return [l for l in r.stdout.splitlines() if "selftest.py" not in l and "pgrep" not in l]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", help="parent of the harness DIRs (default: a new dir under /tmp)")
    ap.add_argument("--transcripts", default=os.path.join(HERE, "transcripts"))
    ap.add_argument("--record", action="store_true",
                    help="rewrite the transcripts (default: compare the exchanges with them)")
    ap.add_argument("--no-transcripts", action="store_true", help="neither record nor compare")
    ap.add_argument("--keep", action="store_true", help="leave the servers running")
    ap.add_argument("--cycles", type=int, default=3, help="extra start/stop cycles to time")
    a = ap.parse_args()
    if os.geteuid() != 0 or not shutil.which("dovecot", path="/usr/sbin:/usr/bin"):
        print("SKIP: needs root and Dovecot")
        return 77
    work = a.workdir or tempfile.mkdtemp(prefix="mailauth-harness-")
    os.makedirs(work, exist_ok=True)
    # Adopt the daemonised servers when `start` exits, so that stopped ones get reaped
    # here instead of lingering as zombies under a PID 1 that does not reap.
    set_subreaper(True)
    os.chmod(work, 0o755)
    d_open, d_tls = os.path.join(work, "open"), os.path.join(work, "tlsonly")
    tdir = None if a.no_transcripts else a.transcripts
    if tdir and a.record:
        os.makedirs(tdir, exist_ok=True)
        for n in os.listdir(tdir):
            if n.endswith(".txt"):
                os.remove(os.path.join(tdir, n))
    run = Run(tdir, a.record)
    timings = {}

    system = subprocess.run(["pgrep", "-ax", "dovecot"], stdout=subprocess.PIPE, text=True).stdout.split("\n")
    system = [l for l in system if l and " -c " not in l and "<defunct>" not in l]
    if system:
        print("note: a system dovecot instance is running (left alone): %s" % system)

    # Two instances at once: proves unique instance_name/base_dir/ports.
    procs = [subprocess.Popen([PYTHON, HARNESS, "start", "--dir", d, "--variant", v], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for d, v in ((d_open, "open"), (d_tls, "tlsonly"))]
    t0 = time.monotonic()
    for pr in procs:
        out, err = pr.communicate()
        if pr.returncode != 0:
            print("harness start failed:\n" + out + err)
            for d in (d_open, d_tls):
                harness("stop", "--dir", d)
            return 1
    timings["concurrent start (both ready), wall"] = time.monotonic() - t0
    st = json.load(open(os.path.join(d_open, "state.json")))
    st2 = json.load(open(os.path.join(d_tls, "state.json")))
    timings["start-to-ready open (in-process)"] = st["startup_seconds"]
    timings["start-to-ready tlsonly (in-process)"] = st2["startup_seconds"]
    for s in (st, st2):
        for u in s["tokens"].values():
            run.all_secrets.update(u.values())
        run.all_secrets.update(s["users"].values())
    try:
        run.check("two instances have distinct ports and instance names", lambda: (
            eq(set(st["ports"].values()) & set(st2["ports"].values()), set()),
            eq(st["instance_name"] != st2["instance_name"], True)))
        run.check("mint CLI token accepted", check_mint_cli, st, d_open)

        # --- raw exchanges (assert + record) ---
        run.check("imap capability", imap_capability, run, st)
        for name, service, mech, kind, extra, desc in [
            ("imap_xoauth2_ok", "imap", "XOAUTH2", "valid", {}, "IMAP XOAUTH2 with SASL-IR, valid token."),
            ("imap_xoauth2_ok_no_ir", "imap", "XOAUTH2", "valid", {"ir": False},
             "IMAP XOAUTH2 without SASL-IR: empty continuation, then the response."),
            ("imap_oauthbearer_ok", "imap", "OAUTHBEARER", "valid", {}, "IMAP OAUTHBEARER with SASL-IR, valid token."),
            ("imap_oauthbearer_ok_no_ir", "imap", "OAUTHBEARER", "valid", {"ir": False},
             "IMAP OAUTHBEARER without SASL-IR."),
            ("imap_xoauth2_expired", "imap", "XOAUTH2", "expired", {},
             "IMAP XOAUTH2, expired token: error challenge, client answers an empty line, NO."),
            ("imap_oauthbearer_expired", "imap", "OAUTHBEARER", "expired", {},
             "IMAP OAUTHBEARER, expired token: error challenge, client answers AQ== (^A), NO."),
            ("imap_xoauth2_bad_signature", "imap", "XOAUTH2", "bad_signature", {},
             "IMAP XOAUTH2, token signed with the wrong key: same as expired."),
            ("imap_xoauth2_wrong_issuer", "imap", "XOAUTH2", "wrong_issuer", {},
             "IMAP XOAUTH2, token from an issuer not in `issuers`: same as expired."),
            ("imap_xoauth2_wrong_user", "imap", "XOAUTH2", "valid", {"token_user": BOB},
             "IMAP XOAUTH2 as alice with bob's valid token (email claim mismatch): same as expired."),
            ("imap_xoauth2_abort", "imap", "XOAUTH2", "expired", {"answer": "*"},
             "IMAP XOAUTH2, expired token, client cancels the exchange with '*': BAD."),
            ("imap_starttls_xoauth2_ok", "imap", "XOAUTH2", "valid", {"starttls": True},
             "IMAP STARTTLS, CAPABILITY again, XOAUTH2."),
            ("imap_starttls_oauthbearer_expired", "imap", "OAUTHBEARER", "expired", {"starttls": True},
             "IMAP STARTTLS then OAUTHBEARER with an expired token."),
            ("imaps_xoauth2_ok", "imaps", "XOAUTH2", "valid", {}, "IMAPS (implicit TLS) XOAUTH2."),
            ("imaps_oauthbearer_ok", "imaps", "OAUTHBEARER", "valid", {}, "IMAPS (implicit TLS) OAUTHBEARER."),
        ]:
            run.check("raw " + name, imap_auth, run, st, name, service, mech, kind, extra.get("ir", True), ALICE,
                      extra.get("token_user"), extra.get("answer"), extra.get("starttls", False), desc)
        run.check("raw imap_oauthbearer_no_authzid", imap_oauthbearer_no_user, run, st)
        for m in ("PLAIN", "LOGIN", "CMD"):
            run.check("raw imap password " + m, imap_password, run, st, m)
        run.check("raw imap login referral", imap_password_referral, run, st)

        run.check("raw pop3_capa", pop3_capa, run, st)
        for name, service, mech, kind, extra, desc in [
            ("pop3_xoauth2_ok", "pop3", "XOAUTH2", "valid", {}, "POP3 AUTH XOAUTH2 with the response inline."),
            ("pop3_xoauth2_ok_two_line", "pop3", "XOAUTH2", "valid", {"inline": False},
             "POP3 AUTH XOAUTH2, response on its own line after '+ '."),
            ("pop3_oauthbearer_ok", "pop3", "OAUTHBEARER", "valid", {}, "POP3 AUTH OAUTHBEARER inline."),
            ("pop3_xoauth2_expired", "pop3", "XOAUTH2", "expired", {},
             "POP3 XOAUTH2, expired token: error challenge, empty line, -ERR [AUTH]."),
            ("pop3_oauthbearer_expired", "pop3", "OAUTHBEARER", "expired", {},
             "POP3 OAUTHBEARER, expired token: error challenge, AQ==, -ERR [AUTH]."),
            ("pop3_xoauth2_abort", "pop3", "XOAUTH2", "expired", {"answer": "*"},
             "POP3 XOAUTH2, expired token, client cancels with '*'."),
            ("pop3_stls_xoauth2_ok", "pop3", "XOAUTH2", "valid", {"starttls": True}, "POP3 STLS, CAPA, XOAUTH2."),
            ("pop3s_xoauth2_ok", "pop3s", "XOAUTH2", "valid", {}, "POP3S (implicit TLS) XOAUTH2."),
            ("pop3s_oauthbearer_ok", "pop3s", "OAUTHBEARER", "valid", {}, "POP3S (implicit TLS) OAUTHBEARER."),
        ]:
            run.check("raw " + name, pop3_auth, run, st, name, service, mech, kind, extra.get("inline", True),
                      extra.get("answer"), extra.get("starttls", False), desc)
        for how in ("PLAIN", "USER"):
            run.check("raw pop3 password " + how, pop3_password, run, st, how)

        run.check("raw smtp_ehlo", smtp_ehlo, run, st)
        for name, service, mech, kind, extra, desc in [
            ("smtp_xoauth2_ok", "submission", "XOAUTH2", "valid", {}, "Submission AUTH XOAUTH2 with initial response."),
            ("smtp_xoauth2_ok_two_line", "submission", "XOAUTH2", "valid", {"inline": False},
             "Submission AUTH XOAUTH2, response after an empty 334."),
            ("smtp_oauthbearer_ok", "submission", "OAUTHBEARER", "valid", {},
             "Submission AUTH OAUTHBEARER with initial response."),
            ("smtp_xoauth2_expired", "submission", "XOAUTH2", "expired", {},
             "Submission XOAUTH2, expired token: 334 error challenge, empty line, 535 5.7.8."),
            ("smtp_oauthbearer_expired", "submission", "OAUTHBEARER", "expired", {},
             "Submission OAUTHBEARER, expired token: 334 error challenge, AQ==, 535 5.7.8."),
            ("smtp_xoauth2_abort", "submission", "XOAUTH2", "expired", {"answer": "*"},
             "Submission XOAUTH2, expired token, client cancels with '*': 501."),
            ("smtp_starttls_xoauth2_ok", "submission", "XOAUTH2", "valid", {"starttls": True},
             "Submission STARTTLS, EHLO again, XOAUTH2."),
            ("smtps_xoauth2_ok", "submissions", "XOAUTH2", "valid", {}, "Submissions (implicit TLS) XOAUTH2."),
            ("smtps_oauthbearer_ok", "submissions", "OAUTHBEARER", "valid", {},
             "Submissions (implicit TLS) OAUTHBEARER."),
            ("smtp_xoauth2_send", "submission", "XOAUTH2", "valid", {"send_mail": True},
             "Submission XOAUTH2 then a whole message, relayed to the harness's SMTP sink."),
        ]:
            run.check("raw " + name, smtp_auth, run, st, name, service, mech, kind, extra.get("inline", True),
                      extra.get("answer"), extra.get("starttls", False), extra.get("send_mail", False), desc)
        run.check("sink got the raw XOAUTH2 message", smtp_send_landed, st)
        for m in ("PLAIN", "LOGIN"):
            run.check("raw smtp password " + m, smtp_password, run, st, m)

        run.check("raw tlsonly imap 127.0.0.2->127.0.0.1", tlsonly_imap, run, st2, "127.0.0.1")
        run.check("raw tlsonly imap 127.0.0.2->127.0.0.2", tlsonly_imap, run, st2, "127.0.0.2")
        run.check("raw tlsonly pop3", tlsonly_pop3, run, st2)
        run.check("raw tlsonly smtp", tlsonly_smtp, run, st2)

        # --- stdlib clients: every protocol x TLS mode x mechanism, valid and expired ---
        for tls in ("plain", "starttls", "implicit"):
            for mech in ("XOAUTH2", "OAUTHBEARER"):
                for kind in ("valid", "expired"):
                    run.check("imaplib %s %s %s" % (tls, mech, kind), stdlib_imap, st, tls, mech, kind)
                    run.check("poplib %s %s %s" % (tls, mech, kind), stdlib_pop3, st, tls, mech, kind)
                    run.check("smtplib %s %s %s" % (tls, mech, kind), stdlib_smtp, st, tls, mech, kind,
                              kind == "valid")
        run.check("stdlib password logins", stdlib_password, st)
        run.check("tlsonly: imaplib STARTTLS + XOAUTH2 on the tlsonly instance", stdlib_imap, st2, "starttls",
                  "XOAUTH2", "valid")
        run.check("curl imaps/imap+ssl-reqd/pop3s/smtps with --oauth2-bearer", curl_checks, st)
    finally:
        if a.keep:
            print("kept running: %s %s" % (d_open, d_tls))
        else:
            for d, label in ((d_open, "open"), (d_tls, "tlsonly")):
                r, dt = harness("stop", "--dir", d)
                timings["stop %s" % label] = dt
                if r.returncode != 0:
                    print("stop failed: " + r.stderr)
                    run.failed.append("stop " + label)
            left = pgrep_for(d_open) + pgrep_for(d_tls)
            left += [l for l in subprocess.run(["pgrep", "-af", "dovecot-mailauth|smtp_sink"],
                                               stdout=subprocess.PIPE, text=True).stdout.splitlines()
                     if work in l or st["instance_name"] in l or st2["instance_name"] in l]
            if left:
                run.failed.append("processes left after stop: %s" % left)
            else:
                run.passed.append("nothing left running after stop")
            r, _ = harness("stop", "--dir", d_open)
            (run.passed if r.returncode == 0 else run.failed).append("stop is idempotent")

    if not a.keep:
        cycle_checks(run, work, a.cycles, timings)

    print()
    for k, v in timings.items():
        print("time  %-45s %s" % (k, ("%.3f s" % v) if isinstance(v, float) else v))
    if tdir:
        print("%s %d transcripts in %s" % ("wrote" if a.record else "matched", len(run.written), tdir))
    print("%d passed, %d failed" % (len(run.passed), len(run.failed)))
    for f in run.failed:
        print("  failed: " + f)
    if not run.failed and not a.keep and not a.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if run.failed else 0


def check_mint_cli(st, d):
    r = subprocess.run([PYTHON, HARNESS, "mint", "--dir", d, "--user", BOB], stdout=subprocess.PIPE, text=True)
    token = r.stdout.strip()
    header, claims, _ = token.split(".")
    eq(json.loads(base64.urlsafe_b64decode(header + "==")), {"alg": "HS256", "typ": "JWT"})
    c = json.loads(base64.urlsafe_b64decode(claims + "=="))
    eq(sorted(c), ["email", "exp", "iat", "iss", "nbf", "sub"])
    assert c["iat"] <= time.time() and c["nbf"] <= time.time() < c["exp"], c
    m = imaplib.IMAP4(st["host"], st["ports"]["imap"])
    eq(m.authenticate("XOAUTH2", lambda _: xoauth2(BOB, token))[0], "OK")
    m.logout()
    for extra in (["--exp-offset", "-5"], ["--bad-signature"], ["--issuer", "https://other.example.test"]):
        r = subprocess.run([PYTHON, HARNESS, "mint", "--dir", d, "--user", BOB] + extra, stdout=subprocess.PIPE,
                           text=True)
        bad = r.stdout.strip()
        m = imaplib.IMAP4(st["host"], st["ports"]["imap"])
        try:
            m.authenticate("XOAUTH2", SaslObj(xoauth2(BOB, bad)))
            raise AssertionError("minted token with %s accepted" % extra)
        except imaplib.IMAP4.error:
            pass
        m.logout()


def cycle_checks(run, work, cycles, timings):
    """`run` wrapper semantics, plus repeated start/stop timing."""
    d = os.path.join(work, "cycle")
    starts_, stops = [], []
    for _ in range(cycles):
        r, dt = harness("start", "--dir", d)
        if r.returncode != 0:
            run.failed.append("cycle start: " + r.stderr)
            return
        starts_.append(dt)
        r, dt = harness("stop", "--dir", d)
        stops.append(dt)
    if starts_:
        timings["start CLI wall (min/avg/max over %d)" % cycles] = "%.3f / %.3f / %.3f s" % (
            min(starts_), sum(starts_) / len(starts_), max(starts_))
        timings["stop CLI wall (min/avg/max over %d)" % cycles] = "%.3f / %.3f / %.3f s" % (
            min(stops), sum(stops) / len(stops), max(stops))

    # run: exit status passes through, env var set, stopped afterwards.
    probe = ("import json,os,sys,socket; s=json.load(open(os.environ['MAILAUTH_DOVECOT_STATE'])); "
             "assert s['ready']; c=socket.create_connection((s['host'], s['ports']['imap'])); "
             "sys.exit(int(c.recv(4).startswith(b'* OK')) * 7)")
    r, dt = harness("run", "--dir", d, "--", PYTHON, "-c", probe)
    (run.passed if r.returncode == 7 and not pgrep_for(d) else run.failed).append(
        "run passes the exit status through (%d) and stops" % r.returncode)
    timings["run wrapper total (start + trivial cmd + stop)"] = dt
    r, _ = harness("run", "--dir", d, "--", "false")
    (run.passed if r.returncode == 1 and not pgrep_for(d) else run.failed).append("run after failing command")

    # SIGTERM to run while the command is running: command gets it, servers are stopped.
    pr = subprocess.Popen([PYTHON, HARNESS, "run", "--dir", d, "--", "sleep", "30"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (json.load(open(os.path.join(d, "state.json")))
                                               if os.path.exists(os.path.join(d, "state.json")) else {}).get("ready"):
        time.sleep(0.05)
    time.sleep(0.2)
    pr.terminate()
    pr.wait(timeout=20)
    time.sleep(0.1)
    (run.passed if pr.returncode == 128 + 15 and not pgrep_for(d) else run.failed).append(
        "run on SIGTERM exits %d and stops" % pr.returncode)

    # SIGKILL to run: the watchdog stops the servers.
    pr = subprocess.Popen([PYTHON, HARNESS, "run", "--dir", d, "--", "sleep", "30"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        s = json.load(open(os.path.join(d, "state.json"))) if os.path.exists(os.path.join(d, "state.json")) else {}
        if s.get("ready") and os.path.exists(os.path.join(d, "watchdog.pid")):
            break
        time.sleep(0.05)
    time.sleep(0.3)
    test_cmd = [pid for pid, _ in children_of(pr.pid)]
    pr.kill()
    pr.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and [l for l in pgrep_for(d) if "sleep" not in l]:
        time.sleep(0.1)
    left = [l for l in pgrep_for(d) if "sleep" not in l]
    reap_children()  # the adopted Dovecot master, stopped by the watchdog
    (run.passed if not left else run.failed).append("watchdog stops the servers after run is SIGKILLed %s" % left)
    for pid in test_cmd:  # the orphaned `sleep 30`, by pid
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


if __name__ == "__main__":
    sys.exit(main())
