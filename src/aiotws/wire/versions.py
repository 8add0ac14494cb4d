"""Server-version gates (PROTOCOL.md section 4.2).

``SV.X`` is the lowest negotiated server version at which feature *X* exists; a layout field
gated with ``since(SV.X)`` is on the wire when ``version >= SV.X``. Names follow the official
client's ``MIN_SERVER_VER_*`` constants without the prefix.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_TEXT_VERSION", "MAX_VERSION", "MIN_VERSION", "SV"]


class SV:
    """Named server versions (plain ints, so they compare and sort as numbers)."""

    PTA_ORDERS: Final = 39
    CONTRACT_DATA_CHAIN: Final = 40
    DELTA_NEUTRAL: Final = 40
    SCALE_ORDERS2: Final = 40
    ALGO_ORDERS: Final = 41
    EXECUTION_DATA_CHAIN: Final = 42
    NOT_HELD: Final = 44
    SEC_ID_TYPE: Final = 45
    PLACE_ORDER_CONID: Final = 46
    REQ_MKT_DATA_CONID: Final = 47
    REQ_CALC_IMPLIED_VOLAT: Final = 49
    REQ_CALC_OPTION_PRICE: Final = 50
    SSHORTX_OLD: Final = 51
    SSHORTX: Final = 52
    REQ_GLOBAL_CANCEL: Final = 53
    HEDGE_ORDERS: Final = 54
    REQ_MARKET_DATA_TYPE: Final = 55
    OPT_OUT_SMART_ROUTING: Final = 56
    SMART_COMBO_ROUTING_PARAMS: Final = 57
    DELTA_NEUTRAL_CONID: Final = 58
    SCALE_ORDERS3: Final = 60
    ORDER_COMBO_LEGS_PRICE: Final = 61
    TRAILING_PERCENT: Final = 62
    DELTA_NEUTRAL_OPEN_CLOSE: Final = 66
    ACCOUNT_SUMMARY: Final = 67
    POSITIONS: Final = 67
    TRADING_CLASS: Final = 68
    SCALE_TABLE: Final = 69
    LINKING: Final = 70
    ALGO_ID: Final = 71
    OPTIONAL_CAPABILITIES: Final = 72
    ORDER_SOLICITED: Final = 73
    LINKING_AUTH: Final = 74
    PRIMARYEXCH: Final = 75
    RANDOMIZE_SIZE_AND_PRICE: Final = 76
    FRACTIONAL_POSITIONS: Final = 101
    PEGGED_TO_BENCHMARK: Final = 102
    MODELS_SUPPORT: Final = 103
    SEC_DEF_OPT_PARAMS_REQ: Final = 104
    EXT_OPERATOR: Final = 105
    SOFT_DOLLAR_TIER: Final = 106
    REQ_FAMILY_CODES: Final = 107
    REQ_MATCHING_SYMBOLS: Final = 108
    PAST_LIMIT: Final = 109
    MD_SIZE_MULTIPLIER: Final = 110
    CASH_QTY: Final = 111
    REQ_MKT_DEPTH_EXCHANGES: Final = 112
    TICK_NEWS: Final = 113
    REQ_SMART_COMPONENTS: Final = 114
    REQ_NEWS_PROVIDERS: Final = 115
    REQ_NEWS_ARTICLE: Final = 116
    REQ_HISTORICAL_NEWS: Final = 117
    REQ_HEAD_TIMESTAMP: Final = 118
    REQ_HISTOGRAM: Final = 119
    SERVICE_DATA_TYPE: Final = 120
    AGG_GROUP: Final = 121
    UNDERLYING_INFO: Final = 122
    CANCEL_HEADTIMESTAMP: Final = 123
    SYNT_REALTIME_BARS: Final = 124
    CFD_REROUTE: Final = 125
    MARKET_RULES: Final = 126
    PNL: Final = 127
    NEWS_QUERY_ORIGINS: Final = 128
    UNREALIZED_PNL: Final = 129
    HISTORICAL_TICKS: Final = 130
    MARKET_CAP_PRICE: Final = 131
    PRE_OPEN_BID_ASK: Final = 132
    REAL_EXPIRATION_DATE: Final = 134
    REALIZED_PNL: Final = 135
    LAST_LIQUIDITY: Final = 136
    TICK_BY_TICK: Final = 137
    DECISION_MAKER: Final = 138
    MIFID_EXECUTION: Final = 139
    TICK_BY_TICK_IGNORE_SIZE: Final = 140
    AUTO_PRICE_FOR_HEDGE: Final = 141
    WHAT_IF_EXT_FIELDS: Final = 142
    SCANNER_GENERIC_OPTS: Final = 143
    API_BIND_ORDER: Final = 144
    ORDER_CONTAINER: Final = 145
    SMART_DEPTH: Final = 146
    REMOVE_NULL_ALL_CASTING: Final = 147
    D_PEG_ORDERS: Final = 148
    MKT_DEPTH_PRIM_EXCHANGE: Final = 149
    COMPLETED_ORDERS: Final = 150
    PRICE_MGMT_ALGO: Final = 151
    STOCK_TYPE: Final = 152
    ENCODE_MSG_ASCII7: Final = 153
    SEND_ALL_FAMILY_CODES: Final = 154
    NO_DEFAULT_OPEN_CLOSE: Final = 155
    PRICE_BASED_VOLATILITY: Final = 156
    REPLACE_FA_END: Final = 157
    DURATION: Final = 158
    MARKET_DATA_IN_SHARES: Final = 159
    POST_TO_ATS: Final = 160
    WSHE_CALENDAR: Final = 161
    AUTO_CANCEL_PARENT: Final = 162
    FRACTIONAL_SIZE_SUPPORT: Final = 163
    SIZE_RULES: Final = 164
    HISTORICAL_SCHEDULE: Final = 165
    ADVANCED_ORDER_REJECT: Final = 166
    USER_INFO: Final = 167
    CRYPTO_AGGREGATED_TRADES: Final = 168
    MANUAL_ORDER_TIME: Final = 169
    PEGBEST_PEGMID_OFFSETS: Final = 170
    WSH_EVENT_DATA_FILTERS: Final = 171
    IPO_PRICES: Final = 172
    WSH_EVENT_DATA_FILTERS_DATE: Final = 173
    INSTRUMENT_TIMEZONE: Final = 174
    HMDS_MARKET_DATA_IN_SHARES: Final = 175
    BOND_ISSUERID: Final = 176
    FA_PROFILE_DESUPPORT: Final = 177
    PENDING_PRICE_REVISION: Final = 178
    FUND_DATA_FIELDS: Final = 179
    MANUAL_ORDER_TIME_EXERCISE_OPTIONS: Final = 180
    OPEN_ORDER_AD_STRATEGY: Final = 181
    LAST_TRADE_DATE: Final = 182
    CUSTOMER_ACCOUNT: Final = 183
    PROFESSIONAL_CUSTOMER: Final = 184
    BOND_ACCRUED_INTEREST: Final = 185
    INELIGIBILITY_REASONS: Final = 186
    RFQ_FIELDS: Final = 187
    BOND_TRADING_HOURS: Final = 188
    INCLUDE_OVERNIGHT: Final = 189
    UNDO_RFQ_FIELDS: Final = 190
    PERM_ID_AS_LONG: Final = 191
    CME_TAGGING_FIELDS: Final = 192
    CME_TAGGING_FIELDS_IN_OPEN_ORDER: Final = 193
    ERROR_TIME: Final = 194
    FULL_ORDER_PREVIEW_FIELDS: Final = 195
    HISTORICAL_DATA_END: Final = 196
    CURRENT_TIME_IN_MILLIS: Final = 197
    SUBMITTER: Final = 198
    IMBALANCE_ONLY: Final = 199
    PARAMETRIZED_DAYS_OF_EXECUTIONS: Final = 200
    PROTOBUF: Final = 201
    ZERO_STRIKE: Final = 202
    PROTOBUF_PLACE_ORDER: Final = 203
    PROTOBUF_COMPLETED_ORDER: Final = 204
    PROTOBUF_CONTRACT_DATA: Final = 205
    PROTOBUF_MARKET_DATA: Final = 206
    PROTOBUF_ACCOUNTS_POSITIONS: Final = 207
    PROTOBUF_HISTORICAL_DATA: Final = 208
    PROTOBUF_NEWS_DATA: Final = 209
    PROTOBUF_SCAN_DATA: Final = 210
    PROTOBUF_REST_MESSAGES_1: Final = 211
    PROTOBUF_REST_MESSAGES_2: Final = 212
    PROTOBUF_REST_MESSAGES_3: Final = 213
    ADD_Z_SUFFIX_TO_UTC_DATE_TIME: Final = 214
    CANCEL_CONTRACT_DATA: Final = 215
    ADDITIONAL_ORDER_PARAMS_1: Final = 216
    ADDITIONAL_ORDER_PARAMS_2: Final = 217
    ATTACHED_ORDERS: Final = 218
    CONFIG: Final = 219
    MARKET_DATA_VOLUMES_IN_SHARES: Final = 220
    UPDATE_CONFIG: Final = 221
    FRACTIONAL_LAST_SIZE: Final = 222
    HEDGE_MAX_SIZE: Final = 223
    USE_PRECISION_FROM_SEC_DEF: Final = 224
    ODD_LOT_BID_ASK_QUOTES: Final = 225


#: Lowest server version aiotws negotiates (ib_async's floor).
MIN_VERSION: Final = 157
#: Highest version spoken in the text encoding; 201+ is protobuf-framed.
MAX_TEXT_VERSION: Final = 200
#: Highest version aiotws negotiates today.
MAX_VERSION: Final = MAX_TEXT_VERSION
