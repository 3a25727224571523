"""The csv node's legacy mode: Node-RED's parser and generator from before 4.0.

Flows saved without ``spec: "rfc"`` use it. It reads characters one at a
time; a value becomes a number when it matches Node-RED's number pattern, an
empty value between separators is null, and a template that cannot be read
names columns ``col1``, ``col2``…. Quirks kept on purpose because flows rely
on the output: ``\\r\\n`` ends a row twice (the second row is empty and dropped
unless empty strings are kept), and text whose first character is a
separator fails with a TypeError, as in Node-RED.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runtime.jsjson import stringify
from runtime.jsvalues import UNDEFINED, JSError, to_js_number, to_js_string
from runtime.message import Message, clone_message
from runtime.node import PENDING

if TYPE_CHECKING:
    from runtime.node import Node

BAD_CSV = "Malformed CSV data - output probably corrupt."
NOT_CSV = "This node only handles CSV strings or js objects."
NO_TEMPLATE = "No columns template specified for object -> CSV."

_NUMBER_RE = re.compile(r"^[-]?(?!E)(?!0\d)\d*\.?\d*(E-?\+?)?\d+$", re.IGNORECASE | re.ASCII)
_PARSE_INT_RE = re.compile(r"^\s*([+-]?\d+)")


@dataclass
class CSVOptions:
    """The csv node's configuration, read as Node-RED reads it."""

    template: str
    sep: str
    quote: str
    ret: str
    multi: str
    hdrin: bool
    hdrout: str
    skip: int
    parse_strings: bool
    include_empty: bool
    include_null: bool

    @classmethod
    def from_config(cls, config: dict[str, Any], *, rfc: bool) -> CSVOptions:
        sep = str(config.get("sep") or ",").replace("\\t", "\t").replace("\\n", "\n").replace("\\r", "\r")
        # RFC 4180 mode defaults to CRLF line ends, the legacy mode to LF.
        ret = str(config.get("ret") or ("\r\n" if rfc else "\n")).replace("\\n", "\n").replace("\\r", "\r")
        hdrout = config.get("hdrout") or "none"
        if hdrout is True:
            hdrout = "all"
        skip_match = _PARSE_INT_RE.match(to_js_string(config.get("skip") or 0))
        return cls(
            template=str(config.get("temp") or ""),
            sep=sep,
            quote='"',
            ret=ret,
            multi=config.get("multi") or "one",
            hdrin=config.get("hdrin") is True,
            hdrout=str(hdrout),
            skip=int(skip_match.group(1)) if skip_match else 0,
            parse_strings=config.get("strings", True) is True,
            include_empty=bool(config.get("include_empty_strings")),
            include_null=bool(config.get("include_null_values")),
        )


class LegacyCSV:
    """Parse and generate CSV for one node in legacy mode."""

    def __init__(self, node: Node, options: CSVOptions) -> None:
        self.node = node
        self.options = options
        self.good_template = True
        self._split_re = _separator_re(options.sep)
        self.template = self._clean(options.template, ",")
        self._no_template = len(self.template) == 1 and self.template[0] == ""
        self._header_sent = False
        self._warn_no_template = True
        self._store: list[dict[str, Any]] = []

    def _clean(self, columns: str, separator: str | None = None) -> list[Any]:
        """Split a column list outside quotes, strip quotes and spaces (Node-RED's ``clean``).

        Without ``separator`` the last separator given is used again, as in Node-RED.
        """
        if separator is not None:
            self._split_re = _separator_re(separator)
        names = [part.replace('"', "").strip() for part in self._split_re.split(columns.strip())]
        self.good_template = not (len(names) == 1 and names[0] == "")
        return names

    def on_input(self, msg: Message) -> Any:
        if "reset" in msg:
            self._header_sent = False
        if "payload" not in msg:
            return None if "reset" in msg else msg
        payload = msg["payload"]
        if isinstance(payload, str):
            return _LegacyParse(self, msg, payload).run()
        if isinstance(payload, (bool, int, float)):
            self.node.warn(NOT_CSV)
            return None
        try:
            return self._generate(msg)
        except CSVTypeError as exc:
            self.node.done(msg, exc.js_error)
            return PENDING

    # -- objects to CSV ----------------------------------------------------

    def _generate(self, msg: Message) -> Any:
        options = self.options
        parts = msg.get("parts")
        if not (self._no_template and isinstance(parts, dict) and "index" in parts and to_js_number(parts["index"]) > 0):
            self.template = self._clean(options.template)
        if not isinstance(msg["payload"], list):
            msg["payload"] = [msg["payload"]]

        lines: list[str] = []
        if options.hdrout != "none" and not self._header_sent:
            if self._template_empty():
                if "columns" in msg:
                    self.template = self._clean(to_js_string(msg["columns"] or ""), ",")
                else:
                    self.template = own_keys(msg["payload"][0] if msg["payload"] else UNDEFINED)
            lines.append(options.sep.join(f'"{v}"' if options.sep in v else v for v in self.template))
            if options.hdrout == "once":
                self._header_sent = True

        index = 0
        while index < len(msg["payload"]):
            row = msg["payload"][index]
            if isinstance(row, list) or not is_js_object(row):
                if not is_js_object(row):
                    # Node-RED wraps the whole payload so it reads as one row of primitives.
                    msg["payload"] = [msg["payload"]]
                rows = msg["payload"]
                lines.append(self._array_line(rows[index] if index < len(rows) else UNDEFINED))
            else:
                lines.append(self._object_line(msg, row))
            index += 1

        msg["payload"] = options.ret.join(lines) + options.ret
        msg["columns"] = ",".join(f'"{v}"' if "," in v else v for v in self.template)
        return msg

    def _template_empty(self) -> bool:
        return len(self.template) == 1 and self.template[0] == ""

    def _array_line(self, row: Any) -> str:
        sep, quote = self.options.sep, self.options.quote
        if not isinstance(row, list):
            raise CSVTypeError(f"Cannot read properties of {to_js_string(row)} (reading 'length')")
        for t, cell in enumerate(row):
            if cell is UNDEFINED:
                cell = row[t] = ""
            if cell is None:
                raise CSVTypeError("Cannot read properties of null (reading 'toString')")
            text = to_js_string(cell)
            if quote in text:
                row[t] = quote + text.replace('"', '""') + quote
            elif sep in text or "\n" in text:
                row[t] = quote + text + quote
        return sep.join("" if c is None or c is UNDEFINED else to_js_string(c) for c in row)

    def _object_line(self, msg: Message, row: dict[str, Any]) -> str:
        sep, quote = self.options.sep, self.options.quote
        if self._template_empty() and "columns" in msg:
            self.template = self._clean(to_js_string(msg["columns"] or ""), ",")
        cells: list[str] = []
        if self._template_empty():
            if self._warn_no_template:
                self.node.warn(NO_TEMPLATE)
                self._warn_no_template = False
            for key in own_keys(msg["payload"][0]):
                if key in row and not is_js_object(row[key]):
                    text = "" if row[key] is UNDEFINED else to_js_string(row[key])
                    # Node-RED checks the key, not the value, for a newline here.
                    needs_quotes = sep in text or "\n" in key
                    cells.append(_quoted(text, quote, needs_quotes))
            return sep.join(cells)

        for name in self.template:
            if name == "":
                cells.append("")
                continue
            value = row.get(name, UNDEFINED) if isinstance(row, dict) else UNDEFINED
            text = ensure_string("" if value is UNDEFINED else value)
            cells.append(_quoted(text, quote, sep in text or "\n" in text))
        return sep.join(cells)


class _LegacyParse:
    """One run of the legacy parser over one message's text."""

    def __init__(self, owner: LegacyCSV, msg: Message, text: str) -> None:
        self.owner = owner
        self.options = owner.options
        self.node = owner.node
        self.msg = msg
        self.text = text
        self.outside_quotes = True
        self.column = 0
        self.values: list[Any] = [""]
        self.row: dict[str, Any] = {}
        self.rows: list[dict[str, Any]] = []

    def run(self) -> Any:
        try:
            return self._run()
        except CSVTypeError as exc:
            self.node.done(self.msg, exc.js_error)
            return PENDING

    def _run(self) -> Any:
        options, msg, text = self.options, self.msg, self.text
        first, last = True, False
        line_count: float = 0
        parts = msg.get("parts")
        has_parts = "parts" in msg
        if isinstance(parts, dict):
            line_count = to_js_number(parts.get("index", UNDEFINED))
            if line_count > options.skip:
                first = False
            if "count" in parts and line_count + 1 >= to_js_number(parts["count"]):
                last = True

        line_breaks = text.count("\r") + text.count("\n")
        header = ""
        if has_parts and options.multi == "mult" and line_breaks > 1:
            first = True
        for i, char in enumerate(text):
            if first and line_count < options.skip:
                if char == "\n":
                    line_count += 1
                continue
            if options.hdrin and first:
                if char in "\r\n" or len(text) - i == 1:
                    if len(text) - i == 1:
                        header += char
                    self.owner.template = self.owner._clean(header, options.sep)
                    first = False
                else:
                    header += char
                continue
            self._char(i, char)

        if not self.outside_quotes:
            self.node.warn(BAD_CSV)
        self._finish_value(None)
        if self.row:
            self.rows.append(self.row)
        return self._output(has_parts, last, line_breaks)

    def _char(self, i: int, char: str) -> None:
        text, quote = self.text, self.options.quote
        if char == quote:
            self.outside_quotes = not self.outside_quotes
            if i > 0 and text[i - 1] == quote and not self.outside_quotes:
                self._append('"')
        elif char == self.options.sep and self.outside_quotes:
            self._finish_value(i, at_separator=True)
            self.column += 1
            self.values.append(None if len(text) - 1 == i else "")
        elif char in "\r\n" and self.outside_quotes:
            self._finish_value(i)
            if self.row:
                self.rows.append(self.row)
            self.column, self.values, self.row = 0, [""], {}
            self.outside_quotes = True
        else:
            self._append(char)

    def _append(self, char: str) -> None:
        # JavaScript's null + "x" is "nullx".
        value = self.values[self.column]
        self.values[self.column] = ("null" if value is None else value) + char

    def _finish_value(self, i: int | None, *, at_separator: bool = False) -> None:
        """Store the current value in the row under its column name (Node-RED's per-cell rules)."""
        owner, options = self.owner, self.options
        column = self.column
        template = owner.template
        if not owner.good_template:
            # JavaScript grows the array by assignment; the padding reads as holes.
            template.extend([UNDEFINED] * (column + 1 - len(template)))
            template[column] = f"col{column + 1}"
        name = template[column] if column < len(template) else UNDEFINED
        if not isinstance(name, str) or name == "":
            return

        value = self.values[column]
        if i is not None:
            previous = self.text[i - 1] if i > 0 else UNDEFINED
            if previous == options.sep:
                value = None
            elif at_separator:
                if previous is UNDEFINED:
                    raise CSVTypeError("Cannot read properties of undefined (reading 'includes')")
                if previous == "\n":
                    value = None
        if value is not None and options.parse_strings and _NUMBER_RE.match(value.strip()):
            value = _normalise(float(value.strip()))
        if options.include_null and value is None:
            self.row[name] = value
        if options.include_empty and value == "":
            self.row[name] = value
        if value is not None and value != "":
            self.row[name] = value
        self.values[column] = value

    def _output(self, has_parts: bool, last: bool, line_breaks: int) -> Any:
        options, msg, owner = self.options, self.msg, self.owner
        columns = ",".join(f'"{v}"' if "," in v else v for v in owner.template if isinstance(v, str) and v)
        if options.multi != "one":
            msg["payload"] = self.rows
            if has_parts and line_breaks <= 1:
                if self.row:
                    owner._store.append(self.row)
                parts = msg["parts"]
                if isinstance(parts, dict) and to_js_number(parts.get("index", UNDEFINED)) + 1 == parts.get("count"):
                    msg["payload"], owner._store = owner._store, []
                    msg["columns"] = columns
                    del msg["parts"]
                    self.node.send(msg)
                return None
            msg["columns"] = columns
            return msg

        for index, row in enumerate(self.rows):
            out = clone_message(msg)
            out["columns"] = columns
            out["payload"] = row
            if not has_parts:
                out["parts"] = {"id": msg.get("_msgid"), "index": index, "count": len(self.rows)}
            elif isinstance(out["parts"], dict):
                shift = options.skip + (1 if options.hdrin else 0)
                out["parts"]["index"] = to_js_number(out["parts"].get("index", UNDEFINED)) - shift
                out["parts"]["count"] = to_js_number(out["parts"].get("count", UNDEFINED)) - shift
            if last:
                out["complete"] = True
            self.node.send(out)
        if has_parts and last and not self.rows:
            self.node.send({"complete": True})
        return None


class CSVTypeError(Exception):
    """A JavaScript TypeError that Node-RED's csv code raises on some payloads.

    It reaches catch nodes as ``TypeError: <message>``, as in Node-RED.
    """

    @property
    def js_error(self) -> JSError:
        return JSError(str(self), "TypeError")


def _separator_re(separator: str) -> re.Pattern[str]:
    # Split only where an even number of quotes follows, i.e. outside quotes.
    return re.compile(re.escape(separator) + r'(?=(?:(?:[^"]*"){2})*[^"]*$)')


def _quoted(text: str, quote: str, needs_quotes: bool) -> str:
    if quote in text:
        return quote + text.replace('"', '""') + quote
    return quote + text + quote if needs_quotes else text


def own_keys(value: Any) -> list[str]:
    """Return what JavaScript's ``Object.keys(value)`` gives (a TypeError for null and undefined)."""
    if isinstance(value, dict):
        return list(value)
    if isinstance(value, (list, str, bytes, bytearray)):
        return [str(i) for i in range(len(value))]
    if value is None or value is UNDEFINED:
        raise CSVTypeError("Cannot convert undefined or null to object")
    return []


def is_js_object(value: Any) -> bool:
    return not isinstance(value, (str, bool, int, float)) and value is not UNDEFINED


def ensure_string(value: Any) -> str:
    """Convert a cell as Node-RED's ``RED.util.ensureString`` does (objects as JSON)."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    if is_js_object(value):
        return stringify(value)
    return to_js_string(value)


def _normalise(number: float) -> float | int:
    return int(number) if number.is_integer() and abs(number) < 2**53 else number
