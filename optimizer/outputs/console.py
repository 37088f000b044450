"""The console's language and its one line at Ctrl-C (issue 15).

Every command takes ``--lang zh|en``. Without it the console speaks ``LIFECIRCLE_LANG`` when set
(a person's or a test run's standing choice), else the language of what the command reads (the
scenario's ``language``, a city's first circle, a result's report), else English. Its words come
from the report's catalogue (:mod:`optimizer.outputs.i18n`).

At Ctrl-C the CLI prints :func:`interrupted_line` and exits 130: what was finished and where it
was written, from the ``step`` and ``phase`` events of the run (sweep budgets, city circles,
bench jobs). Outputs are written atomically, so an interrupted folder is either whole or absent.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from pathlib import Path

from lifecircle.optimizer.core import events
from lifecircle.optimizer.outputs.i18n import DEFAULT_LANGUAGE, LANGUAGES, t

ENV_LANG = "LIFECIRCLE_LANG"
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

_state = threading.local()
_lang = {"value": DEFAULT_LANGUAGE}


def language() -> str:
    """The console's language for this command."""
    return _lang["value"]


def use_language(lang: str | None, source=None, kind: str = "scenario") -> str:
    """Decide the console language: ``lang``, else $LIFECIRCLE_LANG, else what ``source`` says
    (``kind``: "scenario" a scenario file, "city" a city folder, "result" a result folder),
    else English. Never fails: an unreadable source is simply English."""
    chosen = lang if lang in LANGUAGES else os.environ.get(ENV_LANG)
    if chosen not in LANGUAGES and source is not None:
        try:
            chosen = _source_language(Path(source), kind)
        except Exception:  # noqa: BLE001 - the command itself reports a bad input, in full
            chosen = None
    _lang["value"] = chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE
    return _lang["value"]


def _scenario_language(path: Path):
    import yaml

    if not path.is_file() or path.stat().st_size > 1_000_000:
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    return data.get("language") if isinstance(data, dict) else None


def _source_language(path: Path, kind: str):
    if kind == "scenario":
        return _scenario_language(path)
    if kind == "city":  # the first circle's scenario speaks for the city
        first = next(iter(sorted(path.glob("*/scenario.yaml"))), None)
        return None if first is None else _scenario_language(first)
    if kind == "result":
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        lang = summary.get("language")
        if lang in LANGUAGES:
            return lang
        scenario = summary.get("scenario_path") or summary.get("scenario_file")
        return None if not scenario else _scenario_language(Path(scenario))
    return None


def say(key: str, **values) -> str:
    """A console text in the console's language."""
    return t(key, language(), **values)


def lang_option(source: str | None = None, kind: str = "scenario"):
    """``--lang zh|en`` for a command that has no language of its own: the option is consumed
    here (the command never sees it) and sets the console language, by default from the command's
    argument ``source`` (a scenario, city or result folder, as ``kind`` says)."""
    import click

    def decorate(command):
        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            use_language(kwargs.pop("console_lang", None), kwargs.get(source) if source else None, kind)
            return command(*args, **kwargs)

        return click.option("--lang", "console_lang", type=click.Choice(list(LANGUAGES)), default=None,
                            help="Console language (default: $LIFECIRCLE_LANG, else the scenario's "
                                 "`language`, else en).")(wrapper)

    return decorate


# ---- Ctrl-C ----


class _Tracker:
    """What the run finished so far, from its events: the latest phase and the latest count."""

    def __init__(self, command: str):
        self.command = command
        self.phase: str | None = None
        self.step: dict | None = None

    def __call__(self, kind: str, **fields) -> None:
        if kind == "phase":
            key = fields.get("key")
            values = {k: v for k, v in fields.items() if k not in ("key", "message")}
            try:
                self.phase = t(key, language(), **values) if key else fields.get("message")
            except (KeyError, IndexError, ValueError):
                self.phase = fields.get("message")
        elif kind == "step":
            self.step = fields


def tracking(command: str):
    """Follow the run's events until the command ends, for :func:`interrupted_line`."""
    tracker = _Tracker(command)
    _state.tracker = tracker
    return events.subscribe(tracker)


def interrupted_line() -> str:
    """The one line printed at Ctrl-C, in the console's language."""
    tracker = getattr(_state, "tracker", None)
    if tracker is None:
        return say("console.interrupted")
    step = tracker.step or {}
    done, total, label = step.get("done"), step.get("total"), step.get("label")
    if done is not None and total is not None:
        if label == "circles":
            return say("console.interrupted_city", done=done, total=total, path=step.get("out_dir"))
        if label == "jobs":
            return say("console.interrupted_bench", done=done, total=total, path=step.get("out_dir"))
        if label == "budgets":
            return say("console.interrupted_sweep", done=done, total=total)
    if tracker.phase:
        return say("console.interrupted_during", phase=tracker.phase)
    return say("console.interrupted")


# ---- the CLI's group: one-line errors and warnings, and Ctrl-C ----


def _show_warning(message, category, filename, lineno, file=None, line=None):
    import logging

    import click

    if logging.getLogger("lifecircle").isEnabledFor(logging.WARNING):  # not --quiet
        click.echo(say("console.warning", message=message), err=True)


def _group_class():
    import click

    class OneLineGroup(click.Group):
        """click's group, with every usage error as one ``error: ...`` line (exit 2) and Python or
        library warnings kept off stderr: a LifecircleWarning is one ``warning: ...`` line, others
        are dropped (they would otherwise print two lines of source before the error line). Ctrl-C
        is one line saying what was finished and where it is (issue 15), exit 130, no traceback."""

        def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
            import sys
            import warnings

            from lifecircle.optimizer.errors import LifecircleWarning

            if not standalone_mode:
                return super().main(args, prog_name, complete_var, standalone_mode, **extra)
            # a usage error comes before the command sets its language: take --lang or the env's
            use_language(_lang_in(sys.argv[1:] if args is None else list(args)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                warnings.simplefilter("always", LifecircleWarning)
                warnings.showwarning = _show_warning
                try:
                    super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
                except click.exceptions.Exit as done:  # --help, --version
                    sys.exit(done.exit_code)
                except click.ClickException as error:
                    click.echo(say("console.error", message=usage_message(error)), err=True)
                    sys.exit(error.exit_code)
                except click.Abort:
                    click.echo(say("console.error", message=say("cmd.click.aborted")), err=True)
                    sys.exit(1)
            sys.exit(0)

        def invoke(self, ctx):
            import sys

            try:
                return super().invoke(ctx)
            except KeyboardInterrupt:  # before click turns it into "Aborted!"
                _quiet_interrupted_threads()
                click.echo(interrupted_line(), err=True)
                sys.stdout.flush()
                sys.stderr.flush()
                # At once: solver threads still stopping would hold a normal exit, or abort it from
                # C++ destructors. Every `finally` has run (temporaries removed, Dask closed) and
                # every output is atomic, so nothing is left half written.
                os._exit(EXIT_INTERRUPTED)

    return OneLineGroup


def _lang_in(args: list) -> str | None:
    """The value of ``--lang`` among the raw arguments, if any."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if isinstance(arg, str) and arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def usage_message(error) -> str:
    """A click error as one line, with the command's --help named for a usage error. In English
    click's own words; in Chinese the frame of the common kinds (missing, invalid, unknown option)
    is translated and click's detail (e.g. "'abc' is not a valid float") stays as click says it."""
    import click

    ctx = getattr(error, "ctx", None)
    usage = isinstance(error, click.UsageError) and ctx
    if language() == "en":
        hint = f" (see '{ctx.command_path} --help')" if usage else ""
        return " ".join(error.format_message().split()) + hint
    message = _usage_frame(error) or error.format_message()
    return " ".join(message.split()) + (say("cmd.click.see_help", command=ctx.command_path) if usage else "")


def _usage_frame(error) -> str | None:
    import click
    from click.exceptions import _join_param_hints

    if isinstance(error, click.NoSuchOption):
        more = say("cmd.click.did_you_mean", options=", ".join(sorted(error.possibilities))) if error.possibilities else ""
        return say("cmd.click.no_such_option", name=error.option_name) + more
    if not isinstance(error, click.BadParameter):
        return None
    hint = error.param_hint if error.param_hint is not None else (
        error.param.get_error_hint(error.ctx) if error.param is not None else None)
    hint = _join_param_hints(hint) or ""
    if isinstance(error, click.MissingParameter):
        kind = error.param_type or (error.param.param_type_name if error.param is not None else "parameter")
        key = "cmd.click.missing_option" if kind == "option" else "cmd.click.missing_argument"
        extra = error.param.type.get_missing_message(param=error.param, ctx=error.ctx) if error.param is not None else ""
        detail = " ".join(x for x in (error.message, extra) if x)
        return say(key, hint=hint) + detail
    return say("cmd.click.invalid", hint=hint, message=error.message) if hint else None


def _quiet_interrupted_threads() -> None:
    """Keep the stopping threads' exceptions off stderr: the one line says it all."""
    threading.excepthook = lambda args: None


OneLineGroup = _group_class()


def counting(bar, total: int, label: str, out_dir=None):
    """``on_step(n)`` for counted work: advances ``bar`` and tells the Ctrl-C line how many of
    ``total`` ``label`` ("budgets", "jobs") are finished (a hidden bar counts nothing itself)."""
    done = [0]
    lock = threading.Lock()

    def on_step(n: int = 1) -> None:
        with lock:
            done[0] += n
            # told before the bar shows it: a Ctrl-C at the sight of the bar finds the count
            events.emit("step", done=done[0], total=total, label=label, out_dir=None if out_dir is None else str(out_dir))
            bar.update(n)

    return on_step
