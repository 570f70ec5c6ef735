#!/usr/bin/env python3
"""A real SMTP server for tests and rehearsals, on aiosmtpd (PyPI), run from the tools venv:

  smtp-server.py --port P --cert CERT --key KEY --user USER --password-file FILE --maildir DIR
                 [--reject-domain DOMAIN]

It speaks SMTP on 127.0.0.1:P and requires STARTTLS (with CERT/KEY) before anything else, and a
login (AUTH PLAIN or LOGIN, USER and the password in FILE) before it takes mail, as a submission
server on port 587 does. Recipients in DOMAIN are refused with 550 ("user unknown"). Every message
it takes is written to DIR as NANOS.eml, with the envelope in NANOS.env. It runs until SIGTERM and
writes DIR/ready once it listens.
"""
import argparse
import pathlib
import signal
import ssl
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, maildir, reject_domain):
        self.maildir = maildir
        self.reject = reject_domain.lower() if reject_domain else None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject and address.lower().endswith("@" + self.reject):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        name = str(time.time_ns())
        (self.maildir / (name + ".eml")).write_bytes(envelope.original_content or b"")
        (self.maildir / (name + ".env")).write_text(
            "from %s\nto %s\n" % (envelope.mail_from, " ".join(envelope.rcpt_tos)))
        return "250 2.0.0 Ok: queued as %s" % name


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False)
    return check


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("--maildir", required=True)
    p.add_argument("--reject-domain")
    a = p.parse_args()
    maildir = pathlib.Path(a.maildir)
    maildir.mkdir(parents=True, exist_ok=True)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(a.cert, a.key)
    password = pathlib.Path(a.password_file).read_text().strip()
    controller = Controller(
        Handler(maildir, a.reject_domain),
        hostname="127.0.0.1",
        port=a.port,
        tls_context=tls,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticator(a.user, password),
    )
    controller.start()
    (maildir / "ready").write_text("listening on 127.0.0.1:%d\n" % a.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
