"""Time the derivation of the encryption key from PEERBOT_SECRET_KEY (bot/core/crypto.py, scrypt).

    .venv/bin/python bench/bench_kdf.py [--rounds 5]

Each process pays this once at start (the bot, each CLI command). Prints the time for the
parameters peerbot uses and for the neighbouring costs, to choose SCRYPT_N for a machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt  # noqa: E402

from bot.core.crypto import SCRYPT_N, SCRYPT_P, SCRYPT_R  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    rounds = ap.parse_args().rounds
    for n in (2**14, 2**15, 2**16, 2**17):
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            Scrypt(salt=os.urandom(16), length=32, n=n, r=SCRYPT_R, p=SCRYPT_P).derive(b"a passphrase")
            times.append(time.perf_counter() - start)
        mark = "  <- peerbot" if n == SCRYPT_N else ""
        print(f"scrypt n=2**{n.bit_length() - 1} r={SCRYPT_R} p={SCRYPT_P} ({128 * SCRYPT_R * n >> 20} MiB): "
              f"median {statistics.median(times):.3f} s, max {max(times):.3f} s{mark}")


if __name__ == "__main__":
    main()
