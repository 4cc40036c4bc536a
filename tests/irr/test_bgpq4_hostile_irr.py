"""An IRR server that answers garbage, control characters, Slack mrkdwn or one huge line: every
import ends in an IrrError whose message is one short printable line (it goes into Slack, the
CLI and the log), and the text shown in Slack is escaped."""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from bot.irr.bgpq4 import Bgpq4, IrrError
from bot.irr.service import ImportResult
from bot.base.validation import AsSetName
from handlers.views.irr import import_result_text


@pytest.fixture
def hostile_irr() -> Iterator[tuple[socket.socket, list[bytes]]]:
    """A server that reads a query and answers it with `reply[0]`, whatever was asked."""
    reply: list[bytes] = [b""]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(5)
                    conn.recv(4096)
                    conn.sendall(reply[0])
                    conn.shutdown(socket.SHUT_WR)
                    conn.recv(4096)  # until bgpq4 closes
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener, reply
    stop.set()
    listener.close()


@pytest.mark.parametrize("answer", [
    b"\x1b[2J<!channel> ERROR: <@U123> \x07\xff\xfe\n" * 3,
    b"A<!channel> *bold* <http://evil.example|click>\x1b[31m\r\n",
    b"A" + b"9" * 2_000_000 + b"\n",
    b"F " + b"\x00" * 1000 + b"\n",
    b"",
])
def test_garbage_from_the_irr_is_one_short_printable_line(hostile_irr: tuple[socket.socket, list[bytes]],
                                                         answer: bytes) -> None:
    listener, reply = hostile_irr
    reply[0] = answer
    host = f"127.0.0.1:{listener.getsockname()[1]}"
    with pytest.raises(IrrError) as err:
        Bgpq4(host, timeout=10).entries(AsSetName("AS-EXAMPLE"), 4)
    text = str(err.value)
    assert text.startswith(f"bgpq4 failed expanding AS-EXAMPLE at {host}")
    assert text.isprintable() and len(text) < 400, text[:500]
    # as the wizard and the CLI show it: Slack's control characters escaped
    shown = import_result_text(ImportResult("AS-EXAMPLE", False, text, None))
    assert "<!channel>" not in shown and "<@U123>" not in shown and "<http" not in shown
