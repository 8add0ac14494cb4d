"""Contracts end to end: qualify, details, symbol search, option chains, market rules."""

from __future__ import annotations

import asyncio

import pytest

from aiotws import (
    IB,
    AmbiguousContract,
    ContFuture,
    Contract,
    Forex,
    Future,
    Index,
    Option,
    RequestError,
    Stock,
)
from aiotws.model import Bond, Crypto
from aiotws.sim import Simulator

GUARD = 10.0


async def test_qualify_fills_the_contract_in_place(ib: IB) -> None:
    aapl = Stock("AAPL")
    async with asyncio.timeout(GUARD):
        result = await ib.qualify(aapl)
    assert result == [aapl] and result[0] is aapl
    assert type(aapl) is Stock
    assert aapl.con_id == 265598
    assert (aapl.primary_exchange, aapl.currency, aapl.exchange) == ("NASDAQ", "USD", "SMART")
    assert aapl.local_symbol == "AAPL"
    assert hash(aapl) == hash(265598)


async def test_qualify_many_kinds_concurrently(ib: IB) -> None:
    contracts = [
        Stock("MSFT"),
        Forex("EURUSD"),
        Index("SPX", "CBOE"),
        ContFuture("ES", "CME"),
        Crypto("BTC"),
    ]
    async with asyncio.timeout(GUARD):
        await ib.qualify(*contracts)
    assert all(c.con_id for c in contracts)
    eur = contracts[1]
    assert (eur.symbol, eur.currency, eur.local_symbol) == ("EUR", "USD", "EUR.USD")
    assert contracts[2].con_id == 416904
    assert contracts[3].local_symbol.startswith("ES")


async def test_unknown_contract_raises_tws_error_200(ib: IB) -> None:
    with pytest.raises(RequestError) as e:
        async with asyncio.timeout(GUARD):
            await ib.qualify(Stock("NOSUCHSYMBOL"))
    assert e.value.code == 200
    assert "security definition" in e.value.message
    assert len(ib.client._registry) == 0


async def test_ambiguous_contract_lists_the_candidates(ib: IB) -> None:
    ibm = Stock("IBM", currency="")
    with pytest.raises(AmbiguousContract) as e:
        async with asyncio.timeout(GUARD):
            await ib.qualify(ibm)
    assert len(e.value.candidates) >= 2
    assert {c.currency for c in e.value.candidates} >= {"USD"}
    assert e.value.contract is ibm
    assert ibm.con_id == 0  # untouched
    assert "ambiguous" in str(e.value)


async def test_contract_details_are_complete(ib: IB) -> None:
    async with asyncio.timeout(GUARD):
        [d] = await ib.contract_details(Stock("AAPL"))
    assert d.contract.con_id == 265598
    assert d.min_tick == 0.01
    assert d.long_name
    assert "LMT" in d.order_types and "SMART" in d.valid_exchanges
    assert d.market_rule_ids and all(isinstance(i, int) for i in d.market_rule_ids)
    assert d.min_size is not None and d.size_increment is not None
    sessions = d.trading_sessions()
    assert sessions and all(s.start.tzinfo is not None and s.start < s.end for s in sessions)
    assert d.liquid_sessions()


@pytest.mark.parametrize("max_version", [157, 163, 176, 200])
async def test_contract_details_at_every_layout(max_version: int) -> None:
    async with (
        Simulator(port=0, max_version=max_version) as sim,
        IB.connect_to(sim.host, sim.port, timeout=GUARD) as ib,
    ):
        [d] = await ib.contract_details(Contract(con_id=265598))
        assert d.contract.symbol == "AAPL"
        assert (d.min_size is None) is (max_version < 164)


async def test_bond_details(ib: IB) -> None:
    async with asyncio.timeout(GUARD):
        details = await ib.contract_details(Bond(exchange="SMART", currency="USD"))
    assert details and details[0].contract.sec_type == "BOND"
    assert details[0].cusip and details[0].maturity and details[0].coupon > 0


async def test_futures_by_month_and_option_by_strike(ib: IB) -> None:
    chains = await ib.option_chain(Stock("AAPL"))
    assert chains
    smart = next(c for c in chains if c.exchange == "SMART")
    assert smart.trading_class == "AAPL" and smart.multiplier == "100"
    expiry, strike = smart.expirations[0], smart.strikes[len(smart.strikes) // 2]
    option = Option("AAPL", expiry, strike, "C")
    async with asyncio.timeout(GUARD):
        await ib.qualify(option)
    assert option.con_id and option.multiplier == "100"
    assert option.local_symbol.startswith("AAPL ")
    futures = await ib.contract_details(Future("ES", exchange="CME"))
    assert len(futures) >= 3
    month = futures[1].contract.last_trade_date_or_contract_month[:6]
    [one] = await ib.contract_details(Future("ES", month, "CME"))
    assert one.contract.con_id == futures[1].contract.con_id


async def test_matching_symbols(ib: IB) -> None:
    async with asyncio.timeout(GUARD):
        found = await ib.matching_symbols("AA")
    assert any(d.contract.symbol == "AAPL" and d.contract.con_id == 265598 for d in found)
    aapl = next(d for d in found if d.contract.symbol == "AAPL")
    assert "OPT" in aapl.derivative_sec_types
    assert await ib.matching_symbols("ZZZZZZ") == []


async def test_option_chain_of_an_index_has_both_trading_classes(ib: IB) -> None:
    async with asyncio.timeout(GUARD):
        chains = await ib.option_chain(Index("SPX", "CBOE"))
    assert {"SPX", "SPXW"} <= {c.trading_class for c in chains}
    assert all(c.underlying_con_id == 416904 for c in chains)


async def test_market_rule_and_concurrent_rules_are_matched_by_id(ib: IB) -> None:
    [d] = await ib.contract_details(Stock("AAPL"))
    rule_ids = sorted(set(d.market_rule_ids))
    async with asyncio.timeout(GUARD):
        ladders = await asyncio.gather(*(ib.market_rule(r) for r in rule_ids))
    for ladder in ladders:
        assert ladder and ladder[0].low_edge == 0.0 and ladder[0].increment > 0


async def test_smart_components(ib: IB, sim: Simulator) -> None:
    code = sim.universe.bbo_exchange(265598)
    async with asyncio.timeout(GUARD):
        components = await ib.smart_components(code)
    assert components and all(c.exchange and c.exchange_letter for c in components)


async def test_qualify_is_all_or_nothing(ib: IB) -> None:
    aapl, ibm = Stock("AAPL"), Stock("IBM", currency="")
    with pytest.raises(AmbiguousContract):
        async with asyncio.timeout(GUARD):
            await ib.qualify(aapl, ibm)
    assert aapl.con_id == 0 and ibm.con_id == 0


async def test_qualify_keeps_fields_tws_leaves_empty(ib: IB) -> None:
    bond = Bond(sec_id_type="CUSIP", sec_id="91282CLW9", exchange="SMART", currency="USD")
    async with asyncio.timeout(GUARD):
        await ib.qualify(bond)
    assert bond.con_id and (bond.sec_id_type, bond.sec_id) == ("CUSIP", "91282CLW9")


async def test_option_chain_of_a_continuous_future(ib: IB) -> None:
    async with asyncio.timeout(GUARD):
        chains = await ib.option_chain(ContFuture("ES", "CME"), "CME")
    assert chains and all(c.expirations and c.strikes for c in chains)
