from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Decimal(_message.Message):
    __slots__ = ("significand", "exponent")
    SIGNIFICAND_FIELD_NUMBER: _ClassVar[int]
    EXPONENT_FIELD_NUMBER: _ClassVar[int]
    significand: int
    exponent: int
    def __init__(self, significand: _Optional[int] = ..., exponent: _Optional[int] = ...) -> None: ...

class Logon(_message.Message):
    __slots__ = ("user_name", "password", "client_app_id", "client_version", "protocol_version_major", "protocol_version_minor", "session_settings", "one_time_password", "access_token")
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    CLIENT_APP_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_MAJOR_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_MINOR_FIELD_NUMBER: _ClassVar[int]
    SESSION_SETTINGS_FIELD_NUMBER: _ClassVar[int]
    ONE_TIME_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    user_name: str
    password: str
    client_app_id: str
    client_version: str
    protocol_version_major: int
    protocol_version_minor: int
    session_settings: _containers.RepeatedScalarFieldContainer[int]
    one_time_password: str
    access_token: str
    def __init__(self, user_name: _Optional[str] = ..., password: _Optional[str] = ..., client_app_id: _Optional[str] = ..., client_version: _Optional[str] = ..., protocol_version_major: _Optional[int] = ..., protocol_version_minor: _Optional[int] = ..., session_settings: _Optional[_Iterable[int]] = ..., one_time_password: _Optional[str] = ..., access_token: _Optional[str] = ...) -> None: ...

class LogonResult(_message.Message):
    __slots__ = ("result_code", "base_time", "session_token", "text_message", "redirect_url", "protocol_version_major", "protocol_version_minor", "server_time", "user_id", "inactivity_timeout")
    RESULT_CODE_FIELD_NUMBER: _ClassVar[int]
    BASE_TIME_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TEXT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URL_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_MAJOR_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_MINOR_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    INACTIVITY_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    result_code: int
    base_time: str
    session_token: str
    text_message: str
    redirect_url: str
    protocol_version_major: int
    protocol_version_minor: int
    server_time: int
    user_id: int
    inactivity_timeout: int
    def __init__(self, result_code: _Optional[int] = ..., base_time: _Optional[str] = ..., session_token: _Optional[str] = ..., text_message: _Optional[str] = ..., redirect_url: _Optional[str] = ..., protocol_version_major: _Optional[int] = ..., protocol_version_minor: _Optional[int] = ..., server_time: _Optional[int] = ..., user_id: _Optional[int] = ..., inactivity_timeout: _Optional[int] = ...) -> None: ...

class RestoreOrJoinSession(_message.Message):
    __slots__ = ("session_token", "client_app_id", "protocol_version_major", "protocol_version_minor")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CLIENT_APP_ID_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_MAJOR_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_MINOR_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    client_app_id: str
    protocol_version_major: int
    protocol_version_minor: int
    def __init__(self, session_token: _Optional[str] = ..., client_app_id: _Optional[str] = ..., protocol_version_major: _Optional[int] = ..., protocol_version_minor: _Optional[int] = ...) -> None: ...

class RestoreOrJoinSessionResult(_message.Message):
    __slots__ = ("result_code", "base_time", "text_message", "server_time")
    RESULT_CODE_FIELD_NUMBER: _ClassVar[int]
    BASE_TIME_FIELD_NUMBER: _ClassVar[int]
    TEXT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    result_code: int
    base_time: str
    text_message: str
    server_time: int
    def __init__(self, result_code: _Optional[int] = ..., base_time: _Optional[str] = ..., text_message: _Optional[str] = ..., server_time: _Optional[int] = ...) -> None: ...

class Logoff(_message.Message):
    __slots__ = ("text_message",)
    TEXT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    text_message: str
    def __init__(self, text_message: _Optional[str] = ...) -> None: ...

class LoggedOff(_message.Message):
    __slots__ = ("logoff_reason", "text_message", "redirect_url")
    LOGOFF_REASON_FIELD_NUMBER: _ClassVar[int]
    TEXT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URL_FIELD_NUMBER: _ClassVar[int]
    logoff_reason: int
    text_message: str
    redirect_url: str
    def __init__(self, logoff_reason: _Optional[int] = ..., text_message: _Optional[str] = ..., redirect_url: _Optional[str] = ...) -> None: ...

class Ping(_message.Message):
    __slots__ = ("token", "ping_utc_time")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PING_UTC_TIME_FIELD_NUMBER: _ClassVar[int]
    token: str
    ping_utc_time: int
    def __init__(self, token: _Optional[str] = ..., ping_utc_time: _Optional[int] = ...) -> None: ...

class Pong(_message.Message):
    __slots__ = ("token", "ping_utc_time", "pong_utc_time")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PING_UTC_TIME_FIELD_NUMBER: _ClassVar[int]
    PONG_UTC_TIME_FIELD_NUMBER: _ClassVar[int]
    token: str
    ping_utc_time: int
    pong_utc_time: int
    def __init__(self, token: _Optional[str] = ..., ping_utc_time: _Optional[int] = ..., pong_utc_time: _Optional[int] = ...) -> None: ...

class UserMessage(_message.Message):
    __slots__ = ("message_type", "source", "subject", "text")
    MESSAGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    message_type: int
    source: str
    subject: str
    text: str
    def __init__(self, message_type: _Optional[int] = ..., source: _Optional[str] = ..., subject: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class SymbolResolutionRequest(_message.Message):
    __slots__ = ("symbol",)
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    def __init__(self, symbol: _Optional[str] = ...) -> None: ...

class InformationRequest(_message.Message):
    __slots__ = ("id", "symbol_resolution_request")
    ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_RESOLUTION_REQUEST_FIELD_NUMBER: _ClassVar[int]
    id: int
    symbol_resolution_request: SymbolResolutionRequest
    def __init__(self, id: _Optional[int] = ..., symbol_resolution_request: _Optional[_Union[SymbolResolutionRequest, _Mapping]] = ...) -> None: ...

class ContractMetadata(_message.Message):
    __slots__ = ("contract_id", "contract_symbol", "correct_price_scale", "tick_size", "tick_value", "title", "description", "exchange")
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    CORRECT_PRICE_SCALE_FIELD_NUMBER: _ClassVar[int]
    TICK_SIZE_FIELD_NUMBER: _ClassVar[int]
    TICK_VALUE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    contract_id: int
    contract_symbol: str
    correct_price_scale: float
    tick_size: float
    tick_value: float
    title: str
    description: str
    exchange: str
    def __init__(self, contract_id: _Optional[int] = ..., contract_symbol: _Optional[str] = ..., correct_price_scale: _Optional[float] = ..., tick_size: _Optional[float] = ..., tick_value: _Optional[float] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., exchange: _Optional[str] = ...) -> None: ...

class SymbolResolutionReport(_message.Message):
    __slots__ = ("contract_metadata",)
    CONTRACT_METADATA_FIELD_NUMBER: _ClassVar[int]
    contract_metadata: ContractMetadata
    def __init__(self, contract_metadata: _Optional[_Union[ContractMetadata, _Mapping]] = ...) -> None: ...

class InformationReport(_message.Message):
    __slots__ = ("id", "status_code", "text_message", "symbol_resolution_report")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    TEXT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_RESOLUTION_REPORT_FIELD_NUMBER: _ClassVar[int]
    id: int
    status_code: int
    text_message: str
    symbol_resolution_report: SymbolResolutionReport
    def __init__(self, id: _Optional[int] = ..., status_code: _Optional[int] = ..., text_message: _Optional[str] = ..., symbol_resolution_report: _Optional[_Union[SymbolResolutionReport, _Mapping]] = ...) -> None: ...

class MarketDataSubscription(_message.Message):
    __slots__ = ("contract_id", "level", "request_id")
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    contract_id: int
    level: int
    request_id: int
    def __init__(self, contract_id: _Optional[int] = ..., level: _Optional[int] = ..., request_id: _Optional[int] = ...) -> None: ...

class MarketDataSubscriptionStatus(_message.Message):
    __slots__ = ("contract_id", "status_code", "level", "text_message", "request_id")
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    TEXT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    contract_id: int
    status_code: int
    level: int
    text_message: str
    request_id: int
    def __init__(self, contract_id: _Optional[int] = ..., status_code: _Optional[int] = ..., level: _Optional[int] = ..., text_message: _Optional[str] = ..., request_id: _Optional[int] = ...) -> None: ...

class Quote(_message.Message):
    __slots__ = ("type", "quote_utc_time", "scaled_price", "volume")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    QUOTE_UTC_TIME_FIELD_NUMBER: _ClassVar[int]
    SCALED_PRICE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    type: int
    quote_utc_time: int
    scaled_price: int
    volume: Decimal
    def __init__(self, type: _Optional[int] = ..., quote_utc_time: _Optional[int] = ..., scaled_price: _Optional[int] = ..., volume: _Optional[_Union[Decimal, _Mapping]] = ...) -> None: ...

class MarketValues(_message.Message):
    __slots__ = ("scaled_last_price", "total_volume")
    SCALED_LAST_PRICE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_VOLUME_FIELD_NUMBER: _ClassVar[int]
    scaled_last_price: int
    total_volume: Decimal
    def __init__(self, scaled_last_price: _Optional[int] = ..., total_volume: _Optional[_Union[Decimal, _Mapping]] = ...) -> None: ...

class RealTimeMarketData(_message.Message):
    __slots__ = ("contract_id", "quotes", "is_snapshot", "market_values")
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTES_FIELD_NUMBER: _ClassVar[int]
    IS_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    MARKET_VALUES_FIELD_NUMBER: _ClassVar[int]
    contract_id: int
    quotes: _containers.RepeatedCompositeFieldContainer[Quote]
    is_snapshot: bool
    market_values: MarketValues
    def __init__(self, contract_id: _Optional[int] = ..., quotes: _Optional[_Iterable[_Union[Quote, _Mapping]]] = ..., is_snapshot: _Optional[bool] = ..., market_values: _Optional[_Union[MarketValues, _Mapping]] = ...) -> None: ...

class TradeSubscription(_message.Message):
    __slots__ = ("id", "subscription_scopes", "subscribe", "account_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_SCOPES_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    subscription_scopes: _containers.RepeatedScalarFieldContainer[int]
    subscribe: bool
    account_id: int
    def __init__(self, id: _Optional[int] = ..., subscription_scopes: _Optional[_Iterable[int]] = ..., subscribe: _Optional[bool] = ..., account_id: _Optional[int] = ...) -> None: ...

class TradeSubscriptionStatus(_message.Message):
    __slots__ = ("id", "status_code", "text_message")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    TEXT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    id: int
    status_code: int
    text_message: str
    def __init__(self, id: _Optional[int] = ..., status_code: _Optional[int] = ..., text_message: _Optional[str] = ...) -> None: ...

class TradeSnapshotCompletion(_message.Message):
    __slots__ = ("subscription_id", "subscription_scopes")
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_SCOPES_FIELD_NUMBER: _ClassVar[int]
    subscription_id: int
    subscription_scopes: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, subscription_id: _Optional[int] = ..., subscription_scopes: _Optional[_Iterable[int]] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("account_id", "when_utc_time", "contract_id", "cl_order_id", "order_type", "side", "duration", "qty", "scaled_limit_price", "scaled_stop_price", "is_manual")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    WHEN_UTC_TIME_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    CL_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    SCALED_LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    SCALED_STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    IS_MANUAL_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    when_utc_time: int
    contract_id: int
    cl_order_id: str
    order_type: int
    side: int
    duration: int
    qty: Decimal
    scaled_limit_price: int
    scaled_stop_price: int
    is_manual: bool
    def __init__(self, account_id: _Optional[int] = ..., when_utc_time: _Optional[int] = ..., contract_id: _Optional[int] = ..., cl_order_id: _Optional[str] = ..., order_type: _Optional[int] = ..., side: _Optional[int] = ..., duration: _Optional[int] = ..., qty: _Optional[_Union[Decimal, _Mapping]] = ..., scaled_limit_price: _Optional[int] = ..., scaled_stop_price: _Optional[int] = ..., is_manual: _Optional[bool] = ...) -> None: ...

class NewOrder(_message.Message):
    __slots__ = ("order", "suspend")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    SUSPEND_FIELD_NUMBER: _ClassVar[int]
    order: Order
    suspend: bool
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ..., suspend: _Optional[bool] = ...) -> None: ...

class ModifyOrder(_message.Message):
    __slots__ = ("order_id", "account_id", "orig_cl_order_id", "cl_order_id", "when_utc_time", "qty", "scaled_limit_price", "scaled_stop_price")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORIG_CL_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CL_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    WHEN_UTC_TIME_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    SCALED_LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    SCALED_STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    account_id: int
    orig_cl_order_id: str
    cl_order_id: str
    when_utc_time: int
    qty: Decimal
    scaled_limit_price: int
    scaled_stop_price: int
    def __init__(self, order_id: _Optional[str] = ..., account_id: _Optional[int] = ..., orig_cl_order_id: _Optional[str] = ..., cl_order_id: _Optional[str] = ..., when_utc_time: _Optional[int] = ..., qty: _Optional[_Union[Decimal, _Mapping]] = ..., scaled_limit_price: _Optional[int] = ..., scaled_stop_price: _Optional[int] = ...) -> None: ...

class CancelOrder(_message.Message):
    __slots__ = ("order_id", "account_id", "orig_cl_order_id", "cl_order_id", "when_utc_time")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORIG_CL_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CL_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    WHEN_UTC_TIME_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    account_id: int
    orig_cl_order_id: str
    cl_order_id: str
    when_utc_time: int
    def __init__(self, order_id: _Optional[str] = ..., account_id: _Optional[int] = ..., orig_cl_order_id: _Optional[str] = ..., cl_order_id: _Optional[str] = ..., when_utc_time: _Optional[int] = ...) -> None: ...

class OrderRequest(_message.Message):
    __slots__ = ("request_id", "new_order", "modify_order", "cancel_order")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_ORDER_FIELD_NUMBER: _ClassVar[int]
    MODIFY_ORDER_FIELD_NUMBER: _ClassVar[int]
    CANCEL_ORDER_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    new_order: NewOrder
    modify_order: ModifyOrder
    cancel_order: CancelOrder
    def __init__(self, request_id: _Optional[int] = ..., new_order: _Optional[_Union[NewOrder, _Mapping]] = ..., modify_order: _Optional[_Union[ModifyOrder, _Mapping]] = ..., cancel_order: _Optional[_Union[CancelOrder, _Mapping]] = ...) -> None: ...

class OrderRequestAck(_message.Message):
    __slots__ = ("request_id", "when_utc_time")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WHEN_UTC_TIME_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    when_utc_time: int
    def __init__(self, request_id: _Optional[int] = ..., when_utc_time: _Optional[int] = ...) -> None: ...

class OrderRequestReject(_message.Message):
    __slots__ = ("request_id", "reject_code", "text_message", "reject_utc_timestamp")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REJECT_CODE_FIELD_NUMBER: _ClassVar[int]
    TEXT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REJECT_UTC_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    reject_code: int
    text_message: str
    reject_utc_timestamp: int
    def __init__(self, request_id: _Optional[int] = ..., reject_code: _Optional[int] = ..., text_message: _Optional[str] = ..., reject_utc_timestamp: _Optional[int] = ...) -> None: ...

class TransactionStatus(_message.Message):
    __slots__ = ("status", "trans_id", "trans_utc_time", "fill_qty", "scaled_fill_price", "trade_id", "cl_order_id")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRANS_ID_FIELD_NUMBER: _ClassVar[int]
    TRANS_UTC_TIME_FIELD_NUMBER: _ClassVar[int]
    FILL_QTY_FIELD_NUMBER: _ClassVar[int]
    SCALED_FILL_PRICE_FIELD_NUMBER: _ClassVar[int]
    TRADE_ID_FIELD_NUMBER: _ClassVar[int]
    CL_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    status: int
    trans_id: int
    trans_utc_time: int
    fill_qty: Decimal
    scaled_fill_price: int
    trade_id: str
    cl_order_id: str
    def __init__(self, status: _Optional[int] = ..., trans_id: _Optional[int] = ..., trans_utc_time: _Optional[int] = ..., fill_qty: _Optional[_Union[Decimal, _Mapping]] = ..., scaled_fill_price: _Optional[int] = ..., trade_id: _Optional[str] = ..., cl_order_id: _Optional[str] = ...) -> None: ...

class OrderStatus(_message.Message):
    __slots__ = ("subscription_ids", "is_snapshot", "status", "order_id", "chain_order_id", "exec_order_id", "status_utc_time", "fill_qty", "fill_cnt", "avg_fill_price_correct", "remaining_qty", "order", "transaction_statuses", "account_id", "contract_id", "cl_order_id", "reject_message")
    SUBSCRIPTION_IDS_FIELD_NUMBER: _ClassVar[int]
    IS_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CHAIN_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    EXEC_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_UTC_TIME_FIELD_NUMBER: _ClassVar[int]
    FILL_QTY_FIELD_NUMBER: _ClassVar[int]
    FILL_CNT_FIELD_NUMBER: _ClassVar[int]
    AVG_FILL_PRICE_CORRECT_FIELD_NUMBER: _ClassVar[int]
    REMAINING_QTY_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_STATUSES_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    CL_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REJECT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    subscription_ids: _containers.RepeatedScalarFieldContainer[int]
    is_snapshot: bool
    status: int
    order_id: str
    chain_order_id: str
    exec_order_id: str
    status_utc_time: int
    fill_qty: Decimal
    fill_cnt: int
    avg_fill_price_correct: float
    remaining_qty: Decimal
    order: Order
    transaction_statuses: _containers.RepeatedCompositeFieldContainer[TransactionStatus]
    account_id: int
    contract_id: int
    cl_order_id: str
    reject_message: str
    def __init__(self, subscription_ids: _Optional[_Iterable[int]] = ..., is_snapshot: _Optional[bool] = ..., status: _Optional[int] = ..., order_id: _Optional[str] = ..., chain_order_id: _Optional[str] = ..., exec_order_id: _Optional[str] = ..., status_utc_time: _Optional[int] = ..., fill_qty: _Optional[_Union[Decimal, _Mapping]] = ..., fill_cnt: _Optional[int] = ..., avg_fill_price_correct: _Optional[float] = ..., remaining_qty: _Optional[_Union[Decimal, _Mapping]] = ..., order: _Optional[_Union[Order, _Mapping]] = ..., transaction_statuses: _Optional[_Iterable[_Union[TransactionStatus, _Mapping]]] = ..., account_id: _Optional[int] = ..., contract_id: _Optional[int] = ..., cl_order_id: _Optional[str] = ..., reject_message: _Optional[str] = ...) -> None: ...

class OpenPosition(_message.Message):
    __slots__ = ("id", "qty", "price_correct", "is_short")
    ID_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    PRICE_CORRECT_FIELD_NUMBER: _ClassVar[int]
    IS_SHORT_FIELD_NUMBER: _ClassVar[int]
    id: int
    qty: Decimal
    price_correct: float
    is_short: bool
    def __init__(self, id: _Optional[int] = ..., qty: _Optional[_Union[Decimal, _Mapping]] = ..., price_correct: _Optional[float] = ..., is_short: _Optional[bool] = ...) -> None: ...

class PositionStatus(_message.Message):
    __slots__ = ("subscription_ids", "is_snapshot", "account_id", "contract_id", "is_short_open_position", "open_positions")
    SUBSCRIPTION_IDS_FIELD_NUMBER: _ClassVar[int]
    IS_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    IS_SHORT_OPEN_POSITION_FIELD_NUMBER: _ClassVar[int]
    OPEN_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    subscription_ids: _containers.RepeatedScalarFieldContainer[int]
    is_snapshot: bool
    account_id: int
    contract_id: int
    is_short_open_position: bool
    open_positions: _containers.RepeatedCompositeFieldContainer[OpenPosition]
    def __init__(self, subscription_ids: _Optional[_Iterable[int]] = ..., is_snapshot: _Optional[bool] = ..., account_id: _Optional[int] = ..., contract_id: _Optional[int] = ..., is_short_open_position: _Optional[bool] = ..., open_positions: _Optional[_Iterable[_Union[OpenPosition, _Mapping]]] = ...) -> None: ...

class ClientMsg(_message.Message):
    __slots__ = ("information_requests", "trade_subscriptions", "order_requests", "market_data_subscriptions", "logon", "restore_or_join_session", "logoff", "ping", "pong")
    INFORMATION_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    TRADE_SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    ORDER_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    MARKET_DATA_SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    LOGON_FIELD_NUMBER: _ClassVar[int]
    RESTORE_OR_JOIN_SESSION_FIELD_NUMBER: _ClassVar[int]
    LOGOFF_FIELD_NUMBER: _ClassVar[int]
    PING_FIELD_NUMBER: _ClassVar[int]
    PONG_FIELD_NUMBER: _ClassVar[int]
    information_requests: _containers.RepeatedCompositeFieldContainer[InformationRequest]
    trade_subscriptions: _containers.RepeatedCompositeFieldContainer[TradeSubscription]
    order_requests: _containers.RepeatedCompositeFieldContainer[OrderRequest]
    market_data_subscriptions: _containers.RepeatedCompositeFieldContainer[MarketDataSubscription]
    logon: Logon
    restore_or_join_session: RestoreOrJoinSession
    logoff: Logoff
    ping: Ping
    pong: Pong
    def __init__(self, information_requests: _Optional[_Iterable[_Union[InformationRequest, _Mapping]]] = ..., trade_subscriptions: _Optional[_Iterable[_Union[TradeSubscription, _Mapping]]] = ..., order_requests: _Optional[_Iterable[_Union[OrderRequest, _Mapping]]] = ..., market_data_subscriptions: _Optional[_Iterable[_Union[MarketDataSubscription, _Mapping]]] = ..., logon: _Optional[_Union[Logon, _Mapping]] = ..., restore_or_join_session: _Optional[_Union[RestoreOrJoinSession, _Mapping]] = ..., logoff: _Optional[_Union[Logoff, _Mapping]] = ..., ping: _Optional[_Union[Ping, _Mapping]] = ..., pong: _Optional[_Union[Pong, _Mapping]] = ...) -> None: ...

class ServerMsg(_message.Message):
    __slots__ = ("information_reports", "order_request_rejects", "trade_subscription_statuses", "trade_snapshot_completions", "order_statuses", "position_statuses", "market_data_subscription_statuses", "real_time_market_data", "user_messages", "order_request_acks", "logon_result", "restore_or_join_session_result", "logged_off", "ping", "pong")
    INFORMATION_REPORTS_FIELD_NUMBER: _ClassVar[int]
    ORDER_REQUEST_REJECTS_FIELD_NUMBER: _ClassVar[int]
    TRADE_SUBSCRIPTION_STATUSES_FIELD_NUMBER: _ClassVar[int]
    TRADE_SNAPSHOT_COMPLETIONS_FIELD_NUMBER: _ClassVar[int]
    ORDER_STATUSES_FIELD_NUMBER: _ClassVar[int]
    POSITION_STATUSES_FIELD_NUMBER: _ClassVar[int]
    MARKET_DATA_SUBSCRIPTION_STATUSES_FIELD_NUMBER: _ClassVar[int]
    REAL_TIME_MARKET_DATA_FIELD_NUMBER: _ClassVar[int]
    USER_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    ORDER_REQUEST_ACKS_FIELD_NUMBER: _ClassVar[int]
    LOGON_RESULT_FIELD_NUMBER: _ClassVar[int]
    RESTORE_OR_JOIN_SESSION_RESULT_FIELD_NUMBER: _ClassVar[int]
    LOGGED_OFF_FIELD_NUMBER: _ClassVar[int]
    PING_FIELD_NUMBER: _ClassVar[int]
    PONG_FIELD_NUMBER: _ClassVar[int]
    information_reports: _containers.RepeatedCompositeFieldContainer[InformationReport]
    order_request_rejects: _containers.RepeatedCompositeFieldContainer[OrderRequestReject]
    trade_subscription_statuses: _containers.RepeatedCompositeFieldContainer[TradeSubscriptionStatus]
    trade_snapshot_completions: _containers.RepeatedCompositeFieldContainer[TradeSnapshotCompletion]
    order_statuses: _containers.RepeatedCompositeFieldContainer[OrderStatus]
    position_statuses: _containers.RepeatedCompositeFieldContainer[PositionStatus]
    market_data_subscription_statuses: _containers.RepeatedCompositeFieldContainer[MarketDataSubscriptionStatus]
    real_time_market_data: _containers.RepeatedCompositeFieldContainer[RealTimeMarketData]
    user_messages: _containers.RepeatedCompositeFieldContainer[UserMessage]
    order_request_acks: _containers.RepeatedCompositeFieldContainer[OrderRequestAck]
    logon_result: LogonResult
    restore_or_join_session_result: RestoreOrJoinSessionResult
    logged_off: LoggedOff
    ping: Ping
    pong: Pong
    def __init__(self, information_reports: _Optional[_Iterable[_Union[InformationReport, _Mapping]]] = ..., order_request_rejects: _Optional[_Iterable[_Union[OrderRequestReject, _Mapping]]] = ..., trade_subscription_statuses: _Optional[_Iterable[_Union[TradeSubscriptionStatus, _Mapping]]] = ..., trade_snapshot_completions: _Optional[_Iterable[_Union[TradeSnapshotCompletion, _Mapping]]] = ..., order_statuses: _Optional[_Iterable[_Union[OrderStatus, _Mapping]]] = ..., position_statuses: _Optional[_Iterable[_Union[PositionStatus, _Mapping]]] = ..., market_data_subscription_statuses: _Optional[_Iterable[_Union[MarketDataSubscriptionStatus, _Mapping]]] = ..., real_time_market_data: _Optional[_Iterable[_Union[RealTimeMarketData, _Mapping]]] = ..., user_messages: _Optional[_Iterable[_Union[UserMessage, _Mapping]]] = ..., order_request_acks: _Optional[_Iterable[_Union[OrderRequestAck, _Mapping]]] = ..., logon_result: _Optional[_Union[LogonResult, _Mapping]] = ..., restore_or_join_session_result: _Optional[_Union[RestoreOrJoinSessionResult, _Mapping]] = ..., logged_off: _Optional[_Union[LoggedOff, _Mapping]] = ..., ping: _Optional[_Union[Ping, _Mapping]] = ..., pong: _Optional[_Union[Pong, _Mapping]] = ...) -> None: ...
