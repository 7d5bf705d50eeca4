"""The `tmsops` command: serve, migrate, seed-demo, create-user, audit verify, and more."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from config.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from device_adapters.clock import Clock

app = typer.Typer(help="tmsops: operations and device sessions for TMS clinics", no_args_is_help=True,
                  pretty_exceptions_enable=False)
audit_app = typer.Typer(help="The audit trail", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _register_simulate() -> None:
    """`tmsops simulate`: the simulator's own command (it lives in simulator/, which owns its CLI)."""
    from simulator.cli import simulate

    app.command("simulate", help="Run a simulated stimulator on a pty (--pty) or TCP port (--tcp) until killed.")(
        simulate)


_register_simulate()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
) -> None:
    """Serve the API and web pages (Ctrl-C stops cleanly)."""
    import uvicorn

    from service.app import create_app

    settings = get_settings()
    typer.echo(f"tmsops serving on http://{host}:{port} ({settings.environment}, {_db_label(settings.database_url)})")
    from service.core.access_log import uvicorn_log_config
    from service.core.gc_policy import freeze_startup_objects
    from service.core.threads import MAX_CONCURRENT

    service = create_app(settings)
    freeze_startup_objects()
    # uvloop and httptools (uvicorn[standard]): the event loop and HTTP parser written in C.
    uvicorn.run(service, host=host, port=port, log_level="info", timeout_graceful_shutdown=5,
                limit_concurrency=MAX_CONCURRENT, loop="uvloop", http="httptools",
                access_log=settings.access_log, log_config=uvicorn_log_config())


@app.command("run-demo")
def run_demo(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
) -> None:
    """Serve, plus one chair agent per demo chair against the simulator (what `make run` runs)."""
    from service.demo import run

    raise typer.Exit(run(get_settings().database_url, host, port))


@app.command()
def migrate() -> None:
    """Apply database migrations up to the newest."""
    from service.core import migrate as migrations

    settings = get_settings()
    _ensure_sqlite_dir(settings.database_url)
    migrations.upgrade(settings.database_url)
    typer.echo(f"database is up to date ({_db_label(settings.database_url)})")


@app.command("seed-demo")
def seed_demo() -> None:
    """Create the demo clinic, chairs and accounts (passwords are printed once, when created)."""
    from service.auth.passwords import Passwords
    from service.core.clock import Clock
    from service.core.db import make_engine, session_scope
    from service.seed import DEMO_AGENT, DEMO_CLINIC
    from service.seed import seed_demo as do_seed

    settings = get_settings()
    with session_scope(make_engine(settings.database_url)) as session:
        result = do_seed(session, Passwords(settings), Clock().now())
    typer.echo(f"demo clinic: {DEMO_CLINIC}")
    agent_password = result.created_passwords.pop(DEMO_AGENT, None)
    if agent_password:
        from service.demo import AGENT_SECRET, write_agent_secret

        write_agent_secret(agent_password)
        typer.echo(f"chair-agent account '{DEMO_AGENT}': password stored in {AGENT_SECRET} for the demo agents")
    if result.created_passwords:
        typer.echo("demo accounts (passwords shown only now; write them down):")
        for username, password in result.created_passwords.items():
            typer.echo(f"  {username:<12} {password}")
    else:
        typer.echo("demo accounts already exist (their passwords were printed when they were created;"
                   " delete var/ to start over)")


@app.command("create-user")
def create_user(
    username: Annotated[str, typer.Option(help="Login name")],
    role: Annotated[str, typer.Option(help="technician | psychiatrist | admin | agent")],
    clinic: Annotated[str, typer.Option(help="Clinic name (created if it does not exist)")],
    display_name: Annotated[str | None, typer.Option(help="Printed name (defaults to the username)")] = None,
) -> None:
    """Create an account; the password is read from standard input."""
    from pydantic import ValidationError

    from service.audit.service import SYSTEM
    from service.auth.passwords import Passwords
    from service.clinics import service as clinics
    from service.core.clock import Clock
    from service.core.db import make_engine, session_scope
    from service.core.errors import ServiceError
    from service.users import service as users
    from service.users.schemas import UserCreate

    password = sys.stdin.readline().rstrip("\n")
    settings = get_settings()
    try:
        data = UserCreate(username=username, display_name=display_name or username, role=role, password=password)
        now = Clock().now()
        with session_scope(make_engine(settings.database_url)) as session:
            home = clinics.get_or_create(session, SYSTEM, clinic, now)
            user = users.create(session, SYSTEM, Passwords(settings), home.id or 0, data, now)
    except ValidationError as exc:
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    except ServiceError as exc:
        _fail(exc.message)
    typer.echo(f"created {user.role} '{user.username}' (id {user.id}) in clinic '{clinic}'")


@app.command()
def agent(
    chair: Annotated[int, typer.Option("--chair", help="Chair id this agent serves")],
    device: Annotated[str, typer.Option(help="Serial URL: /dev/ttyUSB0, COM3, socket://h:p, sim://magstim-rapid2")],
    model: Annotated[str, typer.Option(help="magstim-200 | magstim-bistim | magstim-rapid2 | magventure-r30 | "
                                            "magventure-x100")],
    service: Annotated[str, typer.Option(help="Service base URL")] = "http://127.0.0.1:8000",
    username: Annotated[str, typer.Option(envvar="TMS_AGENT_USERNAME", help="Service-account username")] = "",
    password_file: Annotated[str | None, typer.Option(help="File holding the password (else TMS_AGENT_PASSWORD)")]
    = None,
    outbox: Annotated[str | None, typer.Option(help="Outbox file (default var/agent-chair-N.outbox.db)")] = None,
    unlock_code: Annotated[str | None, typer.Option(help="Rapid² (firmware 9+) unlock code")] = None,
    speed: Annotated[float, typer.Option(help="Simulators only: the device clock runs this many times faster "
                                               "(0 with sim://: virtual time, as fast as the CPU allows)")] = 1.0,
    heartbeat: Annotated[float, typer.Option(min=0.1, help="Seconds between heartbeats to the service")] = 2.0,
    reconnect: Annotated[float, typer.Option(min=0, help="Seconds a run waits for a lost line to a unit that goes "
                                                        "on alone (a MagPro) to come back, to stop it and read its "
                                                        "counter; 0: do not wait")] = 5.0,
) -> None:
    """Run a chair agent: own one stimulator, record what it delivers, report to the service."""
    import logging
    import os
    import signal
    from pathlib import Path

    from device_adapters.agent.runner import AgentConfig, ChairAgent
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s agent[chair {chair}] %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per heartbeat drowns what matters
    password = Path(password_file).read_text().strip() if password_file else os.environ.get("TMS_AGENT_PASSWORD", "")
    if not username or not password:
        _fail("the agent needs --username (or TMS_AGENT_USERNAME) and a password (--password-file or "
              "TMS_AGENT_PASSWORD)")
    clock: Clock | None = None
    options: dict[str, object] = {"unlock_code": unlock_code} if unlock_code else {}
    if device.startswith("sim://"):
        device, clock = _simulated_device(device, speed)
    elif speed != 1.0:  # a simulator process running at --speed: the driver's clock and timeouts follow it
        from device_adapters.clock import ScaledClock

        clock = ScaledClock(speed)
        options["reply_timeout_s"] = 0.5 * speed
    outbox_path = Path(outbox or f"var/agent-chair-{chair}.outbox.db")
    outbox_path.parent.mkdir(parents=True, exist_ok=True)
    config = AgentConfig(chair_id=chair, device_url=device, model=model, service_url=service, username=username,
                         password=password, outbox_path=outbox_path, device_options=options,
                         clock=clock, heartbeat_s=heartbeat, reconnect_s=reconnect)
    runner = ChairAgent(config)
    signal.signal(signal.SIGTERM, lambda *_: runner.shutdown())
    try:
        runner.run()
    except KeyboardInterrupt:
        runner.shutdown()


def _simulated_device(url: str, speed: float) -> tuple[str, Clock | None]:
    """A simulator in this process; at ``speed`` != 1 it and the driver share one scaled (or virtual) clock."""
    from datetime import UTC, datetime
    from urllib.parse import parse_qs, urlsplit

    import simulator

    if speed == 1.0:
        return url, None
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    clock = simulator.VirtualClock(epoch=datetime.now(UTC)) if speed == 0 else simulator.ScaledClock(speed)
    sim = simulator.Simulator(parts.netloc, query.pop("firmware", None), query.pop("unlock_code", None),
                              query.pop("faults", None), clock=clock, **query)
    return sim.url, sim.clock  # the simulator clock satisfies the driver Clock protocol


@audit_app.command("verify")
def audit_verify(
    checkpoints: Annotated[Path | None, typer.Option(
        help="Also prove the database matches every signed checkpoint in this file")] = None,
    public_key: Annotated[Path | None, typer.Option(
        help="PEM of the checkpoint signing key (public or private); default: TMS_AUDIT_SIGNING_KEY_FILE")] = None,
    seal_first: Annotated[bool, typer.Option("--seal/--no-seal",
        help="Seal the rows committed so far before checking (writes; off: a read-only check)")] = False,
) -> None:
    """Check the sealed chain link by link and each row not yet sealed; exit 1 naming the first bad row."""
    from service.audit.checkpoints import verify_checkpoints
    from service.audit.keys import load_public_key
    from service.audit.verify import verify_chain
    from service.core.db import make_engine

    settings = get_settings()
    engine = make_engine(settings.database_url)
    if seal_first:
        _seal(engine)
    result = verify_chain(engine)
    if not result.ok:
        _fail(f"audit chain broken: {result.problem} ({result.rows_checked} rows verified before it)")
    typer.echo(f"audit chain intact: {result.rows_checked} rows verified "
               f"({result.sealed} sealed, {result.unsealed} not yet sealed)")
    if checkpoints is not None:
        key = load_public_key(public_key or settings.audit_signing_key_file)
        proof = verify_checkpoints(engine, checkpoints, key)
        if not proof.ok:
            _fail(f"audit chain does not match its checkpoints: {proof.problem} "
                  f"({proof.checked} checkpoints matched before it)")
        typer.echo(f"audit checkpoints match: {proof.checked} signed checkpoints in {checkpoints}")


@audit_app.command("seal")
def audit_seal() -> None:
    """Link every committed, unsealed audit row into the chain now and write a signed checkpoint."""
    from service.core.db import make_engine

    _seal(make_engine(get_settings().database_url))


@audit_app.command("keygen")
def audit_keygen(
    path: Annotated[Path | None, typer.Argument(help="Where to write the private key (default: "
                                                     "TMS_AUDIT_SIGNING_KEY_FILE)")] = None,
) -> None:
    """Make the Ed25519 key that signs audit checkpoints (mode 0600) and print its public half."""
    from service.audit.keys import public_key_pem, write_signing_key

    target = path or get_settings().audit_signing_key_file
    try:
        key = write_signing_key(target)
    except FileExistsError:
        _fail(f"{target} exists: a signing key is never overwritten (checkpoints it signed would stop verifying)")
    typer.echo(f"audit signing key written to {target}; its public key (keep a copy with the checkpoints):")
    typer.echo(public_key_pem(key).decode().rstrip())


def _seal(engine: Engine) -> None:
    from service.audit.sealer import checkpoint_log, seal
    from service.core.clock import Clock

    settings = get_settings()
    result = seal(engine, Clock().now(), checkpoints=checkpoint_log(settings))
    typer.echo(f"audit rows sealed: {result.sealed}")
    if result.refused:
        _fail(f"rows {result.refused} were changed before they were sealed and were left unsealed")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _db_label(url: str) -> str:
    return url.split("@")[-1] if "@" in url else url


def _ensure_sqlite_dir(url: str) -> None:
    from pathlib import Path

    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
