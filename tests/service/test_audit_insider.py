"""An insider rewrites the audit trail with the project's own code; the key and the signed checkpoints catch it.

The insider has write access to the database and runs this project's sealer to rebuild the chain after
editing a row. Without the HMAC key the rebuilt links do not verify; with the key they do, but the signed
checkpoints (outside the database, signed with a key the insider does not hold) no longer match.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.engine import Engine

from service.app import create_app
from service.audit.chain import GENESIS_HASH
from service.audit.keys import audit_key, write_signing_key
from service.audit.sealer import CheckpointLog, seal
from service.audit.verify import verify_chain
from service.core.clock import FrozenClock
from tests.conftest import T0, fresh_database, make_tenant, patient_body, settings_for


@dataclass
class Deployment:
    url: str
    engine: Engine
    checkpoints: Path
    signing_key: Path
    edited_id: int


@pytest.fixture
def deployment(db_kind: str, tmp_path: Path) -> Deployment:
    """A service whose requests were sealed batch by batch, each batch checkpointed to a file outside the database."""
    url, engine = fresh_database(db_kind, tmp_path)
    signing_key = tmp_path / "keys" / "audit-signing.pem"
    log = CheckpointLog(tmp_path / "elsewhere" / "checkpoints.jsonl", write_signing_key(signing_key))
    app = create_app(settings_for(url), engine=engine, clock=FrozenClock(T0))
    client = make_tenant(app).client("technician")
    seal(engine, T0, checkpoints=log)
    for i in range(3):
        pid = client.post("/api/v1/patients", json=patient_body(family_name=f"P{i}")).json()["id"]
        client.get(f"/api/v1/patients/{pid}")
        seal(engine, T0, checkpoints=log)
    with engine.connect() as conn:
        edited = conn.execute(text("SELECT min(id) FROM audit_event WHERE action = 'read'")).scalar_one()
    return Deployment(url, engine, log.path, signing_key, edited)


def _rewrite_history(engine: Engine, row_id: int, key: bytes) -> None:
    """What an insider with database write access does: edit a row, then rebuild every link with our sealer."""
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if postgres:
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_update"))
        conn.execute(text(f"UPDATE audit_event SET reason = 'never read this chart' WHERE id = {row_id}"))
        conn.execute(text("UPDATE audit_event SET seq = NULL, prev_hash = NULL, hash = NULL, digest = NULL"))
        conn.execute(text(f"UPDATE audit_head SET last_seq = 0, last_event_id = 0, last_hash = '{GENESIS_HASH}'"))
        if postgres:
            conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    assert seal(engine, T0, key=key).refused == []  # the project's own sealer rebuilds the chain


def _cli_verify(d: Deployment, *extra: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"TMS_DATABASE_URL": d.url, "TMS_AUDIT_SIGNING_KEY_FILE": str(d.signing_key)}
    return subprocess.run([sys.executable, "-m", "service.cli", "audit", "verify", *extra],
                          capture_output=True, text=True, env=env, timeout=60)


def test_untouched_trail_matches_its_checkpoints(deployment: Deployment) -> None:
    cli = _cli_verify(deployment, "--checkpoints", str(deployment.checkpoints))
    assert cli.returncode == 0, cli.stderr
    assert "audit chain intact" in cli.stdout and "audit checkpoints match: 4 signed checkpoints" in cli.stdout


def test_insider_without_the_key_is_caught(deployment: Deployment) -> None:
    _rewrite_history(deployment.engine, deployment.edited_id, key=b"a guess at the key")
    assert not verify_chain(deployment.engine).ok
    cli = _cli_verify(deployment, "--checkpoints", str(deployment.checkpoints))
    assert cli.returncode == 1 and "was changed after it was written" in cli.stderr


def test_insider_with_the_hmac_key_but_not_the_signing_key_is_caught_by_the_checkpoints(
        deployment: Deployment) -> None:
    _rewrite_history(deployment.engine, deployment.edited_id, key=audit_key())
    assert verify_chain(deployment.engine).ok  # the chain alone cannot tell: the insider holds its key
    assert _cli_verify(deployment).returncode == 0
    cli = _cli_verify(deployment, "--checkpoints", str(deployment.checkpoints))
    assert cli.returncode == 1
    assert "does not match checkpoint line" in cli.stderr and "rewritten" in cli.stderr


def test_a_checkpoint_forged_with_another_key_is_refused(deployment: Deployment) -> None:
    _rewrite_history(deployment.engine, deployment.edited_id, key=audit_key())
    # The insider also rewrites the checkpoint file, signing with a key of their own.
    lines = [json.loads(raw) for raw in deployment.checkpoints.read_text().splitlines()]
    with deployment.engine.connect() as conn:
        hashes = dict(conn.execute(text("SELECT seq, hash FROM audit_event")).all())
    forger = Ed25519PrivateKey.generate()
    for line in lines:
        line["hash"] = hashes[line["position"]]
        body = json.dumps({k: line[k] for k in ("at", "hash", "position")}, sort_keys=True, separators=(",", ":"))
        line["signature"] = base64.b64encode(forger.sign(body.encode())).decode()
    deployment.checkpoints.write_text("".join(json.dumps(line) + "\n" for line in lines))
    cli = _cli_verify(deployment, "--checkpoints", str(deployment.checkpoints))
    assert cli.returncode == 1 and "not signed by the audit signing key" in cli.stderr


def test_removed_tail_is_caught_by_the_checkpoints(deployment: Deployment) -> None:
    """Rows at the end deleted and the head rolled back to match: only the checkpoints still know the tail."""
    with deployment.engine.begin() as conn:
        last, = conn.execute(text("SELECT max(seq) FROM audit_event")).one()
        keep = last - 2
        before = conn.execute(text(f"SELECT id, hash FROM audit_event WHERE seq = {keep}")).one()
        if deployment.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_delete"))
        conn.execute(text(f"DELETE FROM audit_event WHERE seq > {keep}"))
        conn.execute(text(f"UPDATE audit_head SET last_seq = {keep}, last_event_id = {before[0]}, "
                          f"last_hash = '{before[1]}'"))
    assert verify_chain(deployment.engine).ok
    cli = _cli_verify(deployment, "--checkpoints", str(deployment.checkpoints))
    assert cli.returncode == 1 and "no longer has: rows were removed" in cli.stderr


def test_seal_on_demand_writes_a_checkpoint(deployment: Deployment, tmp_path: Path) -> None:
    with deployment.engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_event (at, action, entity, digest) "
                          "VALUES ('2026-11-23 14:00:00+00:00', 'probe', 'x', NULL)"))
    env = os.environ | {"TMS_DATABASE_URL": deployment.url, "TMS_AUDIT_SIGNING_KEY_FILE": str(deployment.signing_key),
                        "TMS_AUDIT_CHECKPOINTS": str(deployment.checkpoints)}
    cli = subprocess.run([sys.executable, "-m", "service.cli", "audit", "seal"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert cli.returncode == 0 and "audit rows sealed: 1" in cli.stdout, cli.stderr
    verified = _cli_verify(deployment, "--checkpoints", str(deployment.checkpoints))
    assert verified.returncode == 0 and "5 signed checkpoints" in verified.stdout, verified.stderr
