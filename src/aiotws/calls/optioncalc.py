"""Option calculations: TWS's model price and greeks for given inputs.

REQ_CALC_IMPLIED_VOLAT and REQ_CALC_OPTION_PRICE are each answered by one
TICK_OPTION_COMPUTATION under the request's id (tick type 53, CUST_OPTION_COMPUTATION).
That message also carries subscription greeks, so it takes the market data hot path; ids
that are not a ticker's are routed from there to the correlator, which completes these
requests. A timeout or a cancelled task sends the request's cancel message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from aiotws.calls.base import CoreBase, Timeout
from aiotws.model.contract import Contract
from aiotws.ticker import OptionComputation
from aiotws.wire.messages.market import (
    CancelCalcImpliedVolat,
    CancelCalcOptionPrice,
    ReqCalcImpliedVolat,
    ReqCalcOptionPrice,
    TickOptionComputation,
)

if TYPE_CHECKING:
    from aiotws.wire.layout import InMessage

    M = TypeVar("M", bound=InMessage)

__all__ = ["OptionCalcCalls"]


def _computation(m: TickOptionComputation) -> OptionComputation:
    return OptionComputation.from_tws(
        m.tick_attrib,
        m.implied_vol,
        m.delta,
        m.opt_price,
        m.pv_dividend,
        m.gamma,
        m.vega,
        m.theta,
        m.und_price,
    )


class OptionCalcCalls(CoreBase):
    """REQ_CALC_IMPLIED_VOLAT, REQ_CALC_OPTION_PRICE and their cancels."""

    async def calc_implied_volatility(
        self,
        contract: Contract,
        option_price: float,
        under_price: float,
        *,
        timeout: Timeout = ...,
    ) -> OptionComputation:
        """The volatility at which TWS's model prices ``contract`` at ``option_price`` with
        the underlying at ``under_price``, with the greeks there (NaN: not computed)."""
        req_id = self.next_id()
        m = await self.request(
            ReqCalcImpliedVolat(req_id, contract, option_price, under_price),
            TickOptionComputation,
            key=req_id,
            timeout=timeout,
            cancel=lambda: CancelCalcImpliedVolat(req_id),
        )
        return _computation(m)

    async def calc_option_price(
        self,
        contract: Contract,
        volatility: float,
        under_price: float,
        *,
        timeout: Timeout = ...,
    ) -> OptionComputation:
        """TWS's model price and greeks of ``contract`` at ``volatility`` (annualised, 0.25
        for 25 %) with the underlying at ``under_price``."""
        req_id = self.next_id()
        m = await self.request(
            ReqCalcOptionPrice(req_id, contract, volatility, under_price),
            TickOptionComputation,
            key=req_id,
            timeout=timeout,
            cancel=lambda: CancelCalcOptionPrice(req_id),
        )
        return _computation(m)
