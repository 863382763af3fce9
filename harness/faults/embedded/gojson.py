"""Decode and encode request bodies the way Go's encoding/json does for Toxiproxy's structs.

Clients (and our tests) match on Toxiproxy's error text, so the decoder reproduces Go's:
`json.Decoder` reads only the first value of a body and reports syntax errors in the
scanner's words. Number literals are kept as sent, and objects keep every key/value pair in
body order, duplicates included, because Go's struct decoding (gofields.py) visits each one.
"""

from __future__ import annotations

import json
import re
import struct
from typing import Any, NoReturn

from .errors import bad_body

MAX_DEPTH = 10000  # Go's scanner refuses deeper nesting
# Sets of byte values, so the end-of-body marker -1 can be tested against them too.
_WHITESPACE = frozenset(b" \t\r\n")
_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_SIMPLE_ESCAPES = frozenset(b'"\\/bfnrt')
_EXPONENT = frozenset(b"eE")
_SIGNS = frozenset(b"+-")
_LITERALS = {ord("t"): b"true", ord("f"): b"false", ord("n"): b"null"}
_SHORT_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_HTML_UNSAFE = re.compile("[<>&\u2028\u2029]")


class FloatLiteral(str):
    """A JSON number kept as written: one with a fraction or exponent, or too long for an int."""


class GoObject(dict[str, Any]):
    """A JSON object that also keeps its `pairs` in body order, duplicate keys included.

    Python keeps only the last value of a repeated key; Go decodes every occurrence in turn,
    so a bad first one is still reported."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        self.pairs = pairs


def pairs_of(obj: dict[str, Any]) -> list[tuple[str, Any]]:
    """An object's key/value pairs in body order (a plain dict has no duplicates to keep)."""
    return obj.pairs if isinstance(obj, GoObject) else list(obj.items())


# -- decoding --------------------------------------------------------------------------------
def loads(body: bytes) -> Any:
    """Decode the first JSON value of `body` as Go's json.Decoder.Decode would."""
    end = _Scanner(body).first_value_end()
    text = body[:end].decode("utf-8", errors="replace")  # Go swaps bad UTF-8 for U+FFFD too
    try:
        value = json.loads(text, parse_float=FloatLiteral, parse_int=_parse_int, object_pairs_hook=GoObject)
        return _replace_lone_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value
    except RecursionError:
        # Valid but deeper than Python's stack allows (Go would get further); refuse it.
        raise bad_body("exceeded max depth") from None


def _parse_int(literal: str) -> int | FloatLiteral:
    # Beyond int64 the value is refused anyway; keeping the text avoids Python's digit limit.
    return int(literal) if len(literal) <= 20 else FloatLiteral(literal)


def _replace_lone_surrogates(value: Any) -> Any:
    """Go decodes an unpaired `\\ud800` escape as U+FFFD; Python keeps it and cannot encode it."""
    if isinstance(value, str) and not isinstance(value, FloatLiteral):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replace_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        pairs = [(_replace_lone_surrogates(k), _replace_lone_surrogates(v)) for k, v in pairs_of(value)]
        return GoObject(pairs)
    return value


class _UnexpectedEof(Exception):
    """The body ended inside a value."""


class _Scanner:
    """Find where the first JSON value ends, failing with the messages Go's scanner uses.

    Python's json module would accept the same documents, but words its errors differently
    and refuses trailing data, which Go's streaming decoder never reads.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def first_value_end(self) -> int:
        self._skip_space()
        if self.pos >= len(self.data):
            raise bad_body("EOF")
        try:
            self._value_tree()
        except _UnexpectedEof:
            raise bad_body("unexpected EOF") from None
        return self.pos

    # -- primitives ------------------------------------------------------------------------
    def _peek(self) -> int:
        return self.data[self.pos] if self.pos < len(self.data) else -1

    def _byte(self) -> int:
        if self.pos >= len(self.data):
            raise _UnexpectedEof
        return self.data[self.pos]

    def _skip_space(self) -> None:
        while self.pos < len(self.data) and self.data[self.pos] in _WHITESPACE:
            self.pos += 1

    def _fail(self, char: int, context: str) -> NoReturn:
        raise bad_body(f"invalid character {quote_char(char)} {context}")

    # -- structure -------------------------------------------------------------------------
    def _value_tree(self) -> None:
        """Walk one value and everything nested in it, without recursion."""
        stack: list[int] = []
        while True:
            self._skip_space()
            char = self._byte()
            if char in b"{[":
                self.pos += 1
                stack.append(char)
                if len(stack) > MAX_DEPTH:
                    self._fail(char, "exceeded max depth")
                if self._open_container(char):
                    continue  # a value follows
                stack.pop()
            else:
                self._scalar(char)
            if not self._close_values(stack):
                return

    def _open_container(self, opener: int) -> bool:
        """After `{` or `[`: True when a value follows, False when the container is empty."""
        self._skip_space()
        char = self._byte()
        closer = ord("}") if opener == ord("{") else ord("]")
        if char == closer:
            self.pos += 1
            return False
        if opener == ord("{"):
            self._object_key(char)
        return True

    def _object_key(self, char: int) -> None:
        if char != ord('"'):
            self._fail(char, "looking for beginning of object key string")
        self._string()
        self._skip_space()
        char = self._byte()
        if char != ord(":"):
            self._fail(char, "after object key")
        self.pos += 1

    def _close_values(self, stack: list[int]) -> bool:
        """After a value: True when another value follows, False when the top value is done."""
        while stack:
            self._skip_space()
            char = self._byte()
            in_object = stack[-1] == ord("{")
            if char == ord(","):
                self.pos += 1
                if in_object:
                    self._skip_space()
                    self._object_key(self._byte())
                return True
            if char == (ord("}") if in_object else ord("]")):
                self.pos += 1
                stack.pop()
                continue
            self._fail(char, "after object key:value pair" if in_object else "after array element")
        return False

    # -- scalars ---------------------------------------------------------------------------
    def _scalar(self, char: int) -> None:
        if char == ord('"'):
            self._string()
        elif char == ord("-") or char in _DIGITS:
            self._number()
        elif char in _LITERALS:
            self._literal(_LITERALS[char])
        else:
            self._fail(char, "looking for beginning of value")

    def _string(self) -> None:
        self.pos += 1  # the opening quote
        while True:
            char = self._byte()
            self.pos += 1
            if char == ord('"'):
                return
            if char == ord("\\"):
                self._escape()
            elif char < 0x20:
                self._fail(char, "in string literal")

    def _escape(self) -> None:
        char = self._byte()
        self.pos += 1
        if char in _SIMPLE_ESCAPES:
            return
        if char != ord("u"):
            self._fail(char, "in string escape code")
        for _ in range(4):
            char = self._byte()
            if char not in _HEX:
                self._fail(char, "in \\u hexadecimal character escape")
            self.pos += 1

    def _number(self) -> None:
        if self._peek() == ord("-"):
            self.pos += 1
            self._need_digit("in numeric literal")
        if self._peek() == ord("0"):
            self.pos += 1
        else:
            self._digits()
        if self._peek() == ord("."):
            self.pos += 1
            self._need_digit("after decimal point in numeric literal")
            self._digits()
        if self._peek() in _EXPONENT:
            self.pos += 1
            if self._peek() in _SIGNS:
                self.pos += 1
            self._need_digit("in exponent of numeric literal")
            self._digits()

    def _need_digit(self, context: str) -> None:
        char = self._byte()
        if char not in _DIGITS:
            self._fail(char, context)

    def _digits(self) -> None:
        while self._peek() in _DIGITS:
            self.pos += 1

    def _literal(self, word: bytes) -> None:
        self.pos += 1
        for expected in word[1:]:
            char = self._byte()
            if char != expected:
                self._fail(char, f"in literal {word.decode()} (expecting {quote_char(expected)})")
            self.pos += 1


def quote_char(char: int) -> str:
    """Quote one byte the way Go's scanner does in its error messages."""
    if char == ord("'"):
        return "'\\''"
    if char == ord('"'):
        return "'\"'"
    if char == ord("\\"):
        return "'\\\\'"
    if char in _SHORT_ESCAPES:
        return f"'{_SHORT_ESCAPES[char]}'"
    if char < 0x20 or char == 0x7F:
        return f"'\\x{char:02x}'"
    if 0x80 <= char <= 0xA0 or char == 0xAD:  # not printable for Go's strconv
        return f"'\\u{char:04x}'"
    return f"'{chr(char)}'"


# -- numbers --------------------------------------------------------------------------------
def shortest_float32(x: float) -> float:
    """Round to float32 and back to the shortest decimal that survives, as Go prints float32.

    Raises OverflowError for a value float32 cannot hold, as Go's decoder refuses it: "<f"
    checks the range, where native "f" casts it to infinity."""
    f32: float = struct.unpack("<f", struct.pack("<f", x))[0]
    for digits in range(1, 10):
        candidate = float(f"{f32:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == f32:
            return candidate
    return f32


def number(x: float) -> int | float:
    """Go prints a whole float32 without a fraction: 1.0 goes out as 1."""
    return int(x) if x == int(x) and abs(x) < 2**53 else x


# -- encoding --------------------------------------------------------------------------------
def dumps(payload: Any) -> str:
    """Encode like Go's json.Marshal: compact, raw UTF-8, and `<`, `>`, `&` escaped for HTML."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return _HTML_UNSAFE.sub(lambda m: _HTML_ESCAPES[m.group()], text)
