"""The seed's bank balance: processes deposit and withdraw 1 on a shared balance with an
unprotected read-modify-write. With the remote lock the balance ends exact (0); without it,
updates are lost and the loss is printed.

    python examples/balance.py [--ops 1500] [--processes 2]

Exits 1 if the locked run is not exact (the unlocked run is expected to be wrong).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from typing import Any, Optional, Tuple

from we_will_lock_you import Lock


def _transact(acct: Any, delta: int) -> None:
    """One unprotected read-modify-write of the balance and of the count of transactions
    (lost deposits and lost withdrawals cancel out in the balance, not in the count)."""
    b, n = acct[0], acct[1]
    t = time.perf_counter() + 20e-6  # the work between read and write that a race needs
    while time.perf_counter() < t:
        pass
    acct[0], acct[1] = b + delta, n + 1


def worker(delta: int, ops: int, acct: Any, lock: Optional[Lock], go: Any) -> None:
    go.wait()
    for _ in range(ops):
        if lock is None:
            _transact(acct, delta)
        else:
            with lock:
                _transact(acct, delta)


def run(ops: int, nproc: int, lock: Optional[Lock]) -> Tuple[int, int]:
    """Returns (balance, transactions recorded)."""
    ctx = mp.get_context("spawn")
    acct = ctx.RawArray("q", 2)  # shared memory with no lock of its own
    go = ctx.Event()
    procs = [ctx.Process(target=worker, args=(+1 if i % 2 == 0 else -1, ops, acct, lock, go))
             for i in range(nproc)]
    for p in procs:
        p.start()
    time.sleep(0.3)  # let every worker reach go.wait() so they really run at once
    go.set()
    for p in procs:
        p.join()
    return int(acct[0]), int(acct[1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=1500, help="operations per process")
    ap.add_argument("--unlocked-ops", type=int, default=20000,
                    help="operations per process of the unlocked control (cheap, so more)")
    ap.add_argument("--processes", type=int, default=2, help="half deposit, half withdraw (even)")
    args = ap.parse_args()
    n = args.processes
    ops = args.unlocked_ops
    bal, tx = run(ops, n, None)
    print(f"without a lock: balance {bal}, expected {_expect(ops, n)}; "
          f"{ops * n - tx} of {ops * n} updates lost")
    ops = args.ops
    t0 = time.perf_counter()
    bal, tx = run(ops, n, Lock(name="examples/balance"))
    took = time.perf_counter() - t0
    print(f"with we_will_lock_you.Lock: balance {bal}, expected {_expect(ops, n)}; "
          f"{ops * n - tx} of {ops * n} updates lost ({took:.2f}s)")
    return 0 if (bal, tx) == (_expect(ops, n), ops * n) else 1


def _expect(ops: int, nproc: int) -> int:
    return ops * ((nproc + 1) // 2 - nproc // 2)


if __name__ == "__main__":
    raise SystemExit(main())
