"""aiotws: an asyncio-native client for the Interactive Brokers TWS API.

    from aiotws import IB

    async with IB.connect_to("127.0.0.1", 7497, client_id=1) as ib:
        print(await ib.current_time())

``aiotws.sim`` is a TWS simulator on the same wire protocol, for tests and demos.
"""

from __future__ import annotations

from aiotws import errors
from aiotws.bars import BarList, RealTimeBarList
from aiotws.client import Client, ErrorInfo
from aiotws.download import DownloadIncomplete, HistoricalDownload
from aiotws.errors import (
    AmbiguousContract,
    ClientIdInUse,
    ConnectionLost,
    ConnectionRefused,
    ConnectTimeout,
    NotConnected,
    RequestError,
    RequestTimeout,
    TWSConnectionError,
    TWSError,
)
from aiotws.ib import IB
from aiotws.model import (
    CFD,
    Bag,
    BarData,
    Bond,
    ComboLeg,
    Commodity,
    ContFuture,
    Contract,
    ContractDescription,
    ContractDetails,
    Crypto,
    Forex,
    Future,
    FuturesOption,
    HistogramEntry,
    HistoricalSchedule,
    HistoricalSession,
    HistoricalTick,
    HistoricalTickBidAsk,
    HistoricalTickLast,
    Index,
    InvalidHistoricalRequest,
    MutualFund,
    Option,
    OptionChain,
    PriceIncrement,
    RealTimeBar,
    SecType,
    Stock,
    TagValue,
    Warrant,
)
from aiotws.orderbook import DepthLevel, OrderBook
from aiotws.requests import Stream
from aiotws.ticker import Ticker
from aiotws.wire.codes import DEFAULT_CODES, CodeTable, ErrorKind

__version__ = "0.1.0"

__all__ = [
    "CFD",
    "DEFAULT_CODES",
    "IB",
    "AmbiguousContract",
    "Bag",
    "BarData",
    "BarList",
    "Bond",
    "Client",
    "ClientIdInUse",
    "CodeTable",
    "ComboLeg",
    "Commodity",
    "ConnectTimeout",
    "ConnectionLost",
    "ConnectionRefused",
    "ContFuture",
    "Contract",
    "ContractDescription",
    "ContractDetails",
    "Crypto",
    "DepthLevel",
    "DownloadIncomplete",
    "ErrorInfo",
    "ErrorKind",
    "Forex",
    "Future",
    "FuturesOption",
    "HistogramEntry",
    "HistoricalDownload",
    "HistoricalSchedule",
    "HistoricalSession",
    "HistoricalTick",
    "HistoricalTickBidAsk",
    "HistoricalTickLast",
    "Index",
    "InvalidHistoricalRequest",
    "MutualFund",
    "NotConnected",
    "Option",
    "OptionChain",
    "OrderBook",
    "PriceIncrement",
    "RealTimeBar",
    "RealTimeBarList",
    "RequestError",
    "RequestTimeout",
    "SecType",
    "Stock",
    "Stream",
    "TWSConnectionError",
    "TWSError",
    "TagValue",
    "Ticker",
    "Warrant",
    "__version__",
    "errors",
]
