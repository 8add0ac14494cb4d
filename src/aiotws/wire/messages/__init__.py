"""Every wire message class, grouped by family; importing this registers them all."""

from __future__ import annotations

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
from aiotws.wire.messages.system import (
    CurrentTime,
    CurrentTimeInMillis,
    ErrMsg,
    ManagedAccts,
    NextValidId,
    ReqCurrentTime,
    ReqCurrentTimeInMillis,
    ReqIds,
    ReqManagedAccts,
    SetServerLogLevel,
    StartApi,
)

__all__ = [
    "BondContractData",
    "ContractData",
    "ContractDataEnd",
    "CurrentTime",
    "CurrentTimeInMillis",
    "ErrMsg",
    "ManagedAccts",
    "MarketRule",
    "NextValidId",
    "ReqContractData",
    "ReqCurrentTime",
    "ReqCurrentTimeInMillis",
    "ReqIds",
    "ReqManagedAccts",
    "ReqMarketRule",
    "ReqMatchingSymbols",
    "ReqSecDefOptParams",
    "ReqSmartComponents",
    "SecurityDefinitionOptionParameter",
    "SecurityDefinitionOptionParameterEnd",
    "SetServerLogLevel",
    "SmartComponents",
    "StartApi",
    "SymbolSamples",
]
