"""The workbench's jobs: solves and sweeps, each in a child process, at most N at once (issue 15).

A job hands its spec to a :mod:`worker` process (multiprocessing ``spawn``: a clean interpreter,
no copied locks or threads; a spare one is kept started ahead) and starts a watcher thread that reads its queue: progress events (the last
:data:`MAX_EVENTS` kept), then the result, whose runs are added to the :class:`RunStore`. Cancel
kills the process group (the solver stops at once, helper processes included) and removes what
the job had written: its run folders, which the server named before the start, and the marked
temporaries of a write cut short. So a cancelled job leaves no run folder.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import queue as queue_module
import secrets
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from lifecircle.optimizer.files import foreign_entries, remove_stale_temporaries
from lifecircle.optimizer.serve.httperror import ApiError
from lifecircle.optimizer.serve.runs import Run, RunStore

MAX_EVENTS = 200
# Finished jobs kept for GET /api/jobs/{jid}; older ones are forgotten (their runs stay).
MAX_FINISHED_JOBS = 200
# After SIGTERM, how long a child may take to exit before SIGKILL.
TERMINATE_WAIT_S = 3.0
POLL_S = 0.1


@dataclass
class Job:
    jid: str
    kind: str  # solve | sweep
    sid: str
    rids: list  # the run ids (and folders) it may write, named before it starts
    rules: tuple  # (must_open (J,) int, forbidden (J,) bool): the problem's rule arrays of its runs
    state: str = "running"  # running | done | failed | cancelled
    events: collections.deque = field(default_factory=lambda: collections.deque(maxlen=MAX_EVENTS))
    error: str | None = None
    result: dict | None = None
    process: object = None
    queue: object = None
    start_queue: object = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(default_factory=time.time)

    def json(self) -> dict:
        with self.lock:
            runs = [r["rid"] for r in (self.result or {}).get("runs", [])]
            out = {"job": self.jid, "kind": self.kind, "sid": self.sid, "state": self.state,
                   "events": list(self.events), "run": runs[0] if self.kind == "solve" and runs else None,
                   "error": self.error}
            if self.kind == "sweep":
                out["sweep"] = (self.result or {}).get("sweep")
                out["knee_cny"] = (self.result or {}).get("knee_cny")
            if self.result and self.kind == "solve" and self.result["runs"]:
                out["status"] = self.result["runs"][0]["status"]
                out["reason"] = self.result["runs"][0]["reason"]
            return out


class JobRegistry:
    """Jobs of one server; ``max_solves`` of them run at once (a further start is a 429)."""

    def __init__(self, runs: RunStore, max_solves: int = 2):
        if max_solves < 1:
            raise ValueError("max_solves must be >= 1")
        self.runs = runs
        self.max_solves = int(max_solves)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._context = multiprocessing.get_context("spawn")
        self._spare = None  # (process, start queue, message queue) of a worker waiting for a job
        self._closed = False

    def running(self) -> int:
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.state == "running")

    def get(self, jid) -> Job:
        with self._lock:
            job = self._jobs.get(jid) if isinstance(jid, str) else None
        if job is None:
            raise ApiError(404, f"unknown job {jid!r}")
        return job

    def start(self, kind: str, sid: str, spec: dict, rids: list, rules: tuple) -> Job:
        """Start ``spec`` (see :mod:`worker`) as a new job; 429 when ``max_solves`` are running."""
        with self._lock:
            if sum(1 for j in self._jobs.values() if j.state == "running") >= self.max_solves:
                raise ApiError(429, f"{self.max_solves} solves are running already; wait for one to finish "
                                    "or cancel one")
            job = Job(secrets.token_hex(6), kind, sid, list(rids), rules)
            self._jobs[job.jid] = job
            self._forget_old()
        job.events.append({"kind": "phase", "message": "starting"})
        try:
            # the job keeps both queues: a queue freed here before the child has unpickled it
            # would take its semaphore away (spawn's FileNotFoundError)
            job.process, job.start_queue, job.queue = self._take_worker()
            job.start_queue.put(dict(spec, kind=kind))
        except Exception as error:  # noqa: BLE001 - the job fails, the server goes on
            with job.lock:
                job.state, job.error = "failed", f"could not start the solver process: {error}"
            return job
        threading.Thread(target=self._watch, args=(job,), name=f"watch-{job.jid}", daemon=True).start()
        threading.Thread(target=self._refill, name="lifecircle-spare", daemon=True).start()
        return job

    # A spare worker, started ahead and already past its imports (seconds of numpy, scipy, pandas
    # and the solvers), waits for the next job: Solve starts at once instead of after a new
    # interpreter's start-up. One is kept; each job uses one up and the next is started behind it.

    def _new_worker(self):
        """(process, start queue, message queue) of a fresh worker waiting for its spec."""
        from lifecircle.optimizer.serve import worker

        start, messages = self._context.Queue(), self._context.Queue()
        process = self._context.Process(target=worker.wait_and_run, args=(start, messages),
                                        name="lifecircle-worker", daemon=True)
        process.start()
        return process, start, messages

    def _take_worker(self):
        with self._lock:
            spare, self._spare = self._spare, None
        if isinstance(spare, tuple) and spare[0].is_alive():
            return spare
        return self._new_worker()

    def _refill(self) -> None:
        with self._lock:
            if self._spare is not None or self._closed:
                return
            self._spare = "starting"  # claimed: another refill does nothing
        try:
            spare = self._new_worker()
        except Exception:  # noqa: BLE001 - no spare: the next job starts its own worker
            spare = None
        with self._lock:
            closed, self._spare = self._closed, None if self._closed else spare
        if closed and spare is not None:
            _stop(spare[0])

    def _forget_old(self) -> None:
        finished = [jid for jid, j in self._jobs.items() if j.state != "running"]
        for jid in finished[:max(0, len(finished) - MAX_FINISHED_JOBS)]:
            del self._jobs[jid]

    def _watch(self, job: Job) -> None:
        """Read the child's queue until its result (or its death), then settle the job."""
        outcome = None
        while outcome is None:
            try:
                message = job.queue.get(timeout=POLL_S)
            except queue_module.Empty:
                if job.process.is_alive():
                    continue
                try:  # it ended: what it put last may still be in the pipe
                    message = job.queue.get(timeout=0.5)
                except queue_module.Empty:
                    code = job.process.exitcode
                    outcome = ("failed", f"the solver process stopped unexpectedly (exit code {code})")
                    break
            except (EOFError, OSError):
                outcome = ("failed", "the solver process stopped unexpectedly")
                break
            if message[0] == "event":
                with job.lock:
                    job.events.append({"kind": message[1], **message[2]})
            else:
                outcome = message
        job.process.join(timeout=TERMINATE_WAIT_S)
        with job.lock:
            if job.state != "running":  # cancelled meanwhile: cancel() cleaned up
                return
            if outcome[0] == "done":
                self._add_runs(job, outcome[1])
                job.result, job.state = outcome[1], "done"
            else:
                job.error, job.state = outcome[1], "failed"
                self._remove_written(job)

    def _add_runs(self, job: Job, result: dict) -> None:
        must_open, forbidden = job.rules
        for facts in result["runs"]:
            self.runs.add(Run(
                rid=facts["rid"], sid=job.sid, budget_cny=facts["budget_cny"], status=facts["status"],
                objective=facts["objective"], bound=facts["bound"], gap=facts["gap"],
                bound_source=facts["bound_source"], cost_cny=facts["cost_cny"],
                site=np.asarray(facts["site"], dtype=np.int64), type=np.asarray(facts["type"], dtype=np.int64),
                folder=self.runs.folder_of(facts["rid"]), solver=facts["solver"],
                must_open=must_open, forbidden=forbidden,
                unique=None if facts.get("unique") is None else tuple(facts["unique"])))

    def cancel(self, jid) -> Job:
        """Stop job ``jid`` now and remove what it wrote; a finished job stays as it was."""
        job = self.get(jid)
        with job.lock:
            if job.state != "running":
                return job
            job.state = "cancelled"
            self._kill(job)
            self._remove_written(job)
        return job

    def _kill(self, job: Job) -> None:
        if job.process is not None:
            _stop(job.process)

    def _remove_written(self, job: Job) -> None:
        """Remove the job's run folders (the server named them; nothing else was there) and the
        temporaries a cut-short write left beside them."""
        for rid in job.rids:
            folder = self.runs.folder_of(rid)
            # only a folder lifecircle wrote whole (its marker lists every file) is removed
            if folder.is_dir() and not folder.is_symlink() and not foreign_entries(folder):
                shutil.rmtree(folder, ignore_errors=True)
            remove_stale_temporaries(folder.parent, rid)

    def shutdown(self) -> None:
        """Cancel every running job and stop the spare worker (the server is stopping)."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.state == "running"]
            spare, self._spare, self._closed = self._spare, None, True
        for job in jobs:
            self.cancel(job.jid)
        if isinstance(spare, tuple):
            _stop(spare[0])


def _stop(process) -> None:
    """Stop a worker and its process group: SIGTERM, then SIGKILL if it lingers."""
    if process.pid is None:
        return
    if process.is_alive():
        _signal_group(process.pid, signal.SIGTERM)
        process.join(TERMINATE_WAIT_S)
    if process.is_alive():
        _signal_group(process.pid, getattr(signal, "SIGKILL", signal.SIGTERM))
        process.join(TERMINATE_WAIT_S)
    else:
        _signal_group(process.pid, getattr(signal, "SIGKILL", signal.SIGTERM))  # its helpers, if any


def _signal_group(pid: int, sig) -> None:
    """Send ``sig`` to the child's process group (it made its own), else to the child alone."""
    if hasattr(os, "killpg"):
        try:
            os.killpg(pid, sig)
            return
        except OSError:
            pass  # not yet its own group leader (cancelled right at the start)
    try:
        os.kill(pid, sig)
    except OSError:
        pass
