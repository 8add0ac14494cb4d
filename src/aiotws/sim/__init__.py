"""``aiotws.sim``: a TWS/IB Gateway simulator speaking the real wire protocol.

    async with Simulator(port=0, seed=1) as sim:
        ib = await IB.connect_to(sim.host, sim.port, client_id=1)

Built on ``aiotws.wire`` (the server side of the same codec) and ``aiotws.model``; it never
imports the client. ``aiotws sim`` runs it from the command line.
"""

from __future__ import annotations

from aiotws.sim import accounts as _accounts  # positions, account values, PnL
from aiotws.sim import advisor as _advisor  # FA groups and profiles, FA order allocation
from aiotws.sim import contracts as _contracts  # registers the contract handlers
from aiotws.sim import depth as _depth  # tick-by-tick, depth, option calculations
from aiotws.sim import display as _display  # display groups, verify/auth answers
from aiotws.sim import historical as _historical  # bars, ticks, histograms, real-time bars
from aiotws.sim import marketdata as _marketdata  # registers the market data handlers
from aiotws.sim import news as _news  # news providers, articles, headlines, bulletins
from aiotws.sim import orders as _orders  # the matching engine and order handlers
from aiotws.sim import scanner as _scanner  # scanner parameters and subscriptions
from aiotws.sim import system as _system  # registers the session-level handlers
from aiotws.sim import wsh as _wsh  # Wall Street Horizon events
from aiotws.sim.depth import halt_depth, reset_depth, step_depth
from aiotws.sim.historical import history_of, step_history
from aiotws.sim.history import History
from aiotws.sim.market import Market
from aiotws.sim.marketdata import halt, step_market
from aiotws.sim.server import Faults, SimConfig, SimSession, Simulator, handles
from aiotws.sim.universe import Instrument, Universe

__all__ = [
    "Faults",
    "History",
    "Instrument",
    "Market",
    "SimConfig",
    "SimSession",
    "Simulator",
    "Universe",
    "halt",
    "halt_depth",
    "handles",
    "history_of",
    "reset_depth",
    "step_depth",
    "step_history",
    "step_market",
]

del _accounts, _advisor, _contracts, _depth, _display, _historical, _marketdata, _news
del _orders, _scanner, _system, _wsh
