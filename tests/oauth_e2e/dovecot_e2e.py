#!/usr/bin/env python3
"""mailauth-probe --token-store against Dovecot whose oauth2 passdb introspects at oidc-provider.

    dovecot_e2e.py --dir DIR --tool MAILAUTH_TOKEN --probe MAILAUTH_PROBE --harness DOVECOT_PY [--node NODE]
                   [--work-prefix P] [--select REGEX]

oidc-provider (e2e.py's Server, installed in DIR/server by `e2e.py setup`) on a free port; a private Dovecot
(tests/integration/harness/dovecot.py start --introspection-url) whose passdb POSTs every access token to
oidc-provider's RFC 7662 introspection endpoint. mailauth-token fills a store for alice@example.test (device
grant); mailauth-probe logs in to IMAP, POP3 and submission with that store, with XOAUTH2 and OAUTHBEARER;
an access token expired or revoked at the server costs exactly one refresh and one retry on the same
connection (for OAUTHBEARER after answering Dovecot's error challenge with ^A).
MAILAUTH_EXAMPLE_WRAPPER (see e2e.py) wraps mailauth-token and mailauth-probe alike.
Exit status 77: cannot run here (not root: Dovecot drops privileges). Python 3 standard library only.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import traceback
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402  (Server, Browser, Context, device_start, http_json, check_store, read_store)

EXIT_SKIP = 77
USER = e2e.USER


def reachable_dir(path):
    """A directory Dovecot's unprivileged users can reach and whose path dovecot.conf accepts."""
    ok = re.fullmatch(r"[A-Za-z0-9_./+-]+", path) is not None
    d = path
    while ok and d != "/":
        if os.path.exists(d) and not os.stat(d).st_mode & stat.S_IXOTH:
            ok = False
        d = os.path.dirname(d)
    if ok:
        return path
    return "/tmp/mailauth-dovecot-e2e-" + hashlib.sha256(path.encode()).hexdigest()[:12]


class Dovecot:
    """The integration harness's Dovecot with its oauth2 passdb pointed at an introspection URL."""

    def __init__(self, harness, directory, introspection_url):
        self.harness = harness
        self.dir = directory
        self.url = introspection_url
        self.state = None

    def __enter__(self):
        r = subprocess.run([sys.executable, self.harness, "start", "--dir", self.dir,
                            "--introspection-url", self.url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        if r.returncode == EXIT_SKIP:
            raise SystemExit(f"SKIP: {r.stderr.strip()}")
        if r.returncode != 0:
            self.__exit__()
            raise RuntimeError(f"dovecot.py start failed ({r.returncode}):\n{r.stderr}")
        with open(os.path.join(self.dir, "state.json")) as f:
            self.state = json.load(f)
        return self

    def __exit__(self, *exc):
        subprocess.run([sys.executable, self.harness, "stop", "--dir", self.dir], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)

    def port(self, service):
        return self.state["ports"][service]


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a ctest timeout still stops both servers
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tool", required=True)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--harness", required=True)
    ap.add_argument("--node", default="node")
    ap.add_argument("--work-prefix", default="", help="put before 'dovecot' for the directory under DIR/runs")
    ap.add_argument("--select", help="run only the tests whose title matches this regular expression "
                                     "(and the final check for secrets in the output)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: must run as root (Dovecot drops privileges to dovecot/dovenull)", file=sys.stderr)
        return EXIT_SKIP
    a.tool, a.probe = os.path.abspath(a.tool), os.path.abspath(a.probe)  # the tool runs in its work directory
    for prog in (a.tool, a.probe):
        if not os.access(prog, os.X_OK):
            print(f"not found: {prog}", file=sys.stderr)
            return 2
    base = os.path.abspath(a.dir)
    root = os.path.join(base, "runs", a.work_prefix + "dovecot")
    shutil.rmtree(root, ignore_errors=True)
    work = os.path.join(root, "work")
    os.makedirs(work)
    started = time.monotonic()
    with e2e.Server(base, os.path.join(root, "server"), node=a.node) as server:
        secret = urllib.parse.quote(server.secrets()["dovecot"], safe="")
        netloc = urllib.parse.urlsplit(server.issuer).netloc
        url = f"http://dovecot:{secret}@{netloc}/token/introspection"
        try:
            with Dovecot(a.harness, reachable_dir(os.path.join(root, "dovecot")), url) as dovecot:
                print(f"# oidc-provider at {server.issuer}; Dovecot {dovecot.state.get('dovecot_version')} "
                      f"introspecting there; work dir {work}", flush=True)
                return run_tests(server, dovecot, e2e.Context(server, a.tool, work), a.probe, started,
                                 a.select)
        except SystemExit as e:
            if str(e).startswith("SKIP"):
                print(e, file=sys.stderr)
                return EXIT_SKIP
            raise


def run_tests(server, dovecot, ctx, probe_path, started, select=None):
    store = ctx.path("alice.json")
    ca_file = dovecot.state["tls"]["ca_file"]
    seen = []  # every store snapshot, for the secrets check

    def snapshot():
        data = e2e.check_store(store)
        seen.append(data)
        for k in ("access_token", "refresh_token"):
            if data.get(k):
                ctx.secrets.add(data[k])
        with open(store, "rb") as f:
            return data, f.read()

    def probe(service, *extra, json_out=True):
        port = dovecot.port(service)
        scheme = {"imap": "imap", "imaps": "imaps", "pop3": "pop3", "pop3s": "pop3s",
                  "submission": "smtp", "submissions": "smtps"}[service]
        args = [f"{scheme}://127.0.0.1:{port}", "--user", USER, "--token-store", store, "--timeout", "20"]
        args += ["--ca-file", ca_file] if scheme.endswith("s") else ["--allow-plaintext"]
        if json_out:
            args.append("--json")
        args += list(extra)
        r = subprocess.run(e2e.example_command(probe_path, args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=90 * e2e.TIMEOUT_SCALE)
        ctx.outputs += [r.stdout, r.stderr]
        e2e.check_wrapper_exit(r.returncode, r.stderr, "mailauth-probe " + service)
        res = json.loads(r.stdout) if json_out and r.stdout.strip() else None
        return r, res

    def refreshes_since(n):
        return [q for q in server.token_log()[n:] if q.get("grant_type") == "refresh_token"]

    def introspect_active(token):
        return server.introspect(token)["active"] is True

    tests = []

    def t(title):
        def register(fn):
            tests.append((title, fn))
            return fn
        return register

    @t("mailauth-token device grant fills the store for alice; Dovecot's introspection answer carries her email")
    def _():
        run, ev = e2e.device_start(ctx, store)
        e2e.Browser().walk(ev["verification_uri_complete"])
        run.wait(60)
        assert run.rc == 0, run.stderr
        data, _ = snapshot()
        info = server.introspect(data["access_token"])
        assert info["active"] is True and info["email"] == USER, info

    def plain_login(service, mech=None):
        n = len(server.token_log())
        _, before = snapshot()
        r, res = probe(service, *(("--mech", mech) if mech else ()))
        assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
        assert res["authenticated"] is True and res["verdict"] == "authenticated", res
        assert mech is None or res["mechanism"] == mech, res
        assert res["attempts"] == 1 and res["token_requests"] == 0 and res["token_refreshed"] is False, res
        assert len(server.token_log()) == n, "a token request for a fresh stored token"
        _, after = snapshot()
        assert after == before, "the store changed without a token request"
        return f"{res['mechanism']}, tls={res['tls']}"

    for service in ("imap", "pop3", "submission", "imaps"):
        t(f"{service}: the stored access token logs in; no token request")(
            lambda service=service: plain_login(service))
    for service in ("imap", "pop3", "submission"):
        t(f"{service} OAUTHBEARER: the stored access token logs in through introspection; no token request")(
            lambda service=service: plain_login(service, "OAUTHBEARER"))

    def rejected_then_refreshed(service, route, mech="XOAUTH2"):
        old, old_bytes = snapshot()
        status, _ = e2e.http_json("POST", server.issuer + "/test/" + route, {"token": old["access_token"]})
        assert status == 200, (route, status)
        assert not introspect_active(old["access_token"]), route
        n = len(server.token_log())
        r, res = probe(service, "--transcript", *(("--mech", mech) if mech != "XOAUTH2" else ()))
        assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
        assert res["authenticated"] is True and res["mechanism"] == mech, res
        # One refresh, one retry, one connection: the first attempt's rejection is in the same transcript.
        assert res["attempts"] == 2 and res["token_requests"] == 1 and res["token_refreshed"] is True, res
        assert res["token_refresh_error"] is None, res
        server_lines = [x["line"] for x in res["transcript"] if x["dir"] == "S"]
        greetings = [x for x in server_lines if re.match(r"(\* OK|\+OK|220 ).*\b(ready|ESMTP)\b", x)]
        assert len(greetings) == 1, f"not one connection: {server_lines}"
        clients = [x["line"] for x in res["transcript"] if x["dir"] == "C"]
        assert sum(1 for x in clients if re.search(rf"\bAUTH(ENTICATE)? {mech}\b", x)) == 2, clients
        if mech == "OAUTHBEARER":  # RFC 7628 3.2.3: the error challenge is answered with a lone ^A, once
            assert sum(1 for x in clients if x == "AQ==") == 1, clients
        new_requests = server.token_log()[n:]
        assert len(new_requests) == 1, new_requests
        req = new_requests[0]
        assert req["grant_type"] == "refresh_token" and req["status"] == 200 and req["refresh_token_issued"], req
        new, new_bytes = snapshot()  # mode 0600, no temporary file left
        assert new_bytes != old_bytes, "the store was not rewritten"
        assert new["refresh_token"] and new["refresh_token"] != old["refresh_token"], "refresh token not rotated"
        assert new["access_token"] != old["access_token"] and introspect_active(new["access_token"])
        return f"attempts={res['attempts']} token_requests={res['token_requests']} {res['mechanism']}"

    for service, route in (("imap", "expire_access_token"), ("imap", "revoke_access_token"),
                           ("pop3", "expire_access_token"), ("pop3", "revoke_access_token"),
                           ("submission", "expire_access_token"), ("submission", "revoke_access_token"),
                           ("imaps", "revoke_access_token")):
        word = route.split("_")[0] + "d"
        t(f"{service}: an access token {word} at the server gives exactly one refresh, one retry, success")(
            lambda service=service, route=route: rejected_then_refreshed(service, route))
    for service, route in (("imap", "revoke_access_token"), ("pop3", "expire_access_token"),
                           ("submission", "revoke_access_token")):
        word = route.split("_")[0] + "d"
        t(f"{service} OAUTHBEARER: an access token {word} at the server: error challenge, ^A, one refresh, "
          f"one retry, success")(
            lambda service=service, route=route: rejected_then_refreshed(service, route, "OAUTHBEARER"))

    @t("imap, human output: the next run uses the refreshed token and reports no token request")
    def _():
        n = len(server.token_log())
        r, _ = probe("imap", json_out=False)
        assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
        assert "result:       authenticated" in r.stdout and "token store:  0 token request(s)" in r.stdout, r.stdout
        assert len(server.token_log()) == n

    @t("an access token the store records as expired is renewed before connecting: one request, one attempt")
    def _():
        data, _ = snapshot()
        with open(os.open(store, os.O_WRONLY | os.O_TRUNC), "w") as f:
            json.dump(dict(data, expires_at=int(time.time()) - 10), f, indent=2)
        n = len(server.token_log())
        r, res = probe("pop3")
        assert r.returncode == 0 and res["authenticated"] is True, (r.returncode, r.stdout, r.stderr)
        assert res["attempts"] == 1 and res["token_requests"] == 1 and res["token_refreshed"] is False, res
        assert len(refreshes_since(n)) == 1
        new, _ = snapshot()
        assert new["access_token"] != data["access_token"] and new["expires_at"] > time.time()

    @t("refresh token revoked too (RFC 7009 revocation revokes the grant): exit 1 after one refresh, no loop")
    def _():
        old, old_bytes = snapshot()
        status, _ = e2e.http_json("POST", server.issuer + "/token/revocation",
                                  {"token": old["access_token"], "client_id": "public-app"})
        assert status == 200, status
        n = len(server.token_log())
        r, res = probe("imap")
        assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
        assert res["authenticated"] is False and res["verdict"] == "token_rejected", res
        assert res["attempts"] == 1 and res["token_requests"] == 1 and res["token_refreshed"] is False, res
        assert "invalid_grant" in (res["token_refresh_error"] or ""), res
        assert "mailauth-token" in (res["hint"] or ""), res
        reqs = server.token_log()[n:]
        assert len(reqs) == 1 and reqs[0]["grant_type"] == "refresh_token" and reqs[0]["status"] == 400, reqs
        _, after = snapshot()
        assert after == old_bytes, "a failed refresh changed the store"
        n = len(server.token_log())
        r, _ = probe("submission", json_out=False)
        assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
        assert "refresh:      failed:" in r.stdout and "invalid_grant" in r.stdout, r.stdout
        assert len(server.token_log()) == n + 1
        return "refresh: " + res["token_refresh_error"]

    @t("no access or refresh token in any output of mailauth-token or mailauth-probe")
    def _():
        return ctx.assert_no_secret_in_output()

    if select:  # a subset by title (the last test, the secrets check, always runs); later tests need earlier ones
        total = len(tests)
        tests = [(title, fn) for title, fn in tests[:-1] if re.search(select, title)] + tests[-1:]
        print(f"# --select {select!r}: {len(tests)} of {total} tests", flush=True)
        if len(tests) == 1:  # only the secrets check: a renamed test must not make the run pass empty
            raise SystemExit(f"--select {select!r} matches no test")
    failed = passed = 0
    for i, (title, fn) in enumerate(tests, 1):
        t0 = time.monotonic()
        try:
            note = fn()
            passed += 1
            print(f"ok {i} - dovecot: {title} ({time.monotonic() - t0:.2f} s)" + (f" # {note}" if note else ""),
                  flush=True)
        except Exception as e:  # noqa: BLE001 - report every failure and go on
            failed += 1
            print(f"not ok {i} - dovecot: {title} ({time.monotonic() - t0:.2f} s)", flush=True)
            for line in (traceback.format_exc() if not isinstance(e, AssertionError) else f"{e}\n").splitlines():
                print("#   " + line)
    if failed:
        print("# oidc-provider log tail:\n" + "\n".join("#   " + x for x in e2e.tail(server.log_path, 25).splitlines()))
        print("# Dovecot log tail:\n" + "\n".join("#   " + x for x in e2e.tail(dovecot.state["log"], 25).splitlines()))
    print(f"# {passed} passed, {failed} failed in {time.monotonic() - started:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
