"""The import contract of `make lint` (pyproject.toml, [tool.importlinter]) holds, and fails on an upward import.

Each case copies the five source packages into a temporary tree, adds one import, and runs `lint-imports`
there, so the contract is shown to catch what it promises to catch, not only to pass on today's code.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("service", "schedules", "device_adapters", "simulator", "config")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _tree(tmp_path: Path) -> Path:
    """A copy of the source packages and pyproject.toml, without caches."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(tree)}  # the copy shadows the editable install
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def _add_import(tree: Path, module: str, statement: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text(encoding="utf-8") + f"\n{statement}  # noqa\n", encoding="utf-8")


@pytest.fixture(scope="module")
def clean_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tree(tmp_path_factory.mktemp("clean"))


def test_the_contract_is_kept_by_the_code_as_it_is(clean_tree: Path) -> None:
    result = _lint(clean_tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "statement", "broken"), [
    # a table importing a request dependency: models is below api
    ("service.models.patients", "import service.api.deps", "service.models.patients -> service.api.deps"),
    # core importing a domain
    ("service.core.clock", "import service.audit.service", "service.core.clock -> service.audit.service"),
    # a domain calling a domain above it: courses is below bookings
    ("service.courses.service", "import service.bookings.planning",
     "service.courses.service -> service.bookings.planning"),
    # the pure planner importing the service
    ("schedules.plan", "import service.core.clock", "schedules.plan -> service.core.clock"),
    # the drivers and the simulator never import each other
    ("device_adapters.values", "import simulator.device", "device_adapters.values -> simulator.device"),
    # the drivers never load the web stack or a database
    ("device_adapters.clock", "import sqlalchemy", "device_adapters.clock -> sqlalchemy"),
])
def test_an_upward_import_breaks_the_contract(tmp_path: Path, module: str, statement: str, broken: str) -> None:
    tree = _tree(tmp_path)
    _add_import(tree, module, statement)
    result = _lint(tree)
    assert result.returncode != 0, result.stdout
    assert broken in result.stdout, result.stdout


@pytest.mark.parametrize(("packages", "absent"), [
    (["device_adapters", "device_adapters.agent.runner", "device_adapters.magstim.driver",
      "device_adapters.magventure.driver", "simulator.cli"], ["fastapi", "starlette", "sqlalchemy", "sqlmodel"]),
    (["schedules.planner", "schedules.gaps", "schedules.slots"], ["service", "fastapi", "sqlalchemy"]),
])
def test_lower_packages_import_without_what_sits_above_them(packages: list[str], absent: list[str]) -> None:
    """At run time too: importing them loads none of the modules they must not need."""
    code = ("import sys\n" + "".join(f"import {p}\n" for p in packages)
            + f"print(sorted(m for m in {absent!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=True)
    assert result.stdout.strip() == "[]", result.stdout
