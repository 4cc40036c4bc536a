"""netmiko's `cisco_ios` session, tuned for FRR's vtysh: the same CLI dialogue without the fixed
sleeps of netmiko's generic set-up.

Measured against the lab (and tests/harness/ssh_fleet.py), a poll with plain `cisco_ios` spent
~1 s above the SSH round trips sleeping: `find_prompt()` (0.25 s, plus `clear_buffer()` backing
off 0.1 + 0.2 s whenever data is still arriving) ran at session set-up and again before every
`send_command()`, and `_try_session_preparation()` slept 0.1 s. vtysh prints its prompt by itself
after login and its prompt is fixed (the hostname, then `#`), so here:
  * the set-up reads up to the first prompt, sends `terminal width` and `terminal length 0`
    in one write and reads up to the prompt after the second echo; the prompt seen is the base;
  * commands read until that prompt ends the output (anchored at the end, so a hostname inside
    JSON output never ends a read early), instead of asking for the prompt first.
Every read still has a deadline (`read_timeout`), so a router that stops answering fails the
same way as before. Other platforms keep netmiko's stock drivers.
"""
from __future__ import annotations

import re
import select
import time

from netmiko.cisco.cisco_ios import CiscoIosSSH
from netmiko.exceptions import ReadTimeout

from bot.routers.base import RouterError

# netmiko's read loops poll the channel every 10-25 ms; across dozens of sessions polled at once
# that is CPU spent waking up for nothing. A read waits up to this long for data to arrive instead
# (and returns as soon as it does).
READ_WAIT = 0.05
# The most a show command's answer may be (characters): `show bgp neighbors json` is ~3 KB a
# neighbor, so this is ~20,000 neighbors; beyond it the read fails instead of growing without bound.
MAX_ANSWER = 64 * 2**20


class VtyshSSH(CiscoIosSSH):
    def _try_session_preparation(self, force_data: bool = True) -> None:
        # vtysh greets with its prompt unasked: no RETURN + 0.1 s sleep to provoke output
        super()._try_session_preparation(force_data=False)

    def session_preparation(self) -> None:
        timeout = max(self.timeout, 10)
        self.read_until_pattern(pattern=r"[>#]\s*$", read_timeout=timeout)
        self.write_channel(self.normalize_cmd("terminal width 511") + self.normalize_cmd("terminal length 0"))
        output = self.read_until_pattern(pattern=r"length 0.*[>#][ \t]*$", re_flags=re.S, read_timeout=timeout)
        # the last word: typed-ahead lines may leave two prompts on one line ("r1# r1# ")
        words = output.split()
        prompt = words[-1] if words else ""
        if not prompt or prompt[-1] not in "#>":
            raise ValueError(f"Router prompt not found: {prompt!r}")
        self.base_prompt = prompt[:-1][:16]  # as CiscoIosBase.set_base_prompt: config mode abbreviates

    def read_channel(self) -> str:
        conn = self.remote_conn
        # (not when netmiko kept data back from the last read: that is returned at once)
        if not self._read_buffer and conn is not None and hasattr(conn, "recv_ready") and not conn.recv_ready():
            select.select([conn], [], [], READ_WAIT)
        return super().read_channel()

    def normalize_linefeeds(self, a_string: str) -> str:
        # netmiko runs two regex passes over every read; a poll's answer is ~150 KB of JSON and
        # those passes cost more CPU than parsing it. Plain replaces, in netmiko's order.
        if "\r" not in a_string:
            return a_string
        for ending in ("\r\r\r\n", "\r\r\n", "\r\n", "\n\r", "\r"):
            a_string = a_string.replace(ending, "\n")
        return a_string

    def prompt_pattern(self) -> str:
        """The exec prompt at the very end of what was read."""
        return rf"{re.escape(self.base_prompt)}[>#][ \t]*$"

    def send_command(self, command_string: str, expect_string: str | None = None, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        if expect_string is None and not args and set(kwargs) <= {"read_timeout"}:
            return self.show(command_string, read_timeout=kwargs.get("read_timeout", 10.0))
        if expect_string is None:
            expect_string = self.prompt_pattern()
        return super().send_command(command_string, expect_string, *args, **kwargs)

    def show(self, command: str, read_timeout: float = 10.0) -> str:
        """A show command's answer, without its echo and the prompt after it.

        What netmiko's send_command does for a plain command, in one pass: a poll's answer is
        ~150 KB, and netmiko searched the whole output for the prompt after every read, then
        split and joined it line by line three times (echo, prompt, line endings) — more CPU than
        the SSH session itself. Here only the last few hundred characters are searched, and the
        echo and the prompt are cut off at the first and last line break."""
        self.write_channel(self.normalize_cmd(command))
        prompt = re.compile(self.prompt_pattern())
        echo = command.strip()
        chunks: list[str] = []
        answer_at = -1  # where the answer starts: after the echoed command (a prompt before it is old)
        tail = ""
        size = 0
        deadline = time.monotonic() + read_timeout
        while True:
            if time.monotonic() > deadline:  # (also for a router that talks and never prompts)
                raise ReadTimeout(f"no prompt after {echo!r} within {read_timeout:g} s")
            data = self.read_channel()
            if not data:
                continue
            chunks.append(data)
            size += len(data)
            if size > MAX_ANSWER:  # a router that never stops talking must not fill the bot's memory
                raise RouterError(f"{self.host}: the answer to '{echo}' passed {MAX_ANSWER:,} characters without "
                                  "ending; not read further")
            if answer_at < 0:
                head = "".join(chunks)  # short: the echo comes first
                at = head.find(echo)
                if at < 0:
                    continue
                answer_at = at + len(echo)
                tail = head[answer_at:][-512:]
            else:
                tail = (tail + data)[-512:]
            if prompt.search(tail):  # the prompt ends the answer: anchored at the end
                break
        output = self.normalize_linefeeds("".join(chunks)[answer_at:])
        first_break = output.find("\n")
        output = output[first_break + 1:] if first_break >= 0 else ""  # the rest of the echo's line
        last_break = output.rfind("\n")
        last_line = output[last_break + 1:]
        if prompt.search(last_line):
            output = output[:last_break] if last_break >= 0 else ""
        return output

    def config_mode(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        self._configured = True
        return super().config_mode(*args, **kwargs)

    def cleanup(self, command: str = "exit") -> None:
        # netmiko asks the router whether it is in config mode before leaving (one more round
        # trip on every poll); a session that never entered it (a poll) is in exec mode.
        if getattr(self, "_configured", False):
            super().cleanup(command)
            return
        if self.session_log:
            self.session_log.fin = True
        self.write_channel(command + self.RETURN)

    def save_config(self, cmd: str = "write memory", confirm: bool = False, confirm_response: str = "") -> str:
        return self._send_command_str(command_string=cmd, strip_prompt=False, strip_command=False,
                                      read_timeout=100.0)
