#!/usr/bin/python3
"""Real-server harness for mailauth's integration tests: a private Dovecot 2.3
(IMAP, POP3, submission) on loopback with OAuth 2.0 (JWT, HS256, local validation),
an SMTP sink behind submission, and a JWT minter.

  dovecot.py start --dir DIR [--variant open|tlsonly] [--timeout S] [--debug] [--introspection-url URL]
  dovecot.py stop  --dir DIR [--timeout S]
  dovecot.py mint  --dir DIR --user EMAIL [--exp-offset S] [--bad-signature] [--issuer X] [--sub X]
  dovecot.py run   --dir DIR [--variant V] -- CMD ARGS...

Everything lives under DIR (wiped by start); /etc/dovecot is never read. Needs root
(Dovecot drops to the dovecot/dovenull users). Exit status 77 = cannot run here
(not root, Dovecot missing): use it as ctest's SKIP_RETURN_CODE.
Standard library only; run it with /usr/bin/python3.
"""

import argparse
import base64
import grp
import hashlib
import hmac
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SINK = os.path.join(HERE, "smtp_sink.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
DOVECOT = shutil.which("dovecot", path="/usr/sbin:/usr/bin:/sbin:/bin") or "/usr/sbin/dovecot"
DH_FILE = "/usr/share/dovecot/dh.pem"

MARKER = ".mailauth-harness"
ISSUER = "https://issuer.mailauth.test"
HOSTNAME = "mail.example.test"
ADDRESSES = ("127.0.0.1", "127.0.0.2")
USERS = {"alice@example.test": "alice-password-1", "bob@example.test": "bob-password-2",
         "carol@example.test": "carol-password-3"}
# passwd-file extra fields: carol's mailbox is elsewhere, so a password login gets an IMAP login referral
# (RFC 2221): "NO [REFERRAL imap://carol%40example.test;AUTH=PLAIN@imap2.example.test/] Try this server instead."
EXTRA_FIELDS = {"carol@example.test": "nologin host=imap2.example.test"}
# service -> (protocol, implicit TLS)
SERVICES = {
    "imap": ("imap", False), "imaps": ("imap", True),
    "pop3": ("pop3", False), "pop3s": ("pop3", True),
    "submission": ("smtp", False), "submissions": ("smtp", True),
}
GREETING = {"imap": b"* OK", "pop3": b"+OK", "smtp": b"220 "}
GOODBYE = {"imap": b"x LOGOUT\r\n", "pop3": b"QUIT\r\n", "smtp": b"QUIT\r\n"}
EXIT_SKIP = 77
RUN_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


class HarnessError(Exception):
    pass


def log(msg):
    sys.stderr.write("harness: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------- paths & files

class Paths:
    def __init__(self, d):
        self.dir = os.path.abspath(d)
        j = lambda *p: os.path.join(self.dir, *p)
        self.marker = j(MARKER)
        self.conf = j("dovecot.conf")
        self.oauth2_conf = j("oauth2.conf.ext")
        self.passwd = j("users.passwd")
        self.keys = j("keys")
        self.hs256_key = j("keys", "default", "HS256", "default")
        self.tls = j("tls")
        self.cert = j("tls", "cert.pem")
        self.tls_key = j("tls", "key.pem")
        self.run = j("run")
        self.master_pid = j("run", "master.pid")
        self.state_dir = j("state")
        self.log = j("dovecot.log")
        self.start_log = j("dovecot.start.log")
        self.mail = j("mail")
        self.sink_dir = j("sink")
        self.sink_log = j("sink.log")
        self.sink_port = j("sink.port")
        self.sink_pid = j("sink.pid")
        self.watchdog_pid = j("watchdog.pid")
        self.state = j("state.json")


def write_file(path, data, mode=0o644, group=None):
    tmp = path + ".tmp"
    with open(tmp, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.chmod(tmp, mode)
    if group is not None:
        os.chown(tmp, 0, grp.getgrnam(group).gr_gid)
    os.replace(tmp, path)


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_state(p, state):
    write_file(p.state, json.dumps(state, indent=2, sort_keys=True) + "\n", 0o644)


def check_path_safe(d):
    if not re.fullmatch(r"[A-Za-z0-9_./+-]+", d):
        raise HarnessError("DIR %r: only [A-Za-z0-9_./+-] allowed (it goes into dovecot.conf)" % d)
    if os.path.realpath(d) in ("/", os.path.realpath(os.path.expanduser("~"))):
        raise HarnessError("refusing to use %s as DIR" % d)


def prepare_dir(p):
    """Wipe DIR (only if it is empty or ours) and recreate it, traversable by Dovecot's users."""
    check_path_safe(p.dir)
    if os.path.exists(p.dir):
        if not os.path.isdir(p.dir):
            raise HarnessError("%s exists and is not a directory" % p.dir)
        if os.listdir(p.dir) and not os.path.exists(p.marker):
            raise HarnessError("%s is not empty and was not made by this harness; refusing to wipe it" % p.dir)
        shutil.rmtree(p.dir)
    os.makedirs(p.dir)
    os.chmod(p.dir, 0o755)
    write_file(p.marker, "mailauth integration harness directory; wiped by dovecot.py start\n")
    # Every parent must be searchable by the unprivileged users, or auth cannot read its files.
    probe = subprocess.run(["test", "-x", p.dir], user="dovecot", group="dovecot", extra_groups=[])
    if probe.returncode != 0:
        raise HarnessError("user dovecot cannot reach %s (a parent directory is not o+x); choose another DIR"
                           % p.dir)


# ---------------------------------------------------------------- JWT

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def read_hs256_key(p):
    with open(p.hs256_key) as f:
        return base64.b64decode(f.read().strip(), validate=True)


def mint_token(key, user, exp_offset=3600, issuer=ISSUER, sub=None, now=None):
    """HS256 JWT (RFC 7519) with sub, email, iss, iat, nbf, exp; iat/nbf never in the future."""
    now = int(time.time()) if now is None else now
    exp = now + int(exp_offset)
    iat = min(now, exp - 3600) if exp <= now else now
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"sub": sub if sub is not None else user, "email": user, "iss": issuer,
              "iat": iat, "nbf": iat, "exp": exp}
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(claims, separators=(",", ":")).encode()))
    sig = hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + b64url(sig)


# ---------------------------------------------------------------- setup

def make_cert(p):
    os.makedirs(p.tls, mode=0o755, exist_ok=True)
    cmd = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
           "-nodes", "-sha256", "-days", "3650", "-subj", "/CN=localhost/O=mailauth test",
           "-keyout", p.tls_key, "-out", p.cert,
           "-addext", "subjectAltName=IP:127.0.0.1,IP:127.0.0.2,DNS:localhost",
           "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
           "-addext", "extendedKeyUsage=serverAuth"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise HarnessError("openssl req failed:\n" + r.stdout)
    os.chmod(p.tls_key, 0o600)
    os.chmod(p.cert, 0o644)


def pick_ports(names):
    """Free ports on every loopback address we listen on; all held until all are chosen."""
    held, ports = [], {}
    try:
        for name in names:
            for _ in range(50):
                s = socket.socket()
                held.append(s)
                s.bind((ADDRESSES[0], 0))
                port = s.getsockname()[1]
                try:
                    for addr in ADDRESSES[1:]:
                        t = socket.socket()
                        held.append(t)
                        t.bind((addr, port))
                except OSError:
                    continue
                ports[name] = port
                break
            else:
                raise HarnessError("could not find a free port")
    finally:
        for s in held:
            s.close()
    return ports


def oauth2_settings(p, debug, introspection_url=None):
    """The oauth2 passdb args file: local HS256 JWT validation, or RFC 7662 introspection by POST."""
    if introspection_url:
        # opaque tokens checked by the authorization server; an inactive answer fails the login
        lines = ["introspection_mode = post",
                 "introspection_url = %s" % introspection_url,
                 "active_attribute = active",
                 "active_value = true"]
    else:
        lines = ["introspection_mode = local",
                 "local_validation_key_dict = fs:posix:prefix=%s/" % p.keys,
                 "issuers = %s" % ISSUER]
    return "\n".join(["# generated by mailauth tests/integration/harness/dovecot.py"] + lines + [
        "username_attribute = email",
        "debug = %s" % ("yes" if debug else "no"),
        ""])


def redact_url(url):
    """The URL without its password (state.json is readable by everyone)."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = "%s:***@%s" % (parts.username, parts.netloc.rsplit("@", 1)[1])
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def write_config(p, ports, sink_port, variant, debug, introspection_url=None):
    key = secrets.token_bytes(32)
    os.makedirs(os.path.dirname(p.hs256_key))
    for d in (p.keys, os.path.join(p.keys, "default"), os.path.dirname(p.hs256_key)):
        os.chown(d, 0, grp.getgrnam("dovecot").gr_gid)
        os.chmod(d, 0o750)
    write_file(p.hs256_key, base64.b64encode(key).decode() + "\n", 0o640, "dovecot")

    write_file(p.passwd, "".join("%s:{PLAIN}%s::::::%s\n" % (u, pw, EXTRA_FIELDS.get(u, ""))
                                 for u, pw in sorted(USERS.items())), 0o640, "dovecot")

    write_file(p.oauth2_conf, oauth2_settings(p, debug, introspection_url), 0o640, "dovecot")

    os.makedirs(p.mail)
    os.chown(p.mail, pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid)
    os.chmod(p.mail, 0o700)

    instance = "dovecot-mailauth-" + hashlib.sha256(p.dir.encode()).hexdigest()[:10]
    conf = """# generated by mailauth tests/integration/harness/dovecot.py -- do not edit
# variant: {variant}
instance_name = {instance}
base_dir = {run}
state_dir = {state_dir}
log_path = {log}
info_log_path = {log}
debug_log_path = {log}
protocols = imap pop3 submission
listen = {listen}
hostname = {hostname}
default_internal_user = dovecot
default_login_user = dovenull

ssl = yes
ssl_cert = <{cert}
ssl_key = <{tls_key}
ssl_dh = <{dh}
disable_plaintext_auth = {dpa}

auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
auth_verbose = yes
auth_debug = {debug}
mail_max_userip_connections = 100
mail_home = {mail}/%u
mail_location = maildir:~/Maildir

passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {oauth2_conf}
}}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={mail}/%u allow_all_users=yes
}}

submission_relay_host = 127.0.0.1
submission_relay_port = {sink_port}
submission_backend_capabilities = 8BITMIME ENHANCEDSTATUSCODES PIPELINING SIZE

service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = {submission}
  }}
  inet_listener submissions {{
    port = {submissions}
    ssl = yes
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
""".format(variant=variant, instance=instance, run=p.run, state_dir=p.state_dir, log=p.log,
           listen=", ".join(ADDRESSES), hostname=HOSTNAME, cert=p.cert, tls_key=p.tls_key, dh=DH_FILE,
           dpa="yes" if variant == "tlsonly" else "no", debug="yes" if debug else "no",
           mail=p.mail, oauth2_conf=p.oauth2_conf, passwd=p.passwd, sink_port=sink_port, **ports)
    write_file(p.conf, conf, 0o644)
    return instance, key


# ---------------------------------------------------------------- processes

def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return None


def proc_stat(pid):
    """(ppid, starttime, state) or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return int(rest[1]), int(rest[19]), rest[0]
    except (OSError, IndexError, ValueError):
        return None


def alive(pid, starttime=None):
    st = proc_stat(pid)
    if st is None or st[2] == "Z":
        return False
    return starttime is None or st[1] == starttime


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def children_of(pid):
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st and st[0] == pid:
                out.append((int(name), st[1]))
    return out


def is_our_master(pid, p):
    cmd = proc_cmdline(pid)
    return bool(cmd) and os.path.basename(cmd[0].decode(errors="replace")).startswith("dovecot") \
        and p.conf.encode() in cmd


def is_our_sink(pid, p):
    cmd = proc_cmdline(pid)
    return bool(cmd) and any(c.endswith(b"smtp_sink.py") for c in cmd) and p.sink_dir.encode() in cmd


def log_tail(path, n=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no %s)\n" % path


def spawn_sink(p):
    with open(p.sink_log, "ab") as out:
        proc = subprocess.Popen([PYTHON, SINK, "--dir", p.sink_dir, "--port-file", p.sink_port],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
    write_file(p.sink_pid, "%d\n" % proc.pid)
    return proc


def wait_sink(p, proc):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        port = read_pid(p.sink_port)
        if port:
            return proc.pid, port
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    raise HarnessError("SMTP sink did not start:\n" + log_tail(p.sink_log))


def probe_greeting(port, proto, implicit_tls, ctx, timeout, addr=ADDRESSES[0]):
    """True once the service sends its greeting (not just accepts: see real-servers notes)."""
    try:
        with socket.create_connection((addr, port), timeout=timeout) as raw:
            s = ctx.wrap_socket(raw, server_hostname=addr) if implicit_tls else raw
            buf = b""
            while b"\n" not in buf and len(buf) < 4096:
                chunk = s.recv(4096)
                if not chunk:
                    return False
                buf += chunk
            if not buf.startswith(GREETING[proto]):
                return False
            try:
                s.sendall(GOODBYE[proto])
            except OSError:
                pass
            return True
    except (OSError, ssl.SSLError):
        return False


def wait_ready(p, ports, master_pid, deadline):
    ctx = ssl.create_default_context(cafile=p.cert)
    pending = dict(SERVICES)
    while pending:
        for name, (proto, tls) in list(pending.items()):
            left = deadline - time.monotonic()
            if probe_greeting(ports[name], proto, tls, ctx, max(0.05, min(2.0, left))):
                del pending[name]
        if not pending:
            break
        if not alive(master_pid):
            raise HarnessError("dovecot master exited during start-up; %s:\n%s" % (p.log, log_tail(p.log)))
        if time.monotonic() > deadline:
            raise HarnessError("no greeting within the timeout from: %s; %s:\n%s"
                               % (", ".join(sorted(pending)), p.log, log_tail(p.log)))
        time.sleep(0.05)


def start_dovecot(p):
    with open(p.start_log, "ab") as out:
        # Output to a file, never a pipe: the daemon must not hold the caller's (ctest's) pipes.
        r = subprocess.run([DOVECOT, "-c", p.conf], stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                           timeout=60)
    if r.returncode != 0:
        text = log_tail(p.start_log) + log_tail(p.log)
        raise HarnessError("dovecot exited with %d:\n%s" % (r.returncode, text))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pid = read_pid(p.master_pid)
        if pid and alive(pid):
            return pid
        time.sleep(0.02)
    raise HarnessError("no master pid in %s" % p.master_pid)


def dovecot_version():
    try:
        return subprocess.run([DOVECOT, "--version"], stdout=subprocess.PIPE, text=True).stdout.split()[0]
    except (OSError, IndexError):
        return "unknown"


def check_can_run():
    if os.geteuid() != 0:
        return "must run as root (Dovecot drops privileges to dovecot/dovenull)"
    if not os.path.exists(DOVECOT):
        return "dovecot not installed (apt-get install dovecot-imapd dovecot-pop3d dovecot-submissiond)"
    for svc in ("imap-login", "pop3-login", "submission-login"):
        if not os.path.exists("/usr/lib/dovecot/" + svc):
            return "/usr/lib/dovecot/%s missing (dovecot-imapd/-pop3d/-submissiond)" % svc
    if not shutil.which("openssl"):
        return "openssl CLI missing"
    for u in ("dovecot", "dovenull", "nobody"):
        try:
            pwd.getpwnam(u)
        except KeyError:
            return "user %s missing" % u
    return None


def start(d, variant="open", timeout=30.0, debug=False, introspection_url=None):
    """Start sink + Dovecot under d; returns the state dict."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    p = Paths(d)
    check_path_safe(p.dir)
    if os.path.exists(p.marker):
        stop(d, quiet=True)
    phases = {}
    mark = [t0]

    def phase(name):
        now_ = time.monotonic()
        phases[name] = round(now_ - mark[0], 3)
        mark[0] = now_

    prepare_dir(p)
    master = None
    try:
        sink = spawn_sink(p)  # it starts while the cert is made
        make_cert(p)
        phase("dir_and_cert")
        sink_pid, sink_port = wait_sink(p, sink)
        phase("sink")
        state = {"ready": False, "dir": p.dir, "variant": variant,
                 "pids": {"sink": sink_pid, "dovecot": None}}
        write_state(p, state)
        ports = pick_ports(SERVICES)
        instance, key = write_config(p, ports, sink_port, variant, debug, introspection_url)
        for attempt in range(3):
            if attempt:  # another process took one of the ports between pick and bind
                ports = pick_ports(SERVICES)
                rewrite_ports(p, ports)
            try:
                master = start_dovecot(p)
                break
            except HarnessError as e:
                if "in use" not in str(e) or attempt == 2:
                    raise
                log("port clash, retrying with new ports")
        phase("config_and_dovecot_exec")
        state["pids"]["dovecot"] = master
        write_state(p, state)
        wait_ready(p, ports, master, deadline)
        phase("greetings")
    except BaseException:
        stop(d, quiet=True)
        raise
    ready_s = time.monotonic() - t0
    now = int(time.time())
    tokens = {}
    for user in sorted(USERS):
        tokens[user] = {
            "valid": mint_token(key, user, 4 * 3600, now=now),
            "expired": mint_token(key, user, -600, now=now),
            "bad_signature": mint_token(secrets.token_bytes(32), user, 4 * 3600, now=now),
            "wrong_issuer": mint_token(key, user, 4 * 3600, issuer="https://evil.example.test", now=now),
        }
    ports_all = dict(ports, sink=sink_port)
    state.update({
        "ready": True,
        "dovecot_version": dovecot_version(),
        "instance_name": instance,
        "config": p.conf,
        "log": p.log,
        "host": ADDRESSES[0],
        "addresses": list(ADDRESSES),
        "hostname": HOSTNAME,
        "ports": ports_all,
        "services": {n: {"protocol": proto, "port": ports[n], "tls": "implicit" if tls else "starttls"}
                     for n, (proto, tls) in SERVICES.items()},
        "tls": {"ca_file": p.cert, "cert_file": p.cert, "key_file": p.tls_key,
                "server_names": ["127.0.0.1", "127.0.0.2", "localhost"]},
        "oauth2": {"issuer": ISSUER, "alg": "HS256", "key_file": p.hs256_key,
                   "key_b64": base64.b64encode(key).decode(), "username_attribute": "email",
                   "tokens_minted_at": now, "tokens_valid_for": 4 * 3600},
        "key_file": p.hs256_key,
        "users": dict(USERS),
        "tokens": tokens,
        "sink_dir": p.sink_dir,
        # A client bound to 127.0.0.2 talking to 127.0.0.1 is "insecure" to Dovecot
        # (remote IP != local IP); loopback to the same address counts as secure.
        "insecure_client": {"bind": "127.0.0.2", "connect": "127.0.0.1"},
        "plaintext_auth_disabled": variant == "tlsonly",
        "startup_seconds": round(ready_s, 3),
        "startup_phases": phases,
    })
    if introspection_url:
        # The minted JWTs above do not log in then: only tokens the introspection endpoint calls active do.
        state["oauth2"] = {"introspection_mode": "post", "introspection_url": redact_url(introspection_url),
                           "username_attribute": "email"}
    write_state(p, state)
    return state


def rewrite_ports(p, ports):
    with open(p.conf) as f:
        text = f.read()
    for name, port in ports.items():
        text = re.sub(r"(inet_listener %s \{\n    port = )\d+" % name, r"\g<1>%d" % port, text)
    write_file(p.conf, text, 0o644)


def terminate(procs, timeout):
    """SIGTERM the (pid, starttime) list, wait, SIGKILL leftovers; True if all gone in time."""
    for pid, st in procs:
        if alive(pid, st):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(pid, st) for pid, st in procs):
            return True
        time.sleep(0.02)
    for pid, st in procs:
        if alive(pid, st):
            log("pid %d did not exit after SIGTERM; SIGKILL" % pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(pid, st) for pid, st in procs):
        time.sleep(0.02)
    return False


def stop(d, timeout=10.0, quiet=False):
    """Stop Dovecot and the sink of d. Idempotent. Returns the number of processes stopped."""
    p = Paths(d)
    state = read_json(p.state) or {}
    pids = state.get("pids") or {}
    master = pids.get("dovecot") or read_pid(p.master_pid)
    sink = pids.get("sink") or read_pid(p.sink_pid)
    procs = []
    if master and alive(master) and is_our_master(master, p):
        st = proc_stat(master)
        procs.append((master, st[1]))
        procs.extend(children_of(master))  # they outlive the master briefly; wait for them too
    if sink and alive(sink) and is_our_sink(sink, p):
        procs.append((sink, proc_stat(sink)[1]))
    if not procs:
        if not quiet:
            log("nothing running for %s" % p.dir)
    else:
        terminate(procs, timeout)
    wd = read_pid(p.watchdog_pid)
    if wd and wd != os.getpid() and alive(wd):
        cmd = proc_cmdline(wd) or []
        if b"_watchdog" in cmd and p.dir.encode() in cmd:
            terminate([(wd, proc_stat(wd)[1])], 2.0)
    if state:
        state["ready"] = False
        state["pids"] = {"dovecot": None, "sink": None}
        try:
            write_state(p, state)
        except OSError:
            pass
    return len(procs)


def set_subreaper(on):
    """PR_SET_CHILD_SUBREAPER: orphans of our descendants (the daemonised Dovecot master)
    become our children, so we can reap them instead of leaving them to PID 1."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1 if on else 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_children():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


# ---------------------------------------------------------------- watchdog

def spawn_watchdog(d, parent):
    """Detached process that stops d if `parent` dies without cleaning up (e.g. SIGKILL by a test timeout)."""
    p = Paths(d)
    proc = subprocess.Popen([PYTHON, os.path.abspath(__file__), "_watchdog", "--dir", p.dir,
                             "--parent", str(parent)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and read_pid(p.watchdog_pid) is None:
        time.sleep(0.01)  # armed before the command runs, so stop() can always find it
    return proc


def cmd_watchdog(a):
    # Double-fork so that a killer walking the parent's process tree does not take us along.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, RUN_SIGNALS)  # inherited blocked from `run`
    if os.fork():
        os._exit(0)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    p = Paths(a.dir)
    write_file(p.watchdog_pid, "%d\n" % os.getpid())
    watched = (read_json(p.state) or {}).get("pids")
    parent_st = proc_stat(a.parent)
    while parent_st is not None and alive(a.parent, parent_st[1]):
        time.sleep(0.5)
    # Only clean up the very instance we were started for, not a later one in the same DIR.
    if watched and (read_json(p.state) or {}).get("pids") == watched:
        stop(a.dir, quiet=True)
    return 0


# ---------------------------------------------------------------- CLI

def cmd_start(a):
    state = start(a.dir, a.variant, a.timeout, a.debug, a.introspection_url)
    log("ready in %.3f s: %s" % (state["startup_seconds"],
                                 " ".join("%s=%d" % kv for kv in sorted(state["ports"].items()))))
    print(Paths(a.dir).state)
    return 0


def cmd_stop(a):
    t0 = time.monotonic()
    n = stop(a.dir, a.timeout)
    if n:
        log("stopped %d processes in %.3f s" % (n, time.monotonic() - t0))
    return 0


def cmd_mint(a):
    p = Paths(a.dir)
    try:
        key = secrets.token_bytes(32) if a.bad_signature else read_hs256_key(p)
    except (OSError, ValueError) as e:
        raise HarnessError("no HS256 key under %s (start it first): %s" % (p.dir, e))
    print(mint_token(key, a.user, a.exp_offset, a.issuer, a.sub))
    return 0


class Interrupted(Exception):
    def __init__(self, signum):
        super().__init__("signal %d" % signum)
        self.signum = signum


def cmd_run(a):
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        raise HarnessError("run: no command given (dovecot.py run --dir DIR -- CMD ...)")
    child = None
    got = []

    def on_signal(signum, _frame):
        got.append(signum)
        if child is not None and child.poll() is None:
            try:
                child.send_signal(signum)
            except ProcessLookupError:
                pass
        else:
            raise Interrupted(signum)

    for s in RUN_SIGNALS:
        signal.signal(s, on_signal)
    watchdog = None
    try:
        set_subreaper(True)
        state = start(a.dir, a.variant, a.timeout, a.debug, a.introspection_url)
        set_subreaper(False)  # the watchdog's orphan must go to init, out of our process tree
        # Signals wait until the watchdog has registered itself, so stop() always finds it.
        signal.pthread_sigmask(signal.SIG_BLOCK, RUN_SIGNALS)
        try:
            watchdog = spawn_watchdog(a.dir, os.getpid())
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, RUN_SIGNALS)
        log("ready in %.3f s; running %s" % (state["startup_seconds"], " ".join(cmd)))
        env = dict(os.environ, MAILAUTH_DOVECOT_STATE=Paths(a.dir).state, MAILAUTH_DOVECOT_DIR=Paths(a.dir).dir)
        try:
            child = subprocess.Popen(cmd, env=env)
        except OSError as e:
            raise HarnessError("cannot run %s: %s" % (cmd[0], e))
        while True:
            try:
                rc = child.wait()
                break
            except Interrupted:
                continue
    except Interrupted as e:
        log("interrupted by signal %d during start-up" % e.signum)
        rc = 128 + e.signum
    finally:
        for s in RUN_SIGNALS:
            signal.signal(s, signal.SIG_IGN)
        t0 = time.monotonic()
        stop(a.dir, quiet=True)
        log("stopped in %.3f s" % (time.monotonic() - t0))
        if watchdog is not None:
            watchdog.wait()  # the first fork exits at once; reap it
        reap_children()  # Dovecot master (adopted as subreaper) and the sink
    if rc < 0:
        rc = 128 - rc
    return rc


def main(argv=None):
    ap = argparse.ArgumentParser(description="Dovecot harness for mailauth integration tests")
    sub = ap.add_subparsers(dest="command", required=True)

    def common(sp, variant=True):
        sp.add_argument("--dir", required=True)
        if variant:
            sp.add_argument("--variant", choices=("open", "tlsonly"), default="open")
            sp.add_argument("--timeout", type=float, default=30.0, help="start-up timeout in seconds")
            sp.add_argument("--debug", action="store_true", help="auth_debug and oauth2 debug in the log")
            sp.add_argument("--introspection-url", metavar="URL",
                            help="oauth2 passdb: introspection_mode = post against URL "
                                 "(http://client:secret@host:port/path) instead of local HS256 JWTs")

    common(sub.add_parser("start", help="start sink + dovecot under DIR, write DIR/state.json"))
    sp = sub.add_parser("stop", help="stop what start started (idempotent)")
    sp.add_argument("--dir", required=True)
    sp.add_argument("--timeout", type=float, default=10.0, help="SIGKILL after this many seconds")
    sp = sub.add_parser("mint", help="print an HS256 JWT for DIR's key")
    sp.add_argument("--dir", required=True)
    sp.add_argument("--user", required=True, help="email claim (and default sub)")
    sp.add_argument("--exp-offset", type=int, default=3600, help="exp = now + this (negative: expired)")
    sp.add_argument("--bad-signature", action="store_true", help="sign with a random key")
    sp.add_argument("--issuer", default=ISSUER)
    sp.add_argument("--sub")
    sp = sub.add_parser("run", help="start, run CMD with MAILAUTH_DOVECOT_STATE set, always stop")
    common(sp)
    sp.add_argument("cmd", nargs=argparse.REMAINDER)
    sp = sub.add_parser("_watchdog")
    sp.add_argument("--dir", required=True)
    sp.add_argument("--parent", type=int, required=True)
    a = ap.parse_args(argv)

    if a.command in ("start", "run", "stop"):
        why = check_can_run()
        if why:
            log("SKIP: " + why)
            return EXIT_SKIP
    try:
        return {"start": cmd_start, "stop": cmd_stop, "mint": cmd_mint, "run": cmd_run,
                "_watchdog": cmd_watchdog}[a.command](a)
    except HarnessError as e:
        log("error: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
