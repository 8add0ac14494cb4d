"""Run every benchmark in this directory (``bench_*.py``), one after the other.

    python benchmarks/run.py [ARGS...]      # ARGS go to each benchmark's main()

Each benchmark module has ``main(argv) -> int``; ``nox -s bench`` calls this script.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    status = 0
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module  # dataclasses look their module up by name
        spec.loader.exec_module(module)
        print(f"== {path.name}", flush=True)
        status |= module.main(args)
        print(flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
