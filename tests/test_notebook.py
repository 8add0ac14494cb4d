"""examples/notebook.ipynb runs top to bottom in a real Jupyter kernel, against the simulator.

The kernel is ipykernel on this very interpreter (``sys.executable``): a private kernelspec
named ``python3`` in a temporary directory, so a ``python3`` kernelspec installed elsewhere on
the machine (another Python, another environment) is never picked up. It talks to the test
over IPC sockets in that directory where the OS has them (no TCP ports, no warning about
unencrypted TCP). Any cell error fails the test (nbclient's ``CellExecutionError``, with the
cell and its traceback).

The notebook is stored with the outputs of a run, for reading it on GitHub. After editing it,
refresh them with ``python tests/test_notebook.py --write``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "notebook.ipynb"


def execute(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Run every cell of ``nb`` in a fresh kernel on this interpreter; returns ``nb``."""
    # short paths: an AF_UNIX socket path has a ~100 byte limit (pytest's tmp_path can be longer)
    with tempfile.TemporaryDirectory(prefix="aiotws-nb-") as tmp:
        kernels = Path(tmp) / "kernels"
        (kernels / "python3").mkdir(parents=True)
        spec = {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (aiotws tests)",
            "language": "python",
        }
        (kernels / "python3" / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
        ksm = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
        ipc = os.name == "posix"
        km = AsyncKernelManager(
            kernel_name="python3",
            kernel_spec_manager=ksm,
            connection_file=str(Path(tmp) / "kernel.json"),
            transport="ipc" if ipc else "tcp",
            **({"ip": str(Path(tmp) / "ipc")} if ipc else {}),
        )
        client = NotebookClient(
            nb,
            km=km,
            timeout=60,  # per cell: a hang fails instead of stalling the suite
            startup_timeout=60,
            kernel_name="python3",
            resources={"metadata": {"path": tmp}},  # the kernel's working directory
        )
        client.execute(cleanup_kc=True)  # our km: shut the kernel down, close its sockets
    return nb


@pytest.fixture(scope="module")
def executed() -> Iterator[nbformat.NotebookNode]:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # one extra cell at the end: which interpreter the kernel ran on
    nb.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.executable)"))
    yield execute(nb)


def _outputs(nb: nbformat.NotebookNode, source_marker: str) -> list[dict[str, Any]]:
    """The outputs of the one code cell whose source contains ``source_marker``."""
    cells = [c for c in nb.cells if c.cell_type == "code" and source_marker in c.source]
    assert len(cells) == 1, f"{len(cells)} cells contain {source_marker!r}"
    outputs: list[dict[str, Any]] = cells[0].outputs
    return outputs


def _text(outputs: list[dict[str, Any]]) -> str:
    parts = []
    for o in outputs:
        if o["output_type"] == "stream":
            parts.append(o["text"])
        elif o["output_type"] in ("execute_result", "display_data"):
            parts.append(o["data"].get("text/plain", ""))
    return "".join(parts)


def test_the_kernel_runs_on_this_interpreter(executed: nbformat.NotebookNode) -> None:
    assert _text(executed.cells[-1].outputs).strip() == sys.executable


def test_no_cell_wrote_an_error(executed: nbformat.NotebookNode) -> None:
    for cell in executed.cells:
        if cell.cell_type == "code":
            assert all(o["output_type"] != "error" for o in cell.outputs), cell.source
            assert all(o.get("name") != "stderr" for o in cell.outputs), cell.source


def test_the_async_walkthrough(executed: nbformat.NotebookNode) -> None:
    assert "['DU1234567'] paper" in _text(_outputs(executed, "await ib.connect("))
    [quote] = _outputs(executed, "ticker = ib.market_data(aapl)")
    assert quote["output_type"] == "execute_result"
    assert "<table" in quote["data"]["text/html"]  # the ticker's rich display
    assert quote["data"]["text/plain"].startswith("<Ticker AAPL bid=")
    assert _text(_outputs(executed, "ticker.updates()")).count(" bid ") == 5
    [bars] = _outputs(executed, 'bar_size="1 hour"')
    assert "<table" in bars["data"]["text/html"]
    assert bars["data"]["text/plain"].startswith("<BarList AAPL 1 hour TRADES ")
    frame = _text(_outputs(executed, "bars.df()"))
    if importlib.util.find_spec("pandas"):
        assert "bars, closes from" in frame
    else:
        assert "pandas is not installed" in frame
    fill = _text(_outputs(executed, 'MarketOrder("BUY", 100)'))
    assert "filled 100 @ " in fill and "Filled" in fill
    resting = _text(_outputs(executed, "resting = "))
    assert "resting: Submitted" in resting and "after cancel: Cancelled" in resting
    assert "DU1234567 AAPL: 100 @ " in _text(_outputs(executed, "await ib.positions()"))


def test_the_blocking_walkthrough(executed: nbformat.NotebookNode) -> None:
    quote_cell = _outputs(executed, "bib.market_data(msft)")
    # in a kernel the blocking IB runs on the kernel's loop (aiotws.sync's nest mode)
    assert "on the kernel's loop: True" in _text(quote_cell)
    [quote] = [o for o in quote_cell if o["output_type"] == "execute_result"]
    assert "<table" in quote["data"]["text/html"]
    assert quote["data"]["text/plain"].startswith("<Ticker MSFT bid=")
    # the ticker kept updating between the blocking calls
    moved = _text(_outputs(executed, "first = live.time"))
    times = re.match(r"(\S+) -> (\S+):", moved)
    assert times is not None and times[1] != times[2], moved
    assert "server time " in _text(_outputs(executed, "await bib.aio.current_time()"))
    assert "5 bars" in _text(_outputs(executed, 'bar_size="1 day"'))
    sold = _text(_outputs(executed, 'MarketOrder("SELL", 10)'))
    assert sold.startswith("Filled @ ") and "\nDU1234567 MSFT: -10 @ " in sold, sold


def _write() -> None:
    """Execute the notebook and store it with its outputs (no run timestamps)."""
    nb = execute(nbformat.read(NOTEBOOK, as_version=4))
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, NOTEBOOK)
    print(f"wrote {NOTEBOOK.relative_to(ROOT)}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_notebook.py --write")
    _write()
