"""aiotws: an asyncio-native client for the Interactive Brokers TWS API.

    from aiotws import IB

    async with IB.connect_to("127.0.0.1", 7497, client_id=1) as ib:
        print(await ib.current_time())

``aiotws.sim`` is a TWS simulator on the same wire protocol, for tests and demos.
"""

from __future__ import annotations

from aiotws import errors
from aiotws.client import Client, ErrorInfo
from aiotws.errors import (
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
from aiotws.requests import Stream
from aiotws.wire.codes import DEFAULT_CODES, CodeTable, ErrorKind

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_CODES",
    "IB",
    "Client",
    "ClientIdInUse",
    "CodeTable",
    "ConnectTimeout",
    "ConnectionLost",
    "ConnectionRefused",
    "ErrorInfo",
    "ErrorKind",
    "NotConnected",
    "RequestError",
    "RequestTimeout",
    "Stream",
    "TWSConnectionError",
    "TWSError",
    "__version__",
    "errors",
]
