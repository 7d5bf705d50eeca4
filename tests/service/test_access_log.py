"""`tmsops serve` writes no access line by default, and one JSON line per request with TMS_ACCESS_LOG=true."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import fresh_database
from tests.live import free_port, wait_healthy


def _serve_and_request(tmp_path: Path, access_log: bool) -> list[str]:
    url, engine = fresh_database("sqlite", tmp_path)
    engine.dispose()
    port = free_port()
    out = tmp_path / "stdout.log"
    env = os.environ | {"TMS_DATABASE_URL": url, "TMS_ENVIRONMENT": "test", "TMS_ACCESS_LOG": str(access_log).lower()}
    with out.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)], env=env,
                                stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, "tmsops serve", out.read_text)
        assert httpx.get(f"{base}/api/v1/patients?q=Jane%20Doe").status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return out.read_text().splitlines()


def test_access_log_is_off_by_default(tmp_path: Path) -> None:
    lines = _serve_and_request(tmp_path, access_log=False)
    assert not [line for line in lines if "/api/v1/" in line]


def test_access_log_is_one_json_line_per_request_without_the_query(tmp_path: Path) -> None:
    lines = _serve_and_request(tmp_path, access_log=True)
    records = [json.loads(line) for line in lines if line.startswith("{")]
    patients = [r for r in records if r.get("path") == "/api/v1/patients"]
    assert len(patients) == 1
    assert patients[0]["method"] == "GET" and patients[0]["status"] == 401 and patients[0]["time"]
    assert "Jane" not in "\n".join(lines)  # the query string (a patient's name here) is never logged
    assert any(r.get("path") == "/api/v1/health" and r["status"] == 200 for r in records)
