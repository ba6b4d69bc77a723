"""Run the Procfile's processes; on Ctrl-C stop them in order, each given its time.

    python -m core.runner Procfile --last sqs,dynamodb

scripts/run used ``honcho start``, which on Ctrl-C sends SIGTERM to every
process at once and SIGKILLs what is left 5 s later (``honcho.manager.KILL_WAIT``,
not configurable): the worker's soft shutdown was cut short, and moto went away
while the running job still needed it (issue 12, item 14). Here:

1. each process runs in a session of its own, so the terminal's Ctrl-C (SIGINT to
   the foreground process group) reaches only this runner, which decides the order;
2. on SIGINT or SIGTERM, or when any process exits, every process not named in
   ``--last`` gets SIGTERM at once; each may take its allowance to exit (a worker:
   BATCHLAB_SHUTDOWN_GRACE_SECONDS plus time for its cold shutdown; anything else
   10 s) before SIGKILL goes to its process group;
3. only then are the ``--last`` ones (moto: the workers need it to finish their
   job) stopped the same way, in reverse Procfile order.

A second Ctrl-C during the shutdown kills what is left at once. Output lines are
prefixed with the process name, as honcho does; honcho still parses the Procfile.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from honcho.environ import parse_procfile

from core.settings import settings

OTHER_ALLOWANCE = 10.0
# After the grace, Celery cancels the running job and gives its message back.
COLD_SHUTDOWN_ALLOWANCE = 15.0


def allowance(name: str) -> float:
    """Seconds a process may take to exit after SIGTERM before it is killed."""
    if name.startswith("worker"):
        return settings.shutdown_grace_seconds + COLD_SHUTDOWN_ALLOWANCE
    return OTHER_ALLOWANCE


class Runner:
    def __init__(self, processes: dict[str, str]) -> None:
        self.commands = processes
        self.procs: dict[str, subprocess.Popen] = {}
        self.width = max(len(n) for n in processes)
        self.stopping = threading.Event()
        self.kill_now = threading.Event()
        self._print_lock = threading.Lock()

    def say(self, name: str, line: str) -> None:
        with self._print_lock:
            stamp = datetime.now().strftime("%H:%M:%S")
            sys.stdout.write(f"{stamp} {name.ljust(self.width)} | {line}\n")
            sys.stdout.flush()

    def _pump(self, name: str, proc: subprocess.Popen) -> None:
        for raw in proc.stdout:
            self.say(name, raw.decode(errors="replace").rstrip("\n"))

    def start(self) -> None:
        for name, command in self.commands.items():
            proc = subprocess.Popen(
                ["/bin/bash", "-c", command],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches this runner only (step 1)
            )
            self.procs[name] = proc
            threading.Thread(target=self._pump, args=(name, proc), daemon=True).start()
            self.say("runner", f"started {name} (pid {proc.pid})")

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.stopping.is_set():
            self.kill_now.set()  # a second Ctrl-C: do not wait any more
        self.stopping.set()

    def wait(self) -> int:
        """Block until a signal arrives or a process exits; returns the exit code to use."""
        while not self.stopping.is_set():
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    self.say("runner", f"{name} exited with code {proc.returncode}")
                    self.stopping.set()
                    return 1
            self.stopping.wait(0.2)
        return 0

    def stop(self, *, last: list[str]) -> None:
        """Stop every process but ``last`` together, then ``last`` in reverse order (steps 2-3)."""
        first = [n for n in self.procs if n not in last]
        self._stop_together(first)
        for name in reversed([n for n in self.procs if n in last]):
            self._stop_together([name])

    def _stop_together(self, names: list[str]) -> None:
        deadlines = {}
        for name in names:
            proc = self.procs[name]
            if proc.poll() is None:
                self.say("runner", f"stopping {name} (SIGTERM, up to {allowance(name):.0f} s)")
                # The leader only: a celery pool child takes SIGTERM's default action
                # (it dies), which would kill the running job the grace is for.
                proc.send_signal(signal.SIGTERM)
            deadlines[name] = time.monotonic() + allowance(name)
        for name in names:
            proc = self.procs[name]
            while proc.poll() is None and time.monotonic() < deadlines[name] and not self.kill_now.is_set():
                time.sleep(0.1)
            if proc.poll() is None:
                self.say("runner", f"{name} did not stop: SIGKILL")
            # Even an exited leader may leave children in its group (e.g. a celery pool).
            self._signal(proc, signal.SIGKILL)
            proc.wait()
            self.say("runner", f"{name} stopped")

    @staticmethod
    def _signal(proc: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("procfile", nargs="?", default="Procfile")
    parser.add_argument("--last", default="", help="comma-separated processes to stop after all others")
    args = parser.parse_args(argv)
    processes = parse_procfile(Path(args.procfile).read_text()).processes
    last = [n for n in args.last.split(",") if n]
    unknown = set(last) - set(processes)
    if unknown:
        parser.error(f"--last names processes not in {args.procfile}: {', '.join(sorted(unknown))}")
    runner = Runner(dict(processes))
    signal.signal(signal.SIGINT, runner._on_signal)
    signal.signal(signal.SIGTERM, runner._on_signal)
    try:
        runner.start()
        code = runner.wait()
    finally:
        runner.stop(last=last)
    return code


if __name__ == "__main__":
    sys.exit(main())
