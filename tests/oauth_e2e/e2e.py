#!/usr/bin/env python3
"""End-to-end tests of mailauth-token against a real OAuth 2.0 authorization server (oidc-provider, npm).

    e2e.py setup --source-dir SRC --dir DIR            npm ci into DIR/server from the committed lock file
    e2e.py run GROUP --dir DIR --tool PATH [--work-prefix P] [--select REGEX]
                                                       start the server, run one group of tests, stop it
    e2e.py serve --dir DIR                             run the server in the foreground (manual use)

Groups: client_credentials refresh auth_code device store introspection tls (or "all").
Everything runs on 127.0.0.1; the server is a child that exits when this driver's pipe to it closes.
MAILAUTH_EXAMPLE_WRAPPER (e.g. "valgrind --error-exitcode=99 -q"), when set, is put before every run of
mailauth-token (not of node, openssl or gdb), and the waits for the tool are scaled by
MAILAUTH_EXAMPLE_TIMEOUT_SCALE (default 10 with a wrapper).
Python 3 standard library only.
"""

import argparse
import base64
import hashlib
import html.parser
import http.cookiejar
import json
import os
import queue
import re
import shlex
import shutil
import signal
import ssl
import stat
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER_FILES = ("package.json", "package-lock.json", "server.mjs")
USER = "alice@example.test"
MAIL_SCOPE = "openid offline_access mail"


# The command prefix for the example programs (mailauth-token, mailauth-probe), e.g. valgrind; empty when unset.
EXAMPLE_WRAPPER = shlex.split(os.environ.get("MAILAUTH_EXAMPLE_WRAPPER", ""))
# How much longer a wrapped example may take (valgrind is 20-50x slower on CPU; these programs mostly wait).
TIMEOUT_SCALE = int(os.environ.get("MAILAUTH_EXAMPLE_TIMEOUT_SCALE") or 10) if EXAMPLE_WRAPPER else 1
# The exit code by which the wrapper (valgrind --error-exitcode=N) reports a memory error or a leak.
WRAPPER_ERROR_EXIT = next((int(w.split("=", 1)[1]) for w in EXAMPLE_WRAPPER if w.startswith("--error-exitcode=")),
                          None)


def example_command(program, args):
    """The argv that runs an example program: MAILAUTH_EXAMPLE_WRAPPER's words, the program, its arguments."""
    return EXAMPLE_WRAPPER + [program] + list(args)


def check_wrapper_exit(rc, stderr, what):
    """Fails the test when the wrapper reported an error (whatever exit code the test itself expects)."""
    if WRAPPER_ERROR_EXIT is not None and rc == WRAPPER_ERROR_EXIT:
        raise AssertionError(f"{os.path.basename(EXAMPLE_WRAPPER[0])} reported errors (exit {rc}) in {what}:\n"
                             + stderr)


class Skip(Exception):
    """A test that cannot run here (a missing optional tool); reported, not failed."""


# ---- setup: npm ci into the build directory -----------------------------------------------------------------

def pinned_version(package_json):
    with open(package_json) as f:
        return json.load(f)["dependencies"]["oidc-provider"]


def setup(args):
    server_dir = os.path.join(args.dir, "server")
    os.makedirs(server_dir, exist_ok=True)
    for name in SERVER_FILES:
        install_file(os.path.join(args.source_dir, name), os.path.join(server_dir, name))
    node = shutil.which(args.node or "node")
    npm = shutil.which(args.npm or "npm")
    if not node or not npm:
        print("node and npm are needed (Node.js 20 or later)", file=sys.stderr)
        return 1
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(server_dir, "package-lock.json"), "rb") as f:
        stamp = hashlib.sha256(f.read()).hexdigest() + " " + node_version
    stamp_file = os.path.join(server_dir, "node_modules", ".mailauth-npm-stamp")
    want = pinned_version(os.path.join(server_dir, "package.json"))
    installed_pkg = os.path.join(server_dir, "node_modules", "oidc-provider", "package.json")
    if os.path.exists(stamp_file) and open(stamp_file).read() == stamp and os.path.exists(installed_pkg):
        print(f"oidc-provider {want} already installed in {server_dir} (lock file unchanged)")
    else:
        started = time.monotonic()
        cmd = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=warn"]
        print("+", " ".join(cmd), f"(in {server_dir})", flush=True)
        subprocess.run(cmd, cwd=server_dir, check=True, timeout=600)
        with open(stamp_file, "w") as f:
            f.write(stamp)
        print(f"npm ci took {time.monotonic() - started:.1f} s")
    with open(installed_pkg) as f:
        got = json.load(f)["version"]
    if got != want:
        print(f"installed oidc-provider {got}, but package.json pins {want}", file=sys.stderr)
        return 1
    print(f"oidc-provider {got} on Node.js {node_version}")
    return 0


# ---- the authorization server -----------------------------------------------------------------------------

class Server:
    """oidc-provider in a child process on 127.0.0.1:<free port>; stopped by stop(), or when we die."""

    def __init__(self, base_dir, state_dir, node="node", device_interval=1, tls=None):
        self.tls = tls  # (cert, key) PEM files: serve https
        self.server_dir = os.path.join(base_dir, "server")
        self.state_dir = state_dir
        self.node = node
        self.device_interval = device_interval
        self.proc = None
        self.issuer = None
        self.log_path = os.path.join(state_dir, "server.log")

    def start(self, timeout=30):
        # The script must sit beside node_modules (ES module resolution): put the current one there, atomically
        # (groups running in parallel may start their servers at the same moment).
        install_file(os.path.join(HERE, "server.mjs"), os.path.join(self.server_dir, "server.mjs"))
        if not os.path.isdir(os.path.join(self.server_dir, "node_modules", "oidc-provider")):
            raise RuntimeError(f"oidc-provider is not installed in {self.server_dir}: run e2e.py setup first")
        os.makedirs(self.state_dir, exist_ok=True)
        log = open(self.log_path, "ab")
        started = time.monotonic()
        cmd = [self.node, "server.mjs", "--state-dir", self.state_dir, "--device-interval", str(self.device_interval)]
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
            global HTTPS_CONTEXT
            HTTPS_CONTEXT = ssl.create_default_context(cafile=self.tls[0])
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.server_dir, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        log.close()
        lines = queue.Queue()

        def pump():
            with open(self.log_path, "ab") as out:
                for raw in self.proc.stdout:
                    lines.put(raw)
                    out.write(raw)
                    out.flush()
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while self.issuer is None:
            try:
                raw = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raw = None
            if raw is None:
                self.stop()
                raise RuntimeError(f"oidc-provider did not become ready; see {self.log_path}:\n" + tail(self.log_path))
            try:
                msg = json.loads(raw)
            except ValueError:
                continue  # oidc-provider's own notices
            if isinstance(msg, dict) and msg.get("ready"):
                self.issuer = msg["issuer"]
        # Ready means answering HTTP, not only listening.
        while True:
            try:
                if http_json("GET", self.issuer + "/test/health")[1].get("ok"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("oidc-provider does not answer /test/health")
            time.sleep(0.05)
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self):
        p, self.proc = self.proc, None
        if p is None:
            return
        try:
            p.stdin.close()  # the server exits when its stdin closes
        except OSError:
            pass
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def token_endpoint(self):
        return self.issuer + "/token"

    def secrets(self):
        with open(os.path.join(self.state_dir, "secrets.json")) as f:
            return json.load(f)

    def key(self, name):
        return os.path.join(self.state_dir, "keys", name + ".pem")

    def token_log(self):
        return http_json("GET", self.issuer + "/test/token_log")[1]["requests"]

    def introspect(self, token):
        basic = "Basic " + base64.b64encode(
            ("dovecot:" + urllib.parse.quote_plus(self.secrets()["dovecot"])).encode()).decode()
        return http_json("POST", self.issuer + "/token/introspection", {"token": token},
                         headers={"Authorization": basic})[1]


def install_file(src, dst):
    with open(src, "rb") as f:
        data = f.read()
    try:
        with open(dst, "rb") as f:
            if f.read() == data:
                return
    except OSError:
        pass
    tmp = f"{dst}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, dst)


def tail(path, n=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


# ---- HTTP helpers -----------------------------------------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


HTTPS_CONTEXT = None  # trusts the test server's self-signed certificate in the tls group


def http_json(method, url, form=None, headers=None, timeout=10):
    body = urllib.parse.urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPSHandler(context=HTTPS_CONTEXT))
    try:
        with opener.open(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        data = e.read()
        try:
            return e.code, json.loads(data)
        except ValueError:
            return e.code, {"raw": data.decode(errors="replace")}


class _Forms(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []
        self.links = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "method": (a.get("method") or "get").lower(), "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])


class Browser:
    """Walks the server's pages like a user: cookies, redirects, forms (login, consent, device confirm)."""

    def __init__(self, login=USER):
        self.login = login
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)
        self.pages = []

    def request(self, method, url, form=None):
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(url, data=body, method=method)
        try:
            with self.opener.open(req, timeout=15) as r:
                return r.status, r.headers, r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode(errors="replace")

    def walk(self, url, stop_prefix=None, deny=False, max_steps=25):
        """Follows the flow from `url`. With stop_prefix, the redirect to it is fetched (it lands at the app's
        loopback listener) and its (status, body) returned; otherwise the final page without a form is."""
        method, form = "GET", None
        aborted = False
        for _ in range(max_steps):
            if stop_prefix and url.startswith(stop_prefix):
                status, _, body = self.request("GET", url)
                self.pages.append((status, url))
                return status, body
            status, headers, body = self.request(method, url, form)
            self.pages.append((status, url))
            if status in (301, 302, 303, 307, 308):
                url, method, form = urllib.parse.urljoin(url, headers["Location"]), "GET", None
                continue
            if status >= 400 or aborted:
                return status, body
            parsed = _Forms()
            parsed.feed(body)
            path = urllib.parse.urlparse(url).path
            if deny and re.fullmatch(r"/interaction/[^/]+", path):
                url, method, form = url.rstrip("/") + "/abort", "GET", None  # devInteractions' cancel link
                continue
            if not parsed.forms:
                return status, body
            f = parsed.forms[0]
            fields = dict(f["fields"])
            if "login" in fields:
                fields["login"] = self.login
            if "password" in fields:
                fields["password"] = "any password"
            if deny and "confirm" in fields:
                del fields["confirm"]
                fields["abort"] = "yes"
                aborted = True  # the server answers with its "aborted" page (and a fresh code form)
            url, method, form = urllib.parse.urljoin(url, f["action"]), f["method"].upper(), fields
        raise AssertionError("too many steps walking the pages: " + repr(self.pages[-5:]))


# ---- the tool ---------------------------------------------------------------------------------------------

class ToolRun:
    """mailauth-token in a child process; stdout JSON lines and stderr collected as they come."""

    def __init__(self, ctx, args):
        self.ctx = ctx
        self.args = args
        self.proc = subprocess.Popen(example_command(ctx.tool, args), cwd=ctx.work, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.stdout_lines = []
        self.stderr_lines = []
        self.events = queue.Queue()
        self._threads = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.stdout_lines, True), daemon=True),
                         threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr_lines, False), daemon=True)]
        for t in self._threads:
            t.start()
        self.rc = None

    def _pump(self, stream, sink, parse):
        for raw in stream:
            line = raw.decode(errors="replace")
            sink.append(line)
            if parse:
                try:
                    self.events.put(json.loads(line))
                except ValueError:
                    pass

    def event(self, name, timeout=20):
        timeout *= TIMEOUT_SCALE
        deadline = time.monotonic() + timeout
        while True:
            try:
                ev = self.events.get(timeout=max(0.05, min(0.5, deadline - time.monotonic())))
            except queue.Empty:
                # A tool that has exited (and whose output is all read) sends no more events: fail now, not after
                # the (scaled) timeout.
                gone = self.proc.poll() is not None and not any(t.is_alive() for t in self._threads)
                if gone or time.monotonic() >= deadline:
                    why = f"exited ({self.proc.returncode}) without" if gone else f"in {timeout} s no"
                    raise AssertionError(f"mailauth-token {why} '{name}' event; stderr:\n{self.stderr}")
                continue
            if ev.get("event") == name:
                return ev
            if "result" in ev:
                raise AssertionError(f"mailauth-token finished before '{name}': {ev}; stderr:\n{self.stderr}")

    def wait(self, timeout=60):
        timeout *= TIMEOUT_SCALE
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"mailauth-token {' '.join(self.args[:1])} did not finish in {timeout} s")
        for t in self._threads:
            t.join(5)
        self.ctx.outputs.append(self.stdout + self.stderr)
        check_wrapper_exit(self.rc, self.stderr, "mailauth-token " + " ".join(self.args[:1]))
        self.ctx.collect_store_secrets()
        return self

    @property
    def stdout(self):
        return "".join(self.stdout_lines)

    @property
    def stderr(self):
        return "".join(self.stderr_lines)

    @property
    def result(self):
        for line in reversed(self.stdout_lines):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if "result" in obj:
                return obj
        raise AssertionError(f"no JSON result line; stdout:\n{self.stdout}\nstderr:\n{self.stderr}")


class Context:
    def __init__(self, server, tool, work):
        self.server = server
        self.tool = tool
        self.work = work
        self.outputs = []   # everything the tool printed
        self.secrets = set()  # every client secret and token we know of
        self.secrets.update(v for v in server.secrets().values())

    def path(self, name):
        return os.path.join(self.work, name)

    def secret_file(self, client):
        p = self.path(client + ".secret")
        with open(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(self.server.secrets()[client] + "\n")
        return p

    def start(self, *args):
        return ToolRun(self, list(args))

    def run(self, *args, expect=None, timeout=60):
        r = ToolRun(self, list(args)).wait(timeout)
        if expect is not None and r.rc != expect:
            raise AssertionError(f"mailauth-token {' '.join(args)}: exit {r.rc}, expected {expect}\n"
                                 f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}")
        return r

    def collect_store_secrets(self):
        for name in os.listdir(self.work):
            if name.endswith(".json"):
                try:
                    data = read_store(os.path.join(self.work, name))
                except (OSError, ValueError):
                    continue
                for k in ("access_token", "refresh_token"):
                    if data.get(k):
                        self.secrets.add(data[k])

    def assert_no_secret_in_output(self):
        self.collect_store_secrets()
        assert len(self.secrets) > 3, "too few secrets known to check against"
        for out in self.outputs:
            for s in self.secrets:
                if s and s in out:
                    raise AssertionError(f"a token or client secret appears in the tool's output: ...{out[:200]}")
        return f"{len(self.outputs)} runs checked against {len(self.secrets)} tokens and secrets"


def read_store(path):
    with open(path) as f:
        return json.load(f)


def check_store(path):
    """The store is a 0600 regular file with our format, and no temporary file is left beside it."""
    st = os.lstat(path)
    assert stat.S_ISREG(st.st_mode), f"{path} is not a regular file"
    assert stat.S_IMODE(st.st_mode) == 0o600, f"{path} has mode {oct(stat.S_IMODE(st.st_mode))}, not 0600"
    data = read_store(path)
    assert data["format"] == "mailauth-token-store/1", data.get("format")
    d, base = os.path.split(path)
    leftovers = [n for n in os.listdir(d or ".") if n.startswith("." + base + ".tmp-")]
    assert not leftovers, f"temporary files left: {leftovers}"
    lock = path + ".lock"
    if os.path.exists(lock):
        assert stat.S_IMODE(os.stat(lock).st_mode) == 0o600, "lock file mode"
    return data


def expect_error(r, error, exit_code=1, http_status=None):
    res = r.result
    assert r.rc == exit_code, f"exit {r.rc}, expected {exit_code}: {res}\n{r.stderr}"
    assert res["result"] == "error", res
    if error is not None:
        assert res.get("error") == error, f"error {res.get('error')!r}, expected {error!r}: {res}"
    if http_status is not None:
        assert res.get("http_status") == http_status, res
    return res


# ---- flows shared by several groups --------------------------------------------------------------------------

def auth_code(ctx, store, client="app", scope=MAIL_SCOPE, extra=(), deny=False, prompt="consent", secret=True):
    """Runs `mailauth-token auth-code` and walks the login and consent pages to the loopback redirect."""
    s = ctx.server
    args = ["auth-code", "--json", "--store", store, "--client-id", client, "--scope", scope,
            "--authorize-endpoint", s.issuer + "/auth", "--token-endpoint", s.token_endpoint, "--wait", "30"]
    if secret:
        args += ["--client-secret-file", ctx.secret_file(client)]
    if prompt:
        args += ["--prompt", prompt]
    run = ctx.start(*(args + list(extra)))
    ev = run.event("authorize")
    browser = Browser()
    landing = browser.walk(ev["url"], stop_prefix=ev["redirect_uri"], deny=deny)
    for _, url in browser.pages:  # the authorization code must not show up in the tool's output either
        ctx.secrets.update(urllib.parse.parse_qs(urllib.parse.urlparse(url).query).get("code", []))
    run.wait(60)
    return run, ev, landing


def device_start(ctx, store, client="public-app", scope=MAIL_SCOPE, extra=()):
    s = ctx.server
    run = ctx.start("device", "--json", "--store", store, "--client-id", client, "--scope", scope,
                    "--device-endpoint", s.issuer + "/device/auth", "--token-endpoint", s.token_endpoint, *extra)
    return run, run.event("device_code")


# ---- groups ---------------------------------------------------------------------------------------------------

def group_client_credentials(ctx, t):
    s = ctx.server

    def cc(store, *extra, expect=None):
        return ctx.run("client-credentials", "--json", "--store", ctx.path(store), "--token-endpoint", s.token_endpoint,
                       "--scope", "mail", *extra, expect=expect)

    def last_request():
        return s.token_log()[-1]

    @t("client_secret_basic: id and secret form-encoded in an HTTP Basic header")
    def _():
        r = cc("basic.json", "--client-id", "cc-basic", "--client-secret-file", ctx.secret_file("cc-basic"), expect=0)
        res = r.result
        assert res["client_auth"] == "client_secret_basic" and res["scope"] == "mail" and res["refresh_token"] == "none", res
        assert 590 <= res["expires_in"] <= 600, res
        req = last_request()
        assert req["client_id"] == "cc-basic" and req["status"] == 200 and req["auth"]["basic"] and not req["body_secret"], req
        data = check_store(ctx.path("basic.json"))
        assert data["access_token"] and not data["refresh_token"] and data["grant"] == "client_credentials", \
            {k: v for k, v in data.items() if "token" not in k}
        assert data["token_endpoint"] == s.token_endpoint and data["client_id"] == "cc-basic"
        assert f"token stored in {ctx.path('basic.json')}" in r.stderr
        return "basic header sent; 0600 store holds the access token"

    @t("client_secret_post: secret in the form body")
    def _():
        r = cc("post.json", "--client-id", "cc-post", "--client-secret-file", ctx.secret_file("cc-post"),
               "--client-auth", "post", expect=0)
        assert r.result["client_auth"] == "client_secret_post"
        req = last_request()
        assert req["status"] == 200 and not req["auth"]["basic"] and req["body_secret"], req
        check_store(ctx.path("post.json"))

    for key, alg in (("client-rsa", None), ("client-ec", None), ("client-ed25519", None), ("client-rsa", "PS256")):
        label = {"client-rsa": "RS256", "client-ec": "ES256", "client-ed25519": "EdDSA"}[key] if alg is None else alg

        @t(f"private_key_jwt {label} client assertion (RFC 7523)")
        def _(key=key, alg=alg):
            extra = ["--assertion-alg", alg] if alg else []
            store = f"jwt-{key}-{alg}.json"
            r = cc(store, "--client-id", "cc-jwt", "--assertion-key", s.key(key), *extra, expect=0)
            assert r.result["client_auth"] == "private_key_jwt"
            req = last_request()
            assert req["status"] == 200 and req["assertion"] and not req["auth"]["basic"] and not req["body_secret"], req
            check_store(ctx.path(store))

    @t("--if-needed keeps a fresh token; without it a new one is fetched")
    def _():
        n = len(s.token_log())
        store = ctx.path("basic.json")
        before = read_store(store)["access_token"]
        r = cc("basic.json", "--client-id", "cc-basic", "--client-secret-file", ctx.secret_file("cc-basic"), "--if-needed", expect=0)
        assert r.result["requested"] is False and len(s.token_log()) == n
        assert read_store(store)["access_token"] == before
        r = cc("basic.json", "--client-id", "cc-basic", "--client-secret-file", ctx.secret_file("cc-basic"), expect=0)
        assert r.result["requested"] is True and len(s.token_log()) == n + 1
        assert read_store(store)["access_token"] != before
        check_store(store)

    @t("invalid_client: wrong client secret; the store is left untouched")
    def _():
        wrong = ctx.path("wrong.secret")
        with open(os.open(wrong, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write("not the secret\n")
        store = ctx.path("basic.json")
        with open(store, "rb") as f:
            before = f.read()
        r = cc("basic.json", "--client-id", "cc-basic", "--client-secret-file", wrong)
        expect_error(r, "invalid_client", 1, 401)
        assert "hint:" in r.stderr
        with open(store, "rb") as f:
            assert f.read() == before, "a failed request changed the store"
        check_store(store)

    @t("invalid_client: unknown client id")
    def _():
        expect_error(cc("unknown.json", "--client-id", "no-such-client", "--client-secret-file", ctx.secret_file("cc-basic")),
                     "invalid_client", 1, 401)
        assert not os.path.exists(ctx.path("unknown.json")), "a store was written for a failed request"

    @t("invalid_client: assertion signed with a key the client did not register")
    def _():
        expect_error(cc("unreg.json", "--client-id", "cc-jwt", "--assertion-key", s.key("unregistered-rsa")), "invalid_client", 1, 401)

    @t("invalid_client: a secret client presenting an assertion instead")
    def _():
        expect_error(cc("wrongmethod.json", "--client-id", "cc-basic", "--assertion-key", s.key("client-rsa")), "invalid_client", 1, 401)

    @t("invalid_scope: a scope the client may not have")
    def _():
        r = ctx.run("client-credentials", "--json", "--store", ctx.path("scope.json"), "--token-endpoint", s.token_endpoint,
                    "--scope", "admin", "--client-id", "cc-basic", "--client-secret-file", ctx.secret_file("cc-basic"))
        expect_error(r, "invalid_scope", 1, 400)

    @t("usage errors: secrets on the command line, missing or double credentials, --print-token")
    def _():
        base = ["client-credentials", "--json", "--store", ctx.path("usage.json"), "--token-endpoint", s.token_endpoint, "--client-id", "cc-basic"]
        for extra, needle in ((["--client-secret", "x"], "command line"),
                              ([], "needs --client-secret-file or --assertion-key"),
                              (["--client-secret-file", ctx.secret_file("cc-basic"), "--assertion-key", s.key("client-rsa")], "not both"),
                              (["--print-token"], "never"),
                              (["--client-auth", "post"], "needs --client-secret-file")):
            r = ctx.run(*(base + extra))
            assert r.rc == 2, (extra, r.rc, r.stderr)
            assert needle in r.stderr, (needle, r.stderr)
        assert not os.path.exists(ctx.path("usage.json"))

    @t("plain http:// to a non-loopback host is refused before any connection")
    def _():
        r = ctx.run("client-credentials", "--json", "--store", ctx.path("http.json"), "--token-endpoint", "http://auth.example/token",
                    "--client-id", "cc-basic", "--client-secret-file", ctx.secret_file("cc-basic"))
        res = expect_error(r, None, 3)
        assert "refusing plain http://" in res["message"], res

    @t("no response (closed port): exit 3, store untouched")
    def _():
        import socket
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        r = ctx.run("client-credentials", "--json", "--store", ctx.path("closed.json"), "--token-endpoint",
                    f"http://127.0.0.1:{port}/token", "--client-id", "cc-basic", "--client-secret-file", ctx.secret_file("cc-basic"))
        expect_error(r, None, 3)
        assert not os.path.exists(ctx.path("closed.json"))


def group_refresh(ctx, t):
    s = ctx.server
    store = ctx.path("app.json")
    state = {}

    @t("authorization code + PKCE (confidential client, basic) yields a refresh token")
    def _():
        run, ev, landing = auth_code(ctx, store)
        assert run.rc == 0, run.stderr
        assert landing[0] == 200 and "Authorization received" in landing[1], landing
        res = run.result
        assert res["refresh_token"] == "new" and res["client_auth"] == "client_secret_basic", res
        assert set(res["scope"].split()) == set(MAIL_SCOPE.split()), res
        data = check_store(store)
        assert data["refresh_token"] and data["access_token"] and data["grant"] == "refresh_token"
        assert data["requested_scope"] == MAIL_SCOPE and data["client_id"] == "app"
        state["first"] = data

    @t("refresh rotates the refresh token; endpoint, client and scope come from the store")
    def _():
        with open(store, "rb") as f:
            state["old_file"] = f.read()
        r = ctx.run("refresh", "--json", "--store", store, "--client-secret-file", ctx.secret_file("app"), expect=0)
        res = r.result
        assert res["refresh_token"] == "rotated" and res["requested"] is True, res
        data = check_store(store)
        first = state["first"]
        assert data["refresh_token"] != first["refresh_token"] and data["access_token"] != first["access_token"]
        req = s.token_log()[-1]
        assert req["grant_type"] == "refresh_token" and req["status"] == 200 and req["refresh_token_issued"] and req["auth"]["basic"], req
        state["second"] = data

    @t("refresh --if-needed sends nothing while the access token is fresh")
    def _():
        n = len(s.token_log())
        r = ctx.run("refresh", "--json", "--store", store, "--client-secret-file", ctx.secret_file("app"), "--if-needed", expect=0)
        assert r.result["requested"] is False and r.result["refresh_token"] == "unchanged" and len(s.token_log()) == n

    @t("reuse of the rotated-out refresh token: invalid_grant, and the whole grant is revoked")
    def _():
        old = ctx.path("app-old.json")
        with open(os.open(old, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(state["old_file"])
        at = state["second"]["access_token"]
        assert s.introspect(at)["active"] is True
        r = ctx.run("refresh", "--json", "--store", old, "--client-secret-file", ctx.secret_file("app"))
        expect_error(r, "invalid_grant", 1, 400)
        assert "hint:" in r.stderr
        # The current refresh token was revoked with the grant, and so was its access token.
        r = ctx.run("refresh", "--json", "--store", store, "--client-secret-file", ctx.secret_file("app"))
        expect_error(r, "invalid_grant", 1, 400)
        assert s.introspect(at)["active"] is False, "access token of the revoked grant still active"
        check_store(store)

    @t("invalid_grant: a refresh token the server never issued")
    def _():
        bogus = ctx.path("bogus.json")
        data = dict(state["second"], refresh_token="never-issued-refresh-token", access_token="")
        with open(os.open(bogus, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(data, f)
        expect_error(ctx.run("refresh", "--json", "--store", bogus, "--client-secret-file", ctx.secret_file("app")),
                     "invalid_grant", 1, 400)

    @t("invalid_client on refresh: wrong client secret")
    def _():
        run, _, _ = auth_code(ctx, ctx.path("app2.json"))
        assert run.rc == 0, run.stderr
        wrong = ctx.path("wrong-app.secret")
        with open(os.open(wrong, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write("wrong")
        expect_error(ctx.run("refresh", "--json", "--store", ctx.path("app2.json"), "--client-secret-file", wrong),
                     "invalid_client", 1, 401)
        # The refresh token survived the failed request.
        ctx.run("refresh", "--json", "--store", ctx.path("app2.json"), "--client-secret-file", ctx.secret_file("app"), expect=0)

    @t("invalid_scope on refresh: asking for more than was granted")
    def _():
        # The requested scope names the store's key, so ask through a copy whose key matches the wider scope.
        src = read_store(ctx.path("app2.json"))
        wider = ctx.path("wider.json")
        with open(os.open(wider, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(dict(src, requested_scope=MAIL_SCOPE + " admin"), f)
        expect_error(ctx.run("refresh", "--json", "--store", wider, "--client-secret-file", ctx.secret_file("app")),
                     "invalid_scope", 1, 400)

    @t("store refusals: no refresh token (2), another scope (4), readable by others (4)")
    def _():
        r = ctx.run("refresh", "--json", "--store", ctx.path("empty.json"), "--token-endpoint", s.token_endpoint,
                    "--client-id", "app", "--client-secret-file", ctx.secret_file("app"), "--scope", MAIL_SCOPE)
        assert r.rc == 2 and "no refresh token" in r.stderr, (r.rc, r.stderr)
        r = ctx.run("refresh", "--json", "--store", ctx.path("app2.json"), "--client-secret-file", ctx.secret_file("app"), "--scope", "mail")
        assert r.rc == 4 and "holds tokens for account" in r.stderr, (r.rc, r.stderr)
        os.chmod(ctx.path("app2.json"), 0o644)
        r = ctx.run("refresh", "--json", "--store", ctx.path("app2.json"), "--client-secret-file", ctx.secret_file("app"))
        assert r.rc == 4 and "chmod 600" in r.stderr, (r.rc, r.stderr)
        os.chmod(ctx.path("app2.json"), 0o600)


def group_auth_code(ctx, t):
    s = ctx.server

    @t("public client: PKCE S256 in the URL, loopback redirect, no client authentication")
    def _():
        store = ctx.path("public.json")
        run, ev, landing = auth_code(ctx, store, client="public-app", secret=False, extra=["--issuer", s.issuer])
        assert run.rc == 0, run.stderr
        q = urllib.parse.parse_qs(urllib.parse.urlparse(ev["url"]).query)
        assert q["code_challenge_method"] == ["S256"] and len(q["code_challenge"][0]) == 43, q
        assert len(q["state"][0]) >= 43 and q["response_type"] == ["code"] and q["prompt"] == ["consent"], q
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/callback", ev["redirect_uri"]) and q["redirect_uri"] == [ev["redirect_uri"]]
        assert landing[0] == 200
        res = run.result
        assert res["client_auth"] == "none" and res["refresh_token"] == "new", res
        req = [r for r in s.token_log() if r["grant_type"] == "authorization_code"][-1]
        assert req["client_id"] == "public-app" and req["status"] == 200 and not req["auth"]["basic"] and not req["body_secret"], req
        check_store(store)

    @t("the server requires PKCE: an authorization request without code_challenge is refused")
    def _():
        b = Browser()
        url = s.issuer + "/auth?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": "public-app", "redirect_uri": "http://127.0.0.1:9/callback",
            "scope": MAIL_SCOPE, "state": "s"})
        status, headers, _ = b.request("GET", url)
        loc = headers.get("Location", "")
        assert status in (302, 303) and "error=invalid_request" in loc and "PKCE" in urllib.parse.unquote_plus(loc), (status, loc)

    @t("a forged redirect (wrong state) and a stray request are refused; the real one still completes")
    def _():
        store = ctx.path("forged.json")
        run = ctx.start("auth-code", "--json", "--store", store, "--client-id", "public-app", "--scope", MAIL_SCOPE,
                        "--authorize-endpoint", s.issuer + "/auth", "--token-endpoint", s.token_endpoint, "--prompt", "consent",
                        "--wait", "30")
        ev = run.event("authorize")
        b = Browser()
        status, _, _ = b.request("GET", ev["redirect_uri"] + "?code=stolen&state=wrong")
        assert status == 400, status
        assert "state" in run.event("redirect_refused")["reason"]
        status, _, _ = b.request("GET", ev["redirect_uri"].rsplit("/", 1)[0] + "/favicon.ico")
        assert status == 404, status
        landing = Browser().walk(ev["url"], stop_prefix=ev["redirect_uri"])
        run.wait(60)
        assert run.rc == 0 and landing[0] == 200, (run.rc, run.stderr)
        check_store(store)

    @t("RFC 9207: a redirect from another issuer is refused and its code never exchanged")
    def _():
        n = len([r for r in s.token_log() if r["grant_type"] == "authorization_code"])
        run, _, landing = auth_code(ctx, ctx.path("mixup.json"), client="public-app", secret=False,
                                    extra=["--issuer", "https://other-issuer.example"])
        res = expect_error(run, None, 5)
        assert "iss" in res["message"], res
        assert landing[0] == 400
        assert len([r for r in s.token_log() if r["grant_type"] == "authorization_code"]) == n
        assert not os.path.exists(ctx.path("mixup.json"))

    @t("the user cancels: access_denied comes back through the redirect")
    def _():
        run, _, landing = auth_code(ctx, ctx.path("denied.json"), client="public-app", secret=False, deny=True)
        expect_error(run, "access_denied", 1)
        assert not os.path.exists(ctx.path("denied.json"))

    @t("invalid_scope at the authorization endpoint comes back through the redirect")
    def _():
        run, _, _ = auth_code(ctx, ctx.path("badscope.json"), client="public-app", secret=False, scope="openid admin")
        expect_error(run, "invalid_scope", 1)

    @t("offline_access without prompt=consent: the OpenID provider issues no refresh token")
    def _():
        run, _, _ = auth_code(ctx, ctx.path("noconsent.json"), client="public-app", secret=False, prompt=None)
        assert run.rc == 0, run.stderr
        assert run.result["refresh_token"] == "none", run.result
        assert not read_store(ctx.path("noconsent.json"))["refresh_token"]

    @t("invalid_client at the code exchange: a wrong client secret; no tokens stored")
    def _():
        wrong = ctx.path("wrong-app.secret")
        with open(os.open(wrong, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write("wrong")
        run = ctx.start("auth-code", "--json", "--store", ctx.path("badsecret.json"), "--client-id", "app",
                        "--client-secret-file", wrong, "--scope", MAIL_SCOPE, "--authorize-endpoint", s.issuer + "/auth",
                        "--token-endpoint", s.token_endpoint, "--prompt", "consent", "--wait", "30")
        ev = run.event("authorize")
        Browser().walk(ev["url"], stop_prefix=ev["redirect_uri"])
        run.wait(60)
        expect_error(run, "invalid_client", 1, 401)
        assert not os.path.exists(ctx.path("badsecret.json"))

    @t("nobody comes: --wait expires")
    def _():
        run = ctx.start("auth-code", "--json", "--store", ctx.path("timeout.json"), "--client-id", "public-app",
                        "--authorize-endpoint", s.issuer + "/auth", "--token-endpoint", s.token_endpoint, "--wait", "1")
        run.wait(30)
        expect_error(run, "timeout", 1)


def group_device(ctx, t):
    s = ctx.server

    @t("device code approved through the server's pages (login, consent, confirm)")
    def _():
        store = ctx.path("device.json")
        run, ev = device_start(ctx, store)
        assert ev["interval"] == 1 and ev["user_code"] and ev["verification_uri"] == s.issuer + "/device", ev
        status, body = Browser().walk(ev["verification_uri_complete"])
        assert status == 200 and "Sign-in Success" in body, (status, body[:300])
        run.wait(60)
        assert run.rc == 0, run.stderr
        res = run.result
        assert res["refresh_token"] == "new" and res["client_auth"] == "none", res
        data = check_store(store)
        assert data["refresh_token"] and data["grant"] == "refresh_token"
        assert ev["user_code"] in run.stderr  # the code the user types is shown; no token is

    @t("slow_down: the interval grows by 5 s for this and every later poll (RFC 8628 §3.5)")
    def _():
        run, ev = device_start(ctx, ctx.path("slow.json"))
        http_json("POST", s.issuer + "/test/slow_down", {"user_code": ev["user_code"], "count": "1"})
        sd = run.event("slow_down", timeout=10)
        assert sd["interval"] == 1 + 5, sd
        time.sleep(6.5)  # let at least one poll at the slower pace happen
        Browser().walk(ev["verification_uri_complete"])
        run.wait(60)
        assert run.rc == 0, run.stderr
        polls = http_json("GET", s.issuer + "/test/device_polls?" + urllib.parse.urlencode({"user_code": ev["user_code"]}))[1]["polls"]
        results = [p["result"] for p in polls]
        i = results.index("slow_down")
        gaps = [b["t"] - a["t"] for a, b in zip(polls[i:], polls[i + 1:])]
        assert gaps and min(gaps) >= 6 - 0.3, f"polls after slow_down came faster than 6 s: {gaps}"
        assert results[-1] == "token", results
        return f"polls {results}, gaps after slow_down {[round(g, 2) for g in gaps]} s"

    @t("the user denies on the confirm page: access_denied")
    def _():
        run, ev = device_start(ctx, ctx.path("device-denied.json"))
        status, body = Browser().walk(ev["verification_uri_complete"], deny=True)
        assert status == 200 and "interrupted" in body, (status, body[:300])
        run.wait(60)
        expect_error(run, "access_denied", 1, 400)
        assert not os.path.exists(ctx.path("device-denied.json"))

    @t("nobody approves: the device code expires")
    def _():
        run, ev = device_start(ctx, ctx.path("device-expired.json"), client="device-short")
        assert ev["expires_in"] <= 4, ev
        run.wait(30)
        expect_error(run, "expired_token", 1)

    @t("invalid_client and invalid_scope at the device authorization endpoint")
    def _():
        r = ctx.run("device", "--json", "--store", ctx.path("dev-bad.json"), "--client-id", "no-such-client", "--scope", MAIL_SCOPE,
                    "--device-endpoint", s.issuer + "/device/auth", "--token-endpoint", s.token_endpoint)
        expect_error(r, "invalid_client", 1, 401)
        r = ctx.run("device", "--json", "--store", ctx.path("dev-bad.json"), "--client-id", "public-app", "--scope", "openid admin",
                    "--device-endpoint", s.issuer + "/device/auth", "--token-endpoint", s.token_endpoint)
        expect_error(r, "invalid_scope", 1, 400)

    @t("refresh of a public client's device-flow token rotates it (no client authentication)")
    def _():
        store = ctx.path("device.json")
        before = read_store(store)
        r = ctx.run("refresh", "--json", "--store", store, expect=0)
        assert r.result["refresh_token"] == "rotated" and r.result["client_auth"] == "none", r.result
        after = check_store(store)
        assert after["refresh_token"] != before["refresh_token"]


def group_store(ctx, t):
    s = ctx.server
    store = ctx.path("st.json")

    def obtain():
        run, ev = device_start(ctx, store)
        Browser().walk(ev["verification_uri_complete"])
        run.wait(60)
        assert run.rc == 0, run.stderr

    @t("concurrent refreshes of one store serialise on its lock: every rotation is kept, none is reused")
    def _():
        obtain()
        runs = [ctx.start("refresh", "--json", "--store", store) for _ in range(4)]
        for r in runs:
            r.wait(60)
        assert [r.rc for r in runs] == [0] * 4, [(r.rc, r.stderr) for r in runs]
        refreshes = [x for x in s.token_log() if x["grant_type"] == "refresh_token"]
        assert len(refreshes) == 4 and all(x["status"] == 200 for x in refreshes), refreshes
        ctx.run("refresh", "--json", "--store", store, expect=0)  # the last rotated token is the live one
        check_store(store)

    def kill_at(function):
        """Runs `refresh` under gdb, SIGKILLs it on entry to `function`; returns the store's bytes before."""
        gdb = shutil.which("gdb")
        if not gdb:
            raise Skip("gdb not found")
        with open(store, "rb") as f:
            before = f.read()
        n = len(s.token_log())
        proc = subprocess.run(
            [gdb, "-q", "-batch", "-nx", "-ex", "set breakpoint pending on", "-ex", "set startup-with-shell off",
             "-ex", f"break {function}", "-ex", "run", "-ex", "kill",
             "--args", ctx.tool, "refresh", "--json", "--store", store],
            cwd=ctx.work, capture_output=True, text=True, timeout=120)
        ctx.outputs.append(proc.stdout + proc.stderr)
        if not re.search(rf"Breakpoint 1(\.\d+)?, (__\w+_)?{function} \(", proc.stdout):
            raise Skip(f"gdb could not stop the tool at {function}(): " + repr(proc.stdout[:600]))
        assert len(s.token_log()) == n + 1, "the killed process did not rotate the refresh token first"
        with open(store, "rb") as f:
            assert f.read() == before, "the store changed although the process died before its rename"
        assert stat.S_IMODE(os.stat(store).st_mode) == 0o600
        base = os.path.basename(store)
        temps = [os.path.join(ctx.work, x) for x in os.listdir(ctx.work) if x.startswith("." + base + ".tmp-")]
        assert len(temps) == 1, temps
        assert stat.S_IMODE(os.stat(temps[0]).st_mode) == 0o600, "temporary file not 0600"
        return temps[0]

    @t("SIGKILL between the fsync'd temporary file and its rename: the next run completes the save, nothing is lost")
    def _():
        old_rt = read_store(store)["refresh_token"]
        tmp = kill_at("rename")
        with open(tmp) as f:
            pending = json.load(f)  # complete: written and fsync'd before the rename
        assert pending["refresh_token"] != old_rt, "the temporary file does not hold the rotated refresh token"
        r = ctx.run("refresh", "--json", "--store", store, expect=0)
        assert any(json.loads(l).get("event") == "store_recovered" for l in r.stdout_lines if l.startswith("{")), r.stdout
        assert r.result["refresh_token"] == "rotated", r.result
        check_store(store)  # also: no temporary file left
        req = [x for x in s.token_log() if x["grant_type"] == "refresh_token"][-1]
        assert req["status"] == 200, req
        return "the rotated refresh token from the dead process's temporary file was used"

    @t("SIGKILL before the temporary file is written: old store intact and private, empty temporary removed")
    def _():
        kill_at("fchmod")
        # The server rotated the refresh token, but the new one never reached the disk: the next refresh
        # presents the old one, and reuse detection revokes the grant. No client can avoid this.
        r = ctx.run("refresh", "--json", "--store", store)
        expect_error(r, "invalid_grant", 1, 400)
        check_store(store)
        return "store intact; the unsaved rotation is lost, as it must be (server: invalid_grant)"

    @t("a store path that is not a regular file is refused before any request")
    def _():
        n = len(s.token_log())
        d = ctx.path("dir.json")
        os.makedirs(os.path.join(d, "x"), exist_ok=True)
        r = ctx.run("client-credentials", "--json", "--store", d, "--token-endpoint", s.token_endpoint, "--client-id", "cc-basic",
                    "--client-secret-file", ctx.secret_file("cc-basic"), "--scope", "mail")
        assert r.rc == 4 and "not a regular file" in r.stderr, (r.rc, r.stderr)
        assert len(s.token_log()) == n
        assert not [x for x in os.listdir(ctx.work) if x.startswith(".dir.json.tmp-")]

    @t("a torn or foreign store file is refused, not overwritten")
    def _():
        torn = ctx.path("torn.json")
        with open(os.open(torn, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write('{"format": "mailauth-token-store/1", "refresh_token": "abc')
        r = ctx.run("refresh", "--json", "--store", torn, "--token-endpoint", s.token_endpoint, "--client-id", "public-app")
        assert r.rc == 4 and "not a JSON object" in r.stderr, (r.rc, r.stderr)
        with open(torn) as f:
            assert f.read().endswith('"abc')

    @t("status shows expiry and scope without any request")
    def _():
        n = len(s.token_log())
        r = ctx.run("status", "--json", "--store", store, expect=0)
        res = r.result
        assert res["refresh_token"] is True and res["access_token"] is True and res["expires_at"] > time.time(), res
        assert len(s.token_log()) == n and "expires" in r.stderr


def group_introspection(ctx, t):
    s = ctx.server
    store = ctx.path("intro.json")

    @t("an access token from the tool introspects as active with the email claim (for Dovecot's oauth2 passdb)")
    def _():
        run, ev = device_start(ctx, store)
        Browser().walk(ev["verification_uri_complete"])
        run.wait(60)
        assert run.rc == 0, run.stderr
        info = s.introspect(read_store(store)["access_token"])
        assert info["active"] is True and info["email"] == USER and info["client_id"] == "public-app", info
        assert info["token_type"] == "Bearer" and "mail" in info["scope"].split(), info
        return "introspection: active, email=" + info["email"]

    @t("test routes for the mail server tests: a revoked or expired access token is inactive; a refresh brings a working one")
    def _():
        for route in ("revoke_access_token", "expire_access_token"):
            at = read_store(store)["access_token"]
            status, _ = http_json("POST", s.issuer + "/test/" + route, {"token": at})
            assert status == 200, (route, status)
            assert s.introspect(at)["active"] is False, route
            ctx.run("refresh", "--json", "--store", store, expect=0)
            fresh = read_store(store)["access_token"]
            assert fresh != at and s.introspect(fresh)["active"] is True, route

    @t("RFC 7009 revocation of the access token: inactive, and oidc-provider revokes the grant's refresh token too")
    def _():
        at = read_store(store)["access_token"]
        status, _ = http_json("POST", s.issuer + "/token/revocation", {"token": at, "client_id": "public-app"})
        assert status == 200, status
        assert s.introspect(at)["active"] is False
        expect_error(ctx.run("refresh", "--json", "--store", store), "invalid_grant", 1, 400)


def make_certificate(directory, name):
    """A self-signed certificate for 127.0.0.1 (subjectAltName IP) made with the openssl command."""
    openssl = shutil.which("openssl")
    if not openssl:
        raise RuntimeError("the tls group needs the openssl command (Debian: openssl)")
    cert, key = os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def group_tls(ctx, t):
    s = ctx.server

    def cc(store, *extra):
        return ctx.run("client-credentials", "--json", "--store", ctx.path(store), "--token-endpoint", s.token_endpoint,
                       "--scope", "mail", "--client-id", "cc-basic", "--client-secret-file", ctx.secret_file("cc-basic"), *extra)

    @t("https token endpoint, server certificate verified against --ca-file")
    def _():
        assert s.token_endpoint.startswith("https://127.0.0.1:")
        r = cc("tls.json", "--ca-file", s.tls[0])
        assert r.rc == 0, r.stderr
        assert r.result["client_auth"] == "client_secret_basic" and s.token_log()[-1]["status"] == 200
        check_store(ctx.path("tls.json"))

    @t("an untrusted (self-signed) server certificate: no request, exit 3")
    def _():
        n = len(s.token_log())
        res = expect_error(cc("untrusted.json"), None, 3)
        assert "certificate" in res["message"].lower(), res
        other, _ = make_certificate(ctx.work, "other")
        res = expect_error(cc("untrusted.json", "--ca-file", other), None, 3)
        assert "certificate" in res["message"].lower(), res
        assert len(s.token_log()) == n and not os.path.exists(ctx.path("untrusted.json"))


GROUPS = {
    "client_credentials": group_client_credentials,
    "refresh": group_refresh,
    "auth_code": group_auth_code,
    "device": group_device,
    "store": group_store,
    "introspection": group_introspection,
    "tls": group_tls,
}


# ---- runner ---------------------------------------------------------------------------------------------------

def run_group(args):
    names = list(GROUPS) if args.group == "all" else [args.group]
    for n in names:
        if n not in GROUPS:
            print(f"unknown group {n}; groups: {', '.join(GROUPS)}", file=sys.stderr)
            return 2
    tool = os.path.abspath(args.tool)
    if not os.access(tool, os.X_OK):
        print(f"mailauth-token not found at {tool}", file=sys.stderr)
        return 2
    failed = passed = skipped = 0
    started = time.monotonic()
    for name in names:
        root = os.path.join(args.dir, "runs", args.work_prefix + name)
        shutil.rmtree(root, ignore_errors=True)
        work = os.path.join(root, "work")
        os.makedirs(work)
        tls = make_certificate(root, "server") if name == "tls" else None
        with Server(args.dir, os.path.join(root, "server"), node=args.node, tls=tls) as server:
            print(f"# group {name}: oidc-provider at {server.issuer} (ready in {server.startup_seconds:.2f} s), work dir {work}", flush=True)
            ctx = Context(server, tool, work)
            tests = []

            def t(title):
                def register(fn):
                    tests.append((title, fn))
                    return fn
                return register

            GROUPS[name](ctx, t)
            if args.select:  # a subset by title (e.g. for the slow valgrind runs); later tests may need earlier ones
                total = len(tests)
                tests = [(title, fn) for title, fn in tests if re.search(args.select, title)]
                print(f"# --select {args.select!r}: {len(tests)} of {total} tests", flush=True)
                if not tests:  # a renamed test must not turn the selection into an empty, passing run
                    raise SystemExit(f"--select {args.select!r} matches no test of group {name}")
            tests.append(("no token or client secret in any output of the tool", ctx.assert_no_secret_in_output))
            for i, (title, fn) in enumerate(tests, 1):
                t0 = time.monotonic()
                try:
                    note = fn()
                    passed += 1
                    print(f"ok {i} - {name}: {title} ({time.monotonic() - t0:.2f} s)" + (f" # {note}" if note else ""), flush=True)
                except Skip as e:
                    skipped += 1
                    print(f"ok {i} - {name}: {title} # SKIP {e}", flush=True)
                except Exception as e:  # noqa: BLE001 - report every failure and go on
                    failed += 1
                    print(f"not ok {i} - {name}: {title} ({time.monotonic() - t0:.2f} s)", flush=True)
                    for line in (traceback.format_exc() if not isinstance(e, AssertionError) else f"{e}\n").splitlines():
                        print("#   " + line)
            if failed:
                print("# server log tail:\n" + "\n".join("#   " + l for l in tail(server.log_path, 25).splitlines()))
    print(f"# {passed} passed, {failed} failed, {skipped} skipped in {time.monotonic() - started:.1f} s")
    return 1 if failed else 0


def serve(args):
    state = os.path.join(args.dir, "runs", "serve")
    with Server(args.dir, state, node=args.node) as server:
        print(f"oidc-provider at {server.issuer}; secrets in {state}/secrets.json, keys in {state}/keys; Ctrl-C stops it", flush=True)
        try:
            while server.proc and server.proc.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


def main():
    # SIGTERM (ctest timeout) must run the finally blocks that stop the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    ps = sub.add_parser("setup")
    ps.add_argument("--source-dir", default=HERE)
    ps.add_argument("--dir", required=True)
    ps.add_argument("--node")
    ps.add_argument("--npm")
    pr = sub.add_parser("run")
    pr.add_argument("group")
    pr.add_argument("--dir", required=True)
    pr.add_argument("--tool", required=True)
    pr.add_argument("--work-prefix", default="", help="put before the group's name for its directory under DIR/runs")
    pr.add_argument("--select", help="run only the tests whose title matches this regular expression "
                                     "(and the final check for secrets in the output)")
    pr.add_argument("--node", default="node")
    pv = sub.add_parser("serve")
    pv.add_argument("--dir", required=True)
    pv.add_argument("--node", default="node")
    args = p.parse_args()
    args.dir = os.path.abspath(args.dir)
    if args.cmd == "setup":
        return setup(args)
    if args.cmd == "run":
        return run_group(args)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
