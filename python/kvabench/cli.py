"""The `kvabench` console command: the C++ runner's CLI (run, archs, faults, --help,
--version), linked into kvabench._core, plus `sweep`, which is Python (local processes or Dask).
`python -m kvabench` is the same command."""
from __future__ import annotations

import sys
from typing import List, Optional

from . import _core


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command on argv (default sys.argv[1:]); returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "sweep":
        from .sweep import sweep_main

        return sweep_main(args[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    return _core.cli_main(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
