"""An SMTP server for the mail tests: aiosmtpd on 127.0.0.1:PORT that prints
every message it accepts as one JSON line on standard output, and READY once
it listens. Usage: smtp_sink.py PORT [USER PASSWORD] (then AUTH is required)."""

import asyncio
import json
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Printer:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
        }), flush=True)
        return "250 OK"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and \
            auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok)
    return check


def main():
    port = int(sys.argv[1])
    options = {}
    if len(sys.argv) == 4:
        options = {"authenticator": authenticator(sys.argv[2], sys.argv[3]),
                   "auth_required": True, "auth_require_tls": False}
    controller = Controller(Printer(), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print("READY", flush=True)
    try:
        asyncio.new_event_loop().run_until_complete(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
