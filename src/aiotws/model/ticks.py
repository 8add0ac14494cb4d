"""Market data records: tick types, tick attributes, tick-by-tick ticks, depth exchanges.

Wire messages carry tick types as plain ints (an id TWS adds later must not fail decoding);
:class:`TickType` names the ids the official client knows (its ``ticktype.py``, PROTOCOL.md
section 7). Sizes are ``Decimal`` (``None`` when TWS sends no size), times tz-aware UTC.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

__all__ = [
    "DepthMktDataDescription",
    "MarketDataType",
    "TickAttrib",
    "TickByTickAllLast",
    "TickByTickBidAsk",
    "TickByTickLast",
    "TickByTickMidPoint",
    "TickType",
]


class TickType(enum.IntEnum):
    """Tick type ids of TICK_PRICE, TICK_SIZE, TICK_STRING, TICK_GENERIC, TICK_EFP and
    TICK_OPTION_COMPUTATION (official ``TickTypeEnum``; 111 ``NOT_SET`` is "no tick")."""

    BID_SIZE = 0
    BID = 1
    ASK = 2
    ASK_SIZE = 3
    LAST = 4
    LAST_SIZE = 5
    HIGH = 6
    LOW = 7
    VOLUME = 8
    CLOSE = 9
    BID_OPTION_COMPUTATION = 10
    ASK_OPTION_COMPUTATION = 11
    LAST_OPTION_COMPUTATION = 12
    MODEL_OPTION = 13
    OPEN = 14
    LOW_13_WEEK = 15
    HIGH_13_WEEK = 16
    LOW_26_WEEK = 17
    HIGH_26_WEEK = 18
    LOW_52_WEEK = 19
    HIGH_52_WEEK = 20
    AVG_VOLUME = 21
    OPEN_INTEREST = 22
    OPTION_HISTORICAL_VOL = 23
    OPTION_IMPLIED_VOL = 24
    OPTION_BID_EXCH = 25
    OPTION_ASK_EXCH = 26
    OPTION_CALL_OPEN_INTEREST = 27
    OPTION_PUT_OPEN_INTEREST = 28
    OPTION_CALL_VOLUME = 29
    OPTION_PUT_VOLUME = 30
    INDEX_FUTURE_PREMIUM = 31
    BID_EXCH = 32
    ASK_EXCH = 33
    AUCTION_VOLUME = 34
    AUCTION_PRICE = 35
    AUCTION_IMBALANCE = 36
    MARK_PRICE = 37
    BID_EFP_COMPUTATION = 38
    ASK_EFP_COMPUTATION = 39
    LAST_EFP_COMPUTATION = 40
    OPEN_EFP_COMPUTATION = 41
    HIGH_EFP_COMPUTATION = 42
    LOW_EFP_COMPUTATION = 43
    CLOSE_EFP_COMPUTATION = 44
    LAST_TIMESTAMP = 45
    SHORTABLE = 46
    NOT_USED = 47
    RT_VOLUME = 48
    HALTED = 49
    BID_YIELD = 50
    ASK_YIELD = 51
    LAST_YIELD = 52
    CUST_OPTION_COMPUTATION = 53
    TRADE_COUNT = 54
    TRADE_RATE = 55
    VOLUME_RATE = 56
    LAST_RTH_TRADE = 57
    RT_HISTORICAL_VOL = 58
    IB_DIVIDENDS = 59
    BOND_FACTOR_MULTIPLIER = 60
    REGULATORY_IMBALANCE = 61
    NEWS_TICK = 62
    SHORT_TERM_VOLUME_3_MIN = 63
    SHORT_TERM_VOLUME_5_MIN = 64
    SHORT_TERM_VOLUME_10_MIN = 65
    DELAYED_BID = 66
    DELAYED_ASK = 67
    DELAYED_LAST = 68
    DELAYED_BID_SIZE = 69
    DELAYED_ASK_SIZE = 70
    DELAYED_LAST_SIZE = 71
    DELAYED_HIGH = 72
    DELAYED_LOW = 73
    DELAYED_VOLUME = 74
    DELAYED_CLOSE = 75
    DELAYED_OPEN = 76
    RT_TRD_VOLUME = 77
    CREDITMAN_MARK_PRICE = 78
    CREDITMAN_SLOW_MARK_PRICE = 79
    DELAYED_BID_OPTION = 80
    DELAYED_ASK_OPTION = 81
    DELAYED_LAST_OPTION = 82
    DELAYED_MODEL_OPTION = 83
    LAST_EXCH = 84
    LAST_REG_TIME = 85
    FUTURES_OPEN_INTEREST = 86
    AVG_OPT_VOLUME = 87
    DELAYED_LAST_TIMESTAMP = 88
    SHORTABLE_SHARES = 89
    DELAYED_HALTED = 90
    REUTERS_2_MUTUAL_FUNDS = 91
    ETF_NAV_CLOSE = 92
    ETF_NAV_PRIOR_CLOSE = 93
    ETF_NAV_BID = 94
    ETF_NAV_ASK = 95
    ETF_NAV_LAST = 96
    ETF_FROZEN_NAV_LAST = 97
    ETF_NAV_HIGH = 98
    ETF_NAV_LOW = 99
    SOCIAL_MARKET_ANALYTICS = 100
    ESTIMATED_IPO_MIDPOINT = 101
    FINAL_IPO_LAST = 102
    DELAYED_YIELD_BID = 103
    DELAYED_YIELD_ASK = 104
    ODD_LOT_BID = 105
    ODD_LOT_ASK = 106
    ODD_LOT_BID_SIZE = 107
    ODD_LOT_ASK_SIZE = 108
    ODD_LOT_BID_EXCH = 109
    ODD_LOT_ASK_EXCH = 110
    NOT_SET = 111


class MarketDataType(enum.IntEnum):
    """What REQ_MARKET_DATA_TYPE asks for and MARKET_DATA_TYPE reports per subscription."""

    LIVE = 1
    FROZEN = 2
    DELAYED = 3
    DELAYED_FROZEN = 4


@dataclass(slots=True, frozen=True)
class TickAttrib:
    """The attribute bits of a TICK_PRICE: bit 0 can auto-execute, 1 past limit, 2 pre-open."""

    can_auto_execute: bool = False
    past_limit: bool = False
    pre_open: bool = False

    @classmethod
    def from_mask(cls, mask: int) -> TickAttrib:
        return cls(bool(mask & 1), bool(mask & 2), bool(mask & 4))

    @property
    def mask(self) -> int:
        return int(self.can_auto_execute) | self.past_limit << 1 | self.pre_open << 2


@dataclass(slots=True, frozen=True)
class TickByTickLast:
    """A trade from tick-by-tick ``Last`` data (a ``TickByTickAllLast`` for ``AllLast``).

    Price 0, size 0 and ``past_limit`` mark a trading halt; the next such tick the resumption.
    """

    time: datetime
    price: float
    size: Decimal | None
    past_limit: bool = False
    unreported: bool = False
    exchange: str = ""
    special_conditions: str = ""


@dataclass(slots=True, frozen=True)
class TickByTickAllLast(TickByTickLast):
    """A trade from tick-by-tick ``AllLast`` data (includes odd lots, combos, derivatives)."""


@dataclass(slots=True, frozen=True)
class TickByTickBidAsk:
    """A quote from tick-by-tick ``BidAsk`` data."""

    time: datetime
    bid_price: float
    ask_price: float
    bid_size: Decimal | None
    ask_size: Decimal | None
    bid_past_low: bool = False
    ask_past_high: bool = False


@dataclass(slots=True, frozen=True)
class TickByTickMidPoint:
    """A midpoint from tick-by-tick ``MidPoint`` data."""

    time: datetime
    mid_point: float


@dataclass(slots=True, frozen=True)
class DepthMktDataDescription:
    """An exchange that offers market depth (MKT_DEPTH_EXCHANGES).

    ``service_data_type`` is ``Deep`` or ``Deep2`` (the latter needs ``is_smart_depth``);
    ``agg_group`` is ``None`` when TWS leaves it unset.
    """

    exchange: str = ""
    sec_type: str = ""
    listing_exch: str = ""
    service_data_type: str = ""
    agg_group: int | None = None
