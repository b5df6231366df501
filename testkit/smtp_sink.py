"""A real SMTP server for Warden's tests (Python's aiosmtpd).

Usage: python smtp_sink.py PORT FILE. Listens on 127.0.0.1:PORT, prints "ready" once it accepts connections, and
appends every message it receives to FILE as one JSON line: {"from", "to", "subject", "text"}, the text decoded
from whatever transfer encoding the sender chose.
"""

import email
import email.policy
import json
import sys
import time

from aiosmtpd.controller import Controller


class JsonLines:
    def __init__(self, path):
        self.path = path

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "subject": str(message.get("subject", "")),
            "text": body.get_content() if body is not None else "",
        }
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    controller = Controller(JsonLines(path), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
