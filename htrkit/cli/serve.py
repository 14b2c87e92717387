"""``htrkit serve``: the drawing and upload page with its JSON API (:mod:`htrkit.web`)."""

from __future__ import annotations

import typer

from htrkit.errors import ConfigError


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", "-p", help="Port to listen on.", min=0, max=65535),
    model: str = typer.Option("default", "--model", "-m", help="Model for words, lines, pages."),
    digit_model: str = typer.Option("digits", "--digit-model", help="Model for single digits."),
    decoder: str = typer.Option(
        "auto", "--decoder", "-d", help="Decoder chosen at first [default: the model's own]."
    ),
    max_upload_mb: float = typer.Option(
        10.0, "--max-upload-mb", help="Largest request body, in MB (larger gets 413)."
    ),
    max_megapixels: float = typer.Option(
        40.0, "--max-megapixels", help="Largest image, in megapixels (larger gets 400)."
    ),
    workers: int = typer.Option(2, "--workers", help="Recognition threads.", min=1),
    max_pending: int = typer.Option(
        16, "--max-pending", help="Requests waiting before new ones get 503.", min=1
    ),
    request_timeout: float = typer.Option(
        30.0,
        "--request-timeout",
        help="Seconds a client has to send a whole request (headers and body); slower "
        "connections are closed.",
        min=0.1,
    ),
    allowed_host: list[str] = typer.Option(
        [],
        "--allowed-host",
        help="A host name the server is reached by (repeatable; '*' for any). The address "
        "it listens on and the loopback names are always allowed.",
    ),
) -> None:
    """Serve a page to draw or upload handwriting on and read it, with a JSON API.

    Binds to 127.0.0.1 unless --host says otherwise; the API is described at /openapi.json.
    """
    try:
        import uvicorn

        from htrkit.web.app import Settings, create_app
        from htrkit.web.protocol import guarded
    except ImportError as exc:  # pragma: no cover - the web dependencies are required ones
        raise ConfigError(f"htrkit serve needs {exc.name}: pip install htrkit") from None
    if max_upload_mb <= 0 or max_megapixels <= 0:
        raise ConfigError("--max-upload-mb and --max-megapixels must be positive")
    settings = Settings(
        model=model,
        digit_model=digit_model,
        decoder=decoder,
        max_upload_bytes=int(max_upload_mb * 2**20),
        max_pixels=int(max_megapixels * 1e6),
        workers=workers,
        max_pending=max_pending,
        allowed_hosts=_hosts(host, allowed_host),
    )
    _check_port(host, port)
    app = create_app(settings)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"htrkit serve: http://{shown}:{port}/  (Ctrl+C stops)", err=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,  # no "server: uvicorn" banner
        timeout_keep_alive=5,
        http=guarded(request_timeout),  # h11, with a deadline on each request's arrival
    )


def _hosts(host: str, extra: list[str]) -> tuple[str, ...]:
    """The Host values answered: the loopback names, the bound address, and --allowed-host."""
    names = ["127.0.0.1", "localhost", "[::1]"]
    if host not in ("0.0.0.0", "::"):
        names.append(f"[{host}]" if ":" in host else host)
    return tuple(dict.fromkeys([*names, *extra]))


def _check_port(host: str, port: int) -> None:
    """A one-line usage error, before any banner, when the address cannot be bound."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"{host}:{port} is in use by another program; choose another with --port"
                ) from None
            raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
