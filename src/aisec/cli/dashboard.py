"""``aisec dashboard``: serve the read-only lifecycle dashboard."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from aisec.cli._common import db_option, key_option, stderr_console
from aisec.core.errors import InputError

__all__ = ["dashboard_command"]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command(name="dashboard")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8700, show_default=True)
@click.option(
    "--token",
    envvar="AISEC_DASHBOARD_TOKEN",
    default=None,
    help="Require this token (Bearer header or ?token= once) [env AISEC_DASHBOARD_TOKEN]. "
    "Needed to bind anything but loopback.",
)
@click.option(
    "--admin-token",
    envvar="AISEC_DASHBOARD_ADMIN_TOKEN",
    default=None,
    help="Enable triage forms for whoever opens /admin?token=… with this token "
    "[env AISEC_DASHBOARD_ADMIN_TOKEN]; needs --key. Without it the dashboard is read-only.",
)
@key_option(help_text="Private key that signs triage decisions made in the dashboard.")
@db_option()
def dashboard_command(
    host: str,
    port: int,
    token: str | None,
    admin_token: str | None,
    key_path: Path | None,
    db: str | None,
) -> None:
    """Serve the lifecycle dashboard over the evidence store (read-only unless an admin
    token and a signing key enable triage)."""
    import uvicorn

    from aisec.core.evidence import EvidenceStore
    from aisec.dashboard import create_app

    if not _is_loopback(host) and not token:
        raise InputError(
            f"refusing to serve the dashboard on {host} without a token: set --token or "
            "AISEC_DASHBOARD_TOKEN, or bind 127.0.0.1"
        )
    if token is not None and len(token) < 16:
        raise InputError("the dashboard token must be at least 16 characters")
    if admin_token is not None and len(admin_token) < 16:
        raise InputError("the admin token must be at least 16 characters")
    if admin_token is not None and token is not None and admin_token == token:
        raise InputError("the admin token must differ from the read token")
    store = EvidenceStore.open(db, create=False)
    recorder = None
    if admin_token is not None:
        from aisec.core.evidence import default_key_path, load_signing_key
        from aisec.core.evidence.recorder import StoreRecorder

        recorder = StoreRecorder.for_store(store, load_signing_key(key_path or default_key_path()))
    app = create_app(store, token=token, admin_token=admin_token, recorder=recorder)
    _check_port(host, port)
    stderr_console().print(
        f"aisec dashboard on http://{host}:{port}/ over {store.url} "
        f"({'triage enabled at /admin' if recorder else 'read-only'}; Ctrl-C to stop)",
        markup=False,
    )
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        store.close()


def _check_port(host: str, port: int) -> None:
    """A port already in use is bad input (exit 2 with one line), not a crash."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(
                f"cannot serve the dashboard on {host}:{port}: {exc.strerror}; pick another --port"
            ) from None
