"""Progress events from deep inside a run, for whoever is watching (issue 15).

A solver backend sits below the console and the workbench in the layer map, so it cannot call
either. It calls :func:`emit` instead; the terminal's progress line and the workbench's job both
:func:`subscribe` for the length of a run. With nobody subscribed an event costs one list check.

Event kinds and their fields (all optional except where said):

- ``"phase"``: ``message`` (str, required): a step starting, "loading", "solving", "report";
  ``key``: its label in the catalogue (optimizer/outputs/i18n.py), with the placeholders' values
  as further fields, so a console or page can show it in the user's language.
- ``"mip"``: ``incumbent``, ``bound``, ``gap`` (floats or None), ``elapsed_s``, ``solver``: the
  solver's latest incumbent and bound, from its callback or log.
- ``"mip"`` from a solve's end also has ``final=True``: incumbent = the returned objective.
- ``"step"``: ``done``, ``total`` (ints), ``label`` ("budgets", "circles", "jobs"), ``out_dir``
  where finished work is written: counted work, and what Ctrl-C reports as finished.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

_lock = threading.Lock()
_listeners: list[Callable[..., None]] = []


def emit(kind: str, **fields) -> None:
    """Tell every subscriber that ``kind`` happened. A failing subscriber never stops the run."""
    if not _listeners:
        return
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(kind, **fields)
        except Exception:  # noqa: BLE001 - a display must not break a solve
            pass


def watching() -> bool:
    """Whether anybody listens: lets a backend skip the cost of a solver callback."""
    return bool(_listeners)


def phase(logger, key: str, message: str, *args, **values) -> None:
    """A step starts: log ``message % args`` at INFO (``--verbose``) and emit a ``phase`` event
    carrying ``key`` and ``values`` for a translated display. The log record carries them too
    (``phase_key``, ``phase_values``), for the console's one-line status."""
    note(logger, key, message, *args, **values)
    if _listeners:
        emit("phase", message=message % args if args else message, key=key, **values)


def note(logger, key: str, message: str, *args, **values) -> None:
    """A detail of the step under way: logged at INFO with ``key`` and ``values`` like
    :func:`phase`, so the console's status line shows it translated, but no event (the workbench
    lists steps, not details)."""
    logger.info(message, *args, extra={"phase_key": key, "phase_values": values})


@contextlib.contextmanager
def subscribe(listener: Callable[..., None]) -> Iterator[None]:
    """Call ``listener(kind, **fields)`` for every event emitted while the block runs."""
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)
