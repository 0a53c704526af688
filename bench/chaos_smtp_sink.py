"""A local SMTP sink for bench/chaos_alerts.py: accepts every message and appends one JSON line per message
(its Message-ID, recipients and arrival time) to a file, flushed at once so a reader never waits.

    python bench/chaos_smtp_sink.py --port 2525 --out /tmp/sink.jsonl

Only what Django's SMTP backend says is understood (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT); the
arrival time is taken when the final "." arrives, before the 250 that lets the sender mark the row sent, so a
crash between the two shows up here as a resend.
"""

import argparse
import asyncio
import json
import signal
import time
from email.parser import BytesHeaderParser
from typing import TextIO


async def _session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, out: TextIO, delay: float) -> None:
    def reply(line: str) -> None:
        writer.write(line.encode() + b"\r\n")

    recipients: list[str] = []
    try:
        reply("220 chaos-sink ESMTP")
        await writer.drain()
        while True:
            line = await reader.readline()
            if not line:
                return
            command = line.decode("latin-1").rstrip("\r\n")
            verb = command[:4].upper()
            if verb == "EHLO":
                writer.write(b"250-chaos-sink\r\n250 8BITMIME\r\n")
            elif verb == "HELO":
                reply("250 chaos-sink")
            elif verb == "MAIL":
                recipients = []
                reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.partition(":")[2].strip().strip("<>").split(">")[0])
                reply("250 OK")
            elif verb == "DATA":
                reply("354 End data with <CR><LF>.<CR><LF>")
                await writer.drain()
                chunks = []
                while True:
                    data = await reader.readline()
                    if not data:
                        return
                    if data in (b".\r\n", b".\n"):
                        break
                    chunks.append(data[1:] if data.startswith(b"..") else data)
                arrived = time.time()
                headers = BytesHeaderParser().parsebytes(b"".join(chunks))
                message_id = str(headers.get("Message-ID", "")).strip()
                out.write(json.dumps({"message_id": message_id, "to": recipients, "at": arrived}) + "\n")
                out.flush()
                if delay:
                    await asyncio.sleep(delay)  # a slow mail server: accepted, but the 250 comes late
                reply("250 OK")
            elif verb == "RSET":
                recipients = []
                reply("250 OK")
            elif verb == "NOOP":
                reply("250 OK")
            elif verb == "QUIT":
                reply("221 Bye")
                await writer.drain()
                return
            else:
                reply("502 Command not implemented")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()


async def serve(port: int, path: str, delay: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    with open(path, "a", encoding="utf-8") as out:
        server = await asyncio.start_server(
            lambda r, w: _session(r, w, out, delay), host="127.0.0.1", port=port, backlog=512
        )
        async with server:
            print(f"chaos-sink listening on 127.0.0.1:{port}", flush=True)
            await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True, help="JSON lines, one per message accepted")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before answering 250 to a message")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.out, args.delay))


if __name__ == "__main__":
    main()
