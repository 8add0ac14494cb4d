"""Contract requests: details, symbol search, option chain parameters, market rules."""

from __future__ import annotations

from aiotws.calls.base import CoreBase, Requester, Timeout
from aiotws.model.contract import (
    Contract,
    ContractDescription,
    ContractDetails,
    OptionChain,
    PriceIncrement,
    SmartComponent,
)
from aiotws.wire.layout import InMessage
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

__all__ = ["ContractCalls"]


class ContractCalls(CoreBase):
    """REQ_CONTRACT_DATA, REQ_MATCHING_SYMBOLS, REQ_SEC_DEF_OPT_PARAMS, REQ_MARKET_RULE,
    REQ_SMART_COMPONENTS."""

    async def contract_details(
        self: Requester, contract: Contract, *, timeout: Timeout = ...
    ) -> list[ContractDetails]:
        """Every contract TWS matches to ``contract`` (several when it is ambiguous).

        Raises ``RequestError`` 200 when nothing matches.
        """
        req_id = self.next_id()
        items, _ = await self.request_list(
            ReqContractData(req_id, contract),
            (ContractData, BondContractData),
            (ContractDataEnd,),
            key=req_id,
            timeout=timeout,
        )
        out = []
        for m in items:
            assert isinstance(m, (ContractData, BondContractData))
            out.append(m.details())
        return out

    async def matching_symbols(
        self: Requester, pattern: str, *, timeout: Timeout = ...
    ) -> list[ContractDescription]:
        """Contracts whose symbol or name starts with ``pattern`` (at most 16, TWS's limit)."""
        req_id = self.next_id()
        m = await self.request(
            ReqMatchingSymbols(req_id, pattern), SymbolSamples, key=req_id, timeout=timeout
        )
        return m.descriptions()

    async def sec_def_opt_params(
        self: Requester,
        underlying_symbol: str,
        underlying_sec_type: str,
        underlying_con_id: int,
        fut_fop_exchange: str = "",
        *,
        timeout: Timeout = ...,
    ) -> list[OptionChain]:
        """Option chain parameters: one :class:`OptionChain` per exchange and trading class."""
        req_id = self.next_id()
        items, _ = await self.request_list(
            ReqSecDefOptParams(
                req_id, underlying_symbol, fut_fop_exchange, underlying_sec_type, underlying_con_id
            ),
            (SecurityDefinitionOptionParameter,),
            (SecurityDefinitionOptionParameterEnd,),
            key=req_id,
            timeout=timeout,
        )
        chains = []
        for m in items:
            assert isinstance(m, SecurityDefinitionOptionParameter)
            chains.append(m.chain())
        return chains

    async def market_rule(
        self: Requester, market_rule_id: int, *, timeout: Timeout = ...
    ) -> list[PriceIncrement]:
        """The price ladder of a market rule (ids come from ``ContractDetails.market_rule_ids``)."""

        def ours(msg: InMessage) -> bool:
            return isinstance(msg, MarketRule) and msg.market_rule_id == market_rule_id

        m = await self.request(
            ReqMarketRule(market_rule_id), MarketRule, timeout=timeout, match=ours
        )
        return list(m.increments)

    async def smart_components(
        self: Requester, bbo_exchange: str, *, timeout: Timeout = ...
    ) -> list[SmartComponent]:
        """The exchanges behind a SMART BBO exchange code (``TickReqParams.bbo_exchange``)."""
        req_id = self.next_id()
        m = await self.request(
            ReqSmartComponents(req_id, bbo_exchange), SmartComponents, key=req_id, timeout=timeout
        )
        return list(m.components)
