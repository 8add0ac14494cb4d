"""The pytest plugin ``aiotws.testing``: a user's test suite run with pytester, in
pytest-asyncio's strict and auto modes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import aiotws.testing

pytest_plugins = ["pytester"]

USER_SUITE = """
import asyncio

import pytest

from aiotws import IB, LimitOrder, MarketOrder, Stock
from aiotws.sim import Simulator
from aiotws.testing import SimDriver

pytestmark = pytest.mark.asyncio  # needed in strict mode, harmless in auto mode


async def test_a_quote(aiotws_ib: IB, aiotws_sim: Simulator) -> None:
    (aapl,) = await aiotws_ib.qualify(Stock("AAPL"))
    ticker = aiotws_ib.market_data(aapl)
    await ticker.ready(5)
    assert 0 < ticker.bid < ticker.ask
    assert aiotws_sim.config.seed == 1


@pytest.mark.aiotws_sim(tick_interval=0.02)
async def test_a_market_order_fills(aiotws_ib: IB) -> None:
    trade = aiotws_ib.place_order(Stock("AAPL"), MarketOrder("BUY", 100))
    await trade.filled(timeout=5)
    [pos] = await aiotws_ib.positions()
    assert pos.position == 100


@pytest.mark.aiotws_sim(seed=7, tick_interval=0)
async def test_stepping_the_market(aiotws_ib: IB, aiotws_market: SimDriver) -> None:
    assert aiotws_market.sim.config.seed == 7
    ticker = aiotws_ib.market_data(Stock("AAPL"))
    await ticker.ready(5)
    updates = ticker.updates()
    aiotws_market.step(3)
    await aiotws_market.barrier(aiotws_ib)
    await asyncio.wait_for(anext(updates), 5)
    q = aiotws_market.quote("AAPL")
    assert (ticker.bid, ticker.ask) == (q.bid, q.ask)
    assert aiotws_market.halt("AAPL") == 1
    await aiotws_market.barrier(aiotws_ib)
    assert ticker.halted


async def test_an_order_survives_a_restart(aiotws_ib: IB, aiotws_market: SimDriver) -> None:
    trade = aiotws_ib.place_order(Stock("AAPL"), LimitOrder("BUY", 10, 1.0))
    await aiotws_market.barrier(aiotws_ib)
    await aiotws_market.restart(0.2, wait=aiotws_ib)
    assert aiotws_ib.is_connected()
    assert aiotws_ib.session.status.restores == 1
    assert [t.order.perm_id for t in aiotws_ib.open_trades()] == [trade.order.perm_id]


async def test_the_low_level_client(aiotws_client, aiotws_ib: IB) -> None:
    assert aiotws_client.client_id == 2
    assert await aiotws_client.req_managed_accounts() == tuple(aiotws_ib.managed_accounts)


@pytest.mark.aiotws_sim(accounts=("DU111", "DU222"))
class TestMarkers:
    @pytest.mark.aiotws_sim(seed=3)
    async def test_the_closest_marker_wins_per_field(self, aiotws_sim: Simulator) -> None:
        assert aiotws_sim.config.accounts == ("DU111", "DU222")
        assert aiotws_sim.config.seed == 3
"""

INI = """
[pytest]
asyncio_mode = {mode}
asyncio_default_fixture_loop_scope = function
addopts = --strict-markers --strict-config -p no:cacheprovider
filterwarnings = error
"""


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_a_user_suite_runs_in_both_asyncio_modes(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makefile(".ini", pytest=INI.format(mode=mode))
    pytester.makepyfile(test_user=USER_SUITE)
    result = pytester.runpytest()
    result.assert_outcomes(passed=6)


def test_an_unknown_marker_field_fails_the_test_clearly(pytester: pytest.Pytester) -> None:
    pytester.makefile(".ini", pytest=INI.format(mode="auto"))
    pytester.makepyfile(
        test_bad=textwrap.dedent(
            """
            import pytest

            @pytest.mark.aiotws_sim(no_such_field=1)
            async def test_it(aiotws_sim):
                pass
            """
        )
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown SimConfig field(s) no_such_field*"])


def test_the_config_fixture_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makefile(".ini", pytest=INI.format(mode="auto"))
    pytester.makeconftest(
        textwrap.dedent(
            """
            import pytest

            import aiotws.testing

            @pytest.fixture
            def aiotws_sim_config(request):
                return aiotws.testing.sim_config(request, tick_interval=0, seed=42)
            """
        )
    )
    pytester.makepyfile(
        test_it=textwrap.dedent(
            """
            import pytest

            async def test_suite_defaults(aiotws_sim):
                assert (aiotws_sim.config.seed, aiotws_sim.config.tick_interval) == (42, 0)

            @pytest.mark.aiotws_sim(seed=5)
            async def test_markers_still_apply(aiotws_sim):
                assert aiotws_sim.config.seed == 5
            """
        )
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_the_marker_is_registered(pytester: pytest.Pytester) -> None:
    pytester.makefile(".ini", pytest=INI.format(mode="strict"))
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.aiotws_sim(**fields):*"])


def test_every_fixture_is_prefixed() -> None:
    names = [
        name
        for name, obj in vars(aiotws.testing).items()
        if hasattr(obj, "_fixture_function_marker")
        or type(obj).__name__ == "FixtureFunctionDefinition"
    ]
    assert sorted(names) == [
        "aiotws_client",
        "aiotws_ib",
        "aiotws_market",
        "aiotws_reconnect",
        "aiotws_sim",
        "aiotws_sim_config",
    ]


def test_importing_the_plugin_does_not_load_the_simulator() -> None:
    code = "import sys, aiotws.testing; print('aiotws.sim' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
