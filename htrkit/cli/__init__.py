"""The ``htrkit`` command line.

Subcommands are added by plugins through ``htrkit_register_commands``; htrkit's own come
from ``htrkit.default_plugins.commands``. Errors are printed as one line on stderr
(``HTRKIT_DEBUG=1`` shows the traceback).

Exit codes: 0 success, 1 some inputs failed, 2 bad usage (nothing read), 3 internal error,
130 interrupted.
"""

from __future__ import annotations

import os
import sys
import warnings

import typer

from htrkit._version import __version__
from htrkit.errors import HtrkitError

HELP = """Read handwriting: words, lines and whole pages to text.

Every stage (loader, segmenter, model, decoder, writer, metric) is a plugin; `htrkit plugins`
lists what is installed."""


def _debug() -> bool:
    return os.environ.get("HTRKIT_DEBUG", "") not in ("", "0")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"htrkit {__version__}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    """The root application, with every plugin's commands added."""
    from htrkit.plugins import get_plugin_manager

    app = typer.Typer(
        name="htrkit",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def root(
        version: bool = typer.Option(
            False, "--version", callback=_version, is_eager=True, help="Print the version."
        ),
    ) -> None:
        """Read handwriting: words, lines and whole pages to text."""

    get_plugin_manager().add_commands(app)
    return app


def _format_warning(message, category, filename, lineno, line=None) -> str:
    return f"htrkit: warning: {message}\n"


def error(message: str) -> None:
    """Print one error line on stderr (a newline inside, from a file's name, shown as
    ``\\n``)."""
    message = str(message).replace("\r", "\\r").replace("\n", "\\n")
    sys.stderr.write(f"htrkit: error: {message}\n")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``htrkit`` console script."""
    if not _debug():
        warnings.formatwarning = _format_warning
    try:
        app = build_app()
        app(args=argv, prog_name="htrkit")
    except HtrkitError as exc:
        if _debug():
            raise
        error(str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("htrkit: interrupted\n")
        sys.exit(130)
    except BrokenPipeError:  # the reader of stdout went away (htrkit run ... | head)
        _quiet_stdout()
        sys.exit(1)
    except OSError as exc:  # the machine refused: a full disk, a permission, a lost folder
        if _debug():
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        error(f"{where or 'the system refused: '}{exc.strerror or exc}")
        sys.exit(1)
    except Exception as exc:  # a bug: still one line, unless debugging
        if _debug():
            raise
        error(f"internal error: {type(exc).__name__}: {exc} (HTRKIT_DEBUG=1 shows the traceback)")
        sys.exit(3)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit raises nothing more."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
