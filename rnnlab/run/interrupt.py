"""Ctrl-C and SIGTERM (what `kill`, schedulers and `timeout` send) as one exception.

The handler turns either signal into `Interrupted` in the main thread, so `finally`
blocks still run (TensorBoard flushes, a half-written checkpoint's temporary file is
removed) and the entry point can say which checkpoint survives. Nothing is saved on the
way out: the checkpoint of the last completed epoch is already on disk, written
atomically, and a mid-epoch state would not resume to the same result.
"""

import signal
import threading
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):  # like KeyboardInterrupt: `except Exception` lets it pass
    """A signal asked the run to stop; a shell reports it as exit code 128 + the signal."""

    def __init__(self, signal_number: int):
        super().__init__(signal.Signals(signal_number).name)
        self.signal_number = signal_number

    @property
    def exit_code(self) -> int:
        return 128 + self.signal_number


@contextmanager
def signals_raise_interrupted():
    """Within the block, SIGINT and SIGTERM raise `Interrupted` (main thread only; elsewhere
    Python cannot install handlers, and the block runs unchanged)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signal_number, frame):
        raise Interrupted(signal_number)

    previous = {number: signal.signal(number, handler) for number in SIGNALS}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
