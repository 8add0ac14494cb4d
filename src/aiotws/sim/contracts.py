"""Simulator handlers for contract requests, answered from the seeded :class:`Universe`."""

from __future__ import annotations

from aiotws.sim.server import SimSession, handles
from aiotws.wire.messages.contracts import (
    BondContractData,
    ContractData,
    ContractDataEnd,
    MarketRule,
    ReqContractData,
    ReqMarketRule,
    ReqMatchingSymbols,
    ReqSecDefOptParams,
    ReqSmartComponents,
    SecurityDefinitionOptionParameter,
    SecurityDefinitionOptionParameterEnd,
    SmartComponents,
    SymbolSamples,
)

__all__: list[str] = []

NO_SECURITY_DEFINITION = "No security definition has been found for the request"


@handles(ReqContractData)
def _contract_data(session: SimSession, msg: ReqContractData) -> None:
    matches = session.sim.universe.match(msg.contract)
    if not matches:
        # TWS answers an unknown contract with 200 and sends no CONTRACT_DATA_END
        session.send_error(msg.req_id, 200, NO_SECURITY_DEFINITION)
        return
    v = session.version
    for d in matches:
        if d.contract.sec_type == "BOND":
            session.send(BondContractData.from_details(msg.req_id, d).at_version(v))
        else:
            session.send(ContractData.from_details(msg.req_id, d).at_version(v))
    session.send(ContractDataEnd(msg.req_id))


@handles(ReqMatchingSymbols)
def _matching_symbols(session: SimSession, msg: ReqMatchingSymbols) -> None:
    found = session.sim.universe.search(msg.pattern)
    session.send(SymbolSamples.from_descriptions(msg.req_id, found, session.version))


@handles(ReqSecDefOptParams)
def _sec_def_opt_params(session: SimSession, msg: ReqSecDefOptParams) -> None:
    chains = session.sim.universe.option_params(
        msg.underlying_symbol, msg.fut_fop_exchange, msg.underlying_sec_type, msg.underlying_con_id
    )
    for c in chains:
        session.send(
            SecurityDefinitionOptionParameter(
                msg.req_id,
                c.exchange,
                c.underlying_con_id,
                c.trading_class,
                c.multiplier,
                list(c.expirations),
                list(c.strikes),
            )
        )
    session.send(SecurityDefinitionOptionParameterEnd(msg.req_id))


@handles(ReqMarketRule)
def _market_rule(session: SimSession, msg: ReqMarketRule) -> None:
    rule = session.sim.universe.market_rule(msg.market_rule_id)
    session.send(MarketRule(msg.market_rule_id, list(rule or [])))


@handles(ReqSmartComponents)
def _smart_components(session: SimSession, msg: ReqSmartComponents) -> None:
    components = session.sim.universe.smart_components(msg.bbo_exchange)
    session.send(SmartComponents(msg.req_id, list(components)))
