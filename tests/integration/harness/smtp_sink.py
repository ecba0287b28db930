#!/usr/bin/python3
"""Tiny loopback SMTP sink for mailauth's integration tests.

Accepts EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT (RFC 5321) and stores each
accepted message in --dir as NNNNNN.eml (the dot-unstuffed DATA, CRLF line ends)
plus NNNNNN.json (the envelope). The .json is written first and the .eml is
renamed into place last, so a reader that waits for the .eml sees a whole message.

Standard library only (no smtpd: it is gone in Python 3.12). Exits on SIGTERM/SIGINT.
"""

import argparse
import json
import os
import signal
import socket
import socketserver
import sys
import threading
import time

MAX_RECIPIENTS = 100


def log(msg):
    sys.stderr.write("%s smtp_sink[%d]: %s\n" % (time.strftime("%H:%M:%S"), os.getpid(), msg))
    sys.stderr.flush()


class Store:
    """Numbered message files in one directory; thread-safe."""

    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.lock = threading.Lock()
        existing = [int(n[:6]) for n in os.listdir(directory) if n[:6].isdigit()]
        self.next_id = max(existing, default=0) + 1

    def save(self, envelope, data):
        with self.lock:
            n = self.next_id
            self.next_id += 1
        base = os.path.join(self.directory, "%06d" % n)
        envelope = dict(envelope, id=n, size=len(data), received=time.time())
        with open(base + ".json.tmp", "w") as f:
            json.dump(envelope, f, indent=1)
        os.replace(base + ".json.tmp", base + ".json")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(data)
        os.replace(base + ".eml.tmp", base + ".eml")
        return n


class LineTooLong(Exception):
    pass


class Handler(socketserver.StreamRequestHandler):
    timeout = 60

    def setup(self):
        super().setup()
        self.cfg = self.server.cfg

    def reply(self, line):
        self.wfile.write(line.encode("ascii") + b"\r\n")
        self.wfile.flush()

    def read_line(self, limit):
        """One line without its CRLF (bare LF tolerated); None at EOF."""
        raw = self.rfile.readline(limit + 1)
        if not raw:
            return None
        if not raw.endswith(b"\n"):
            if len(raw) <= limit:  # EOF in the middle of a line
                return None
            # Over-long: discard the rest of the line, then report it.
            while True:
                more = self.rfile.readline(65536)
                if not more or more.endswith(b"\n"):
                    break
            raise LineTooLong()
        raw = raw[:-1]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        return raw

    def reset(self):
        self.mail_from = None
        self.rcpt_to = []

    def handle(self):
        cfg = self.cfg
        peer = "%s:%d" % self.client_address[:2]
        self.helo = None
        self.reset()
        self.reply("220 %s ESMTP mailauth-sink" % cfg.hostname)
        while True:
            try:
                raw = self.read_line(cfg.max_line)
            except LineTooLong:
                self.reply("500 5.5.2 Line too long")
                continue
            except (socket.timeout, OSError):
                return
            if raw is None:
                return
            line = raw.decode("latin-1")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            log("%s C: %s" % (peer, line if verb not in ("AUTH",) else "AUTH <redacted>"))
            if verb in ("EHLO", "HELO"):
                if not arg.strip():
                    self.reply("501 5.5.4 Syntax: %s hostname" % verb)
                    continue
                self.helo = arg.strip()
                self.reset()
                if verb == "HELO":
                    self.reply("250 %s" % cfg.hostname)
                else:
                    self.reply("250-%s" % cfg.hostname)
                    self.reply("250-8BITMIME")
                    self.reply("250-ENHANCEDSTATUSCODES")
                    self.reply("250-PIPELINING")
                    self.reply("250 SIZE %d" % cfg.max_size)
            elif verb == "MAIL":
                if self.helo is None:
                    self.reply("503 5.5.1 Send EHLO/HELO first")
                elif self.mail_from is not None:
                    self.reply("503 5.5.1 Nested MAIL command")
                elif not arg.upper().startswith("FROM:"):
                    self.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
                else:
                    path, params = split_path(arg[5:])
                    if path is None:
                        self.reply("501 5.1.7 Bad sender address syntax")
                        continue
                    size = params.get("SIZE")
                    if size is not None and size.isdigit() and int(size) > cfg.max_size:
                        self.reply("552 5.3.4 Message size exceeds fixed maximum message size")
                        continue
                    self.mail_from = path
                    self.mail_params = params
                    self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                if self.mail_from is None:
                    self.reply("503 5.5.1 Need MAIL command")
                elif not arg.upper().startswith("TO:"):
                    self.reply("501 5.5.4 Syntax: RCPT TO:<address>")
                else:
                    path, _ = split_path(arg[3:])
                    if not path:
                        self.reply("501 5.1.3 Bad recipient address syntax")
                    elif len(self.rcpt_to) >= MAX_RECIPIENTS:
                        self.reply("452 4.5.3 Too many recipients")
                    else:
                        self.rcpt_to.append(path)
                        self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if arg:
                    self.reply("501 5.5.4 Syntax: DATA")
                elif self.mail_from is None:
                    self.reply("503 5.5.1 Need MAIL command")
                elif not self.rcpt_to:
                    self.reply("554 5.5.1 No valid recipients")
                else:
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    if not self.receive_data(peer):
                        return
            elif verb == "RSET":
                self.reset()
                self.reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Command not recognized")

    def receive_data(self, peer):
        cfg = self.cfg
        chunks = []
        size = 0
        too_big = False
        too_long = False
        while True:
            try:
                raw = self.read_line(cfg.max_data_line)
            except LineTooLong:
                too_long = True
                continue
            except (socket.timeout, OSError):
                return False
            if raw is None:
                return False
            if raw == b".":
                break
            if raw.startswith(b"."):
                raw = raw[1:]
            size += len(raw) + 2
            if size > cfg.max_size:
                too_big = True
            if not too_big:
                chunks.append(raw + b"\r\n")
        if too_big:
            self.reply("552 5.3.4 Message size exceeds fixed maximum message size")
        elif too_long:
            self.reply("500 5.5.2 Line too long")
        else:
            envelope = {"helo": self.helo, "mail_from": self.mail_from,
                        "mail_params": self.mail_params, "rcpt_to": self.rcpt_to, "peer": peer}
            n = self.server.store.save(envelope, b"".join(chunks))
            log("%s stored message %06d (%d bytes)" % (peer, n, size))
            self.reply("250 2.0.0 Ok: queued as %06d" % n)
        self.reset()
        return True


def split_path(rest):
    """'<a@b> K=V ...' -> ('a@b', {'K': 'V'}); (None, {}) on bad syntax. RFC 5321 4.1.2."""
    rest = rest.strip()
    if not rest.startswith("<"):
        return None, {}
    end = rest.find(">")
    if end < 0:
        return None, {}
    params = {}
    for p in rest[end + 1:].split():
        k, _, v = p.partition("=")
        params[k.upper()] = v
    return rest[1:end], params


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--dir", required=True, help="where messages are stored")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--hostname", default="sink.example.test")
    ap.add_argument("--max-line", type=int, default=2048, help="command line limit in bytes")
    ap.add_argument("--max-data-line", type=int, default=8192, help="DATA line limit in bytes")
    ap.add_argument("--max-size", type=int, default=10 * 1024 * 1024)
    cfg = ap.parse_args()
    if cfg.host not in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        ap.error("loopback addresses only")

    server = Server((cfg.host, cfg.port), Handler)
    server.cfg = cfg
    server.store = Store(cfg.dir)
    port = server.server_address[1]

    stop = threading.Event()

    def on_signal(signum, _frame):
        log("signal %d, exiting" % signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    if cfg.port_file:
        tmp = cfg.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, cfg.port_file)
    log("listening on %s:%d, storing in %s" % (cfg.host, port, cfg.dir))
    while not stop.wait(1.0):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
