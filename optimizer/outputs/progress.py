"""What a person at a terminal sees while lifecircle works: log lines and the one progress display.

Library modules log through ``logging.getLogger(__name__)`` (INFO for phases, DEBUG for details)
and never print. The CLI calls :func:`console_logging` once per command: a handler on stderr
writing ``lifecircle: message``, at WARNING by default, INFO with ``--verbose``, ERROR with
``--quiet``.

Progress is tqdm on stderr, and only there: :func:`progress` for counted work (sweep budgets,
city circles, bench jobs) and :func:`phases` for a one-line status showing the latest INFO
message (load, coverage, solve, report re-solves, write) and, during a MIP, the solver's incumbent,
bound and gap from ``mip`` events (optimizer.core.events), in the console's language (issue 15),
while a long command runs. Both show
only when stderr is a terminal and the ``lifecircle`` logger is not quieted, so pipes, files,
tests and ``--quiet`` get nothing extra, and stdout is never touched.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterator

ROOT_LOGGER = "lifecircle"
LOG_FORMAT = "lifecircle: %(message)s"
TICKER_JOIN_S = 2.0  # the status line's redraw thread, at exit


def is_terminal(stream) -> bool:
    """True when ``stream`` is an open terminal (a closed or odd stream is not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def shown(stream=None) -> bool:
    """Whether progress would be seen: ``stream`` (default stderr) is a terminal and the
    ``lifecircle`` logger lets warnings through (``--quiet`` raises it to ERROR)."""
    stream = sys.stderr if stream is None else stream
    return is_terminal(stream) and logging.getLogger(ROOT_LOGGER).isEnabledFor(logging.WARNING)


@contextlib.contextmanager
def progress(total: int | None, label: str, *, unit: str = "it", initial: int = 0,
             show: bool | None = None, file=None) -> Iterator:
    """A tqdm bar on stderr for ``total`` steps of counted work; closed (and erased) on exit.

    Parameters
    ----------
    total : steps in all (None: unknown, the bar counts up).
    label : what is counted, shown before the bar ("budgets", "circles").
    unit : one step's name.
    initial : steps already done (a resumed city run).
    show : None decides by :func:`shown`; True forces the bar on (tests), False off.
    file : the stream (default: stderr at the time of the call).

    Yields the bar: ``bar.update(n)`` after n steps, ``bar.set_postfix_str(text)`` for a note.
    A bar that is not shown accepts the same calls and writes nothing.
    """
    from tqdm import tqdm

    from lifecircle.optimizer.outputs.console import language
    from lifecircle.optimizer.outputs.i18n import CATALOGUE, t

    file = sys.stderr if file is None else file
    on = shown(file) if show is None else bool(show)
    label = t(f"console.{label}", language()) if f"console.{label}" in CATALOGUE else label
    bar = tqdm(total=total, initial=initial, desc=label, unit=unit, file=file, disable=not on,
               dynamic_ncols=True, leave=False)
    try:
        yield bar
    finally:
        bar.close()


@contextlib.contextmanager
def solver_figures(bar) -> Iterator[None]:
    """While the block runs, a shown ``bar`` carries the latest solver figures (incumbent, bound,
    gap) as its note: ``bench`` counts jobs, and each job's MIP reports from its own process."""
    if bar.disable:
        yield
        return
    from lifecircle.optimizer.core import events
    from lifecircle.optimizer.outputs.console import language

    lang = language()

    def on_event(kind: str, **fields) -> None:
        if kind == "mip":
            bar.set_postfix_str(mip_text(fields, lang))

    with events.subscribe(on_event):
        yield


class _StderrHandler(logging.Handler):
    """``lifecircle: message`` on the stderr of the moment (click's test runner swaps it), written
    through tqdm so that a line never lands in the middle of a bar."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging must never break a run (closed stderr, ...)
            self.handleError(record)


class _PhaseLine(logging.Handler):
    """The one status line: the latest INFO record (translated when it is a phase with a catalogue
    key, issue 15) and, while a MIP runs, the solver's incumbent, bound and gap from ``mip``
    events."""

    def __init__(self, bar, label: str, lang: str):
        super().__init__(logging.INFO)
        self.bar, self.label, self.lang = bar, label, lang
        self.phase, self.mip = "", ""
        self.colon = "：" if lang == "zh" else ": "
        self.show_values = True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.phase = _phase_text(record, self.lang)
            # a least-cost stage minimises money and ranks: its figures are not coverage
            self.show_values = not str(getattr(record, "phase_key", "")).startswith("phase.stage_")
            self.mip = ""
            self._draw()
        except Exception:  # noqa: BLE001 - see _StderrHandler
            self.handleError(record)

    def on_event(self, kind: str, **fields) -> None:
        if kind != "mip":
            return
        self.mip = mip_text(fields, self.lang, self.show_values)
        self._draw()

    def _draw(self) -> None:
        text = f"{self.label}{self.colon}{self.phase}" + (f" · {self.mip}" if self.mip else "")
        self.bar.set_description_str(text)


def _phase_text(record: logging.LogRecord, lang: str) -> str:
    from lifecircle.optimizer.outputs.i18n import CATALOGUE, t

    key = getattr(record, "phase_key", None)
    if key in CATALOGUE:
        try:
            return t(key, lang, **getattr(record, "phase_values", {}))
        except (KeyError, IndexError, ValueError):
            pass
    return record.getMessage()


def _figure(value) -> str:
    return "-" if value is None else f"{value:,.1f}"


def mip_text(fields: dict, lang: str, values: bool = True) -> str:
    """"incumbent 6,275.0 · bound 6,346.5 · gap 1.14%" (或 当前最优 … · 界 … · 间隙 …)."""
    from lifecircle.optimizer.outputs.i18n import t

    gap = fields.get("gap")
    gap_text = "-" if gap is None else f"{gap:.2%}"
    if not values:
        return t("console.mip_gap", lang, gap=gap_text)
    return t("console.mip", lang, incumbent=_figure(fields.get("incumbent")), bound=_figure(fields.get("bound")),
             gap=gap_text)


def console_logging(verbose: bool = False, quiet: bool = False):
    """Send the ``lifecircle`` loggers' records to stderr, at INFO (``verbose``), ERROR
    (``quiet``) or WARNING. Returns a function that undoes it (the CLI calls it when the command
    ends, so that tests running many commands in one process start clean each time)."""
    logger = logging.getLogger(ROOT_LOGGER)
    level = logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING
    handler = _StderrHandler(level)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    saved = logger.level
    logger.setLevel(level)
    logger.addHandler(handler)

    def undo() -> None:
        logger.removeHandler(handler)
        logger.setLevel(saved)

    return undo


@contextlib.contextmanager
def phases(label: str, *, show: bool | None = None, file=None, lang: str | None = None) -> Iterator[None]:
    """While the block runs, one status line on stderr, ``label: <latest phase>  [elapsed]``,
    fed by the INFO records of the ``lifecircle`` loggers; erased on exit.

    For a terminal user when the phase lines themselves are not printed: nothing when
    :func:`shown` is false (not a terminal, ``--quiet``; ``show`` overrides it) or when INFO
    already reaches stderr (``--verbose``).
    """
    from tqdm import tqdm

    file = sys.stderr if file is None else file
    logger = logging.getLogger(ROOT_LOGGER)
    on = shown(file) if show is None else bool(show)
    if not on or (show is None and logger.isEnabledFor(logging.INFO)):
        yield
        return
    from lifecircle.optimizer.core import events
    from lifecircle.optimizer.outputs.console import language
    from lifecircle.optimizer.outputs.i18n import CATALOGUE, t

    lang = lang or language()
    key = f"console.cmd.{label}"
    label = t(key, lang) if key in CATALOGUE else label
    bar = tqdm(total=None, desc=f"{label}{'：' if lang == 'zh' else ': '}{t('console.starting', lang)}", bar_format="{desc}  [{elapsed}]",
               file=file, dynamic_ncols=True, leave=False)
    handler = _PhaseLine(bar, label, lang)
    saved = logger.level
    if not logger.isEnabledFor(logging.INFO):  # let INFO reach the status line (other handlers keep their level)
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    stop = threading.Event()
    # tqdm redraws only when told to: tick the elapsed time so a long solve does not look stuck
    ticker = threading.Thread(target=_tick, args=(bar, stop), daemon=True)
    ticker.start()
    try:
        with events.subscribe(handler.on_event):  # the solver's figures (issue 15)
            yield
    finally:
        stop.set()
        # A Ctrl-C landing inside tqdm's two-lock acquire leaves one lock held by this thread for
        # good: the ticker then waits on it forever, and an unbounded join hung `city` (CI, stop 21).
        # This thread re-enters that lock, so closing the bar below still works.
        ticker.join(timeout=TICKER_JOIN_S)
        logger.removeHandler(handler)
        logger.setLevel(saved)
        bar.close()


def _tick(bar, stop: threading.Event, every_s: float = 1.0) -> None:
    while not stop.wait(every_s):
        bar.refresh()
