"""``python -m simulator --model magstim-rapid2 --pty``."""

from __future__ import annotations

import typer

from simulator.cli import simulate


def main() -> None:
    """Run ``simulate`` as a one-command app."""
    typer.run(simulate)


if __name__ == "__main__":
    main()
