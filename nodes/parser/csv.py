"""The csv node: convert between CSV text and objects, as Node-RED 4.1.8 does.

``spec: "rfc"`` (the default for nodes made with Node-RED 4) selects the RFC
4180 parser of :mod:`nodes.parser.csvparse`; flows without ``spec`` use the
legacy behaviour of :mod:`nodes.parser.csv_legacy`.

Parsing a string: skip ``skip`` lines, take column names from the first row
(``hdrin``) or the ``temp`` template (else ``col1``, ``col2``…), convert
numbers unless ``strings`` is false, keep empty strings and nulls only when
``include_empty_strings`` / ``include_null_values`` are set, and send one
message per row (with ``msg.parts``) or one message with an array
(``multi: "mult"``). Messages that are parts of a sequence (a file read line
by line, say) are parsed line by line, with the header taken from part 0.

Generating from an object, an array of objects or an array of arrays: rows
are joined with ``ret`` (CRLF by default in RFC mode), cells quoted where
needed, with a header row never, always, or once until ``msg.reset``
(``hdrout``). ``msg.columns`` lists the columns used.

Error handling: a payload that is neither a string nor an object, and a
malformed header row, are node errors that reach catch nodes; a malformed
``temp`` template stops the node from handling input.
"""

from __future__ import annotations

from typing import Any

from runtime.jsvalues import UNDEFINED, JSError, to_js_number, to_js_string
from runtime.message import Message, clone_message
from runtime.node import PENDING, Node
from runtime.registry import register
from nodes.parser.csv_legacy import CSVOptions, CSVTypeError, LegacyCSV, ensure_string, is_js_object, own_keys
from nodes.parser.csvparse import CSVParseError, header_text, parse_objects, parse_rows, quote_cell

BAD_TEMPLATE = "Malformed columns template."
NOT_CSV = "This node only handles CSV strings or js objects."
NO_TEMPLATE = "No columns template specified for object -> CSV."


@register
class CSVNode(Node):
    """Parse CSV text into objects, or turn objects into CSV text."""

    type_name = "csv"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.rfc = config.get("spec") == "rfc"
        self.options = CSVOptions.from_config(config, rfc=self.rfc)
        self.configured = False
        self.legacy: LegacyCSV | None = None
        if not self.rfc:
            self.legacy = LegacyCSV(self, self.options)
            self.configured = True
            return

        options = self.options
        self.quoteables = (options.sep, options.quote, "\n", "\r")
        self._warn_no_template = True
        self._header_sent = False
        # Parts of one sequence parsed into a single array wait here for the last part.
        self._store: list[dict[str, Any]] = []
        try:
            self._template = self._template_from(options.template, ",") or [""]
        except CSVParseError:
            self.warn(BAD_TEMPLATE)
            self.status({"fill": "red", "shape": "dot", "text": BAD_TEMPLATE})
            return
        self._no_template = not _has_template(self._template)
        self.configured = True

    def _template_from(self, columns: str, separator: str) -> list[Any] | None:
        """Parse a column list strictly; None unless it is exactly one row."""
        rows = parse_rows(columns, separator=separator, quote=self.options.quote, strict=True).rows
        return rows[0] if len(rows) == 1 else None

    # -- input -----------------------------------------------------------

    def on_input(self, msg: Message) -> Any:
        if not self.configured:
            return PENDING
        if self.legacy is not None:
            return self.legacy.on_input(msg)

        self.status({})
        if "reset" in msg:
            self._header_sent = False
        if "payload" not in msg:
            return None if "reset" in msg else msg
        payload = msg["payload"]
        if isinstance(payload, str):
            return self._parse(msg, payload)
        if isinstance(payload, (bool, int, float)) or payload is UNDEFINED:
            self.status({"fill": "red", "shape": "dot", "text": NOT_CSV})
            self.done(msg, JSError(NOT_CSV))
            return PENDING
        try:
            return self._generate(msg, payload)
        except CSVTypeError as exc:
            self.done(msg, exc.js_error)
            return PENDING

    # -- CSV to objects --------------------------------------------------

    def _parse(self, msg: Message, text: str) -> Any:
        options = self.options
        parts = msg.get("parts") if isinstance(msg.get("parts"), dict) else None
        has_parts = "parts" in msg
        first_line, last = True, False
        line_count: float = 0
        if parts is not None:
            line_count = to_js_number(parts.get("index", UNDEFINED))
            if _js_gt(parts.get("index"), options.skip):
                first_line = False
            if "count" in parts and to_js_number(parts.get("index")) + 1 >= to_js_number(parts["count"]):
                last = True

        cursor = 0
        if options.skip > 0 and line_count < options.skip:
            cursor = _skip_lines(text, options.skip, line_count) if first_line else 0
            if cursor >= len(text):
                # Node-RED drops the message without marking it done.
                return PENDING

        line_breaks = text.count("\r", cursor) + text.count("\n", cursor)
        if has_parts and options.multi == "mult" and line_breaks > 1:
            first_line = True
        if first_line and options.hdrin:
            try:
                header = parse_rows(text, separator=options.sep, quote=options.quote, cursor=cursor, strict=True, first_row_only=True)
            except CSVParseError as exc:
                self.status({"fill": "red", "shape": "dot", "text": BAD_TEMPLATE})
                self.done(msg, JSError(str(exc), exc.name))
                return PENDING
            self._template = header.rows[0] if header.rows else []
            cursor = header.cursor

        rows, headers = parse_objects(
            text,
            headers=self._template if _has_template(self._template) else None,
            separator=options.sep,
            quote=options.quote,
            cursor=cursor,
            include_null=options.include_null,
            include_empty=options.include_empty,
            parse_numeric=options.parse_strings,
        )
        columns = header_text(headers, quote=options.quote)
        self._send_rows(msg, rows, columns, has_parts=has_parts, last=last, line_breaks=line_breaks)
        return None

    def _send_rows(self, msg: Message, rows: list[dict[str, Any]], columns: str, *, has_parts: bool, last: bool,
                   line_breaks: int) -> None:
        options = self.options
        if options.multi != "one":
            if has_parts and line_breaks <= 1:
                self._store.extend(rows)
                parts = msg["parts"]
                if isinstance(parts, dict) and to_js_number(parts.get("index")) + 1 == parts.get("count"):
                    msg["payload"], self._store = self._store, []
                    msg["columns"] = columns
                    del msg["parts"]
                    self.send(msg)
                return
            msg["columns"] = columns
            msg["payload"] = rows
            self.send(msg)
            return

        for index, row in enumerate(rows):
            out = clone_message(msg)
            out["columns"] = columns
            out["payload"] = row
            if not has_parts:
                out["parts"] = {"id": msg.get("_msgid"), "index": index, "count": len(rows)}
            elif isinstance(out["parts"], dict):
                shift = options.skip + (1 if options.hdrin else 0)
                out["parts"]["index"] = to_js_number(out["parts"].get("index")) - shift
                out["parts"]["count"] = to_js_number(out["parts"].get("count")) - shift
            if last:
                out["complete"] = True
            self.send(out)
        if has_parts and last and not rows:
            self.send({"complete": True})

    # -- objects to CSV ----------------------------------------------------

    def _generate(self, msg: Message, payload: Any) -> Any:
        options = self.options
        rows, of_arrays = _as_rows(payload)
        parts = msg.get("parts")
        continues_sequence = isinstance(parts, dict) and "index" in parts and _js_gt(parts["index"], 0)
        if not (self._no_template and continues_sequence):
            self._template = self._template_from(options.template, ",") or [""]

        lines: list[str] = []
        if options.hdrout != "none" and not self._header_sent:
            if not _has_template(self._template):
                if "columns" in msg:
                    self._template = self._template_from(to_js_string(msg["columns"] or ""), ",") or [""]
                else:
                    self._template = own_keys(rows[0] if rows else UNDEFINED)
            cells = [quote_cell(h or "", quote=options.quote, separator=options.sep, quoteables=self.quoteables) for h in self._template]
            lines.append(options.sep.join(cells))
            if options.hdrout == "once":
                self._header_sent = True

        for row in rows:
            lines.append(self._array_line(row) if of_arrays else self._object_line(msg, row, rows[0]))

        msg["payload"] = options.ret.join(lines) + options.ret
        msg["columns"] = header_text(self._template, quote=options.quote)
        return msg if msg["payload"] != "" else None

    def _array_line(self, row: Any) -> str:
        template = self._template
        with_template = _has_template(template)
        width = len(template) if with_template else _length(row)
        cells = []
        for index in range(width):
            cell = _member(row, index)
            if with_template and not template[index]:
                cells.append("")  # a hole in the JavaScript array joins as ""
                continue
            cells.append(self._quote(ensure_string("" if cell is UNDEFINED else cell)))
        return self.options.sep.join(cells)

    def _object_line(self, msg: Message, row: Any, first_row: Any) -> str:
        if not _has_template(self._template) and "columns" in msg:
            self._template = self._template_from(to_js_string(msg["columns"] or ""), ",") or [""]
        if _has_template(self._template):
            cells = []
            for header in self._template:
                if not header:
                    cells.append("")
                    continue
                value = _member(row, header)
                cells.append(self._quote(ensure_string("" if value is UNDEFINED else value)))
            return self.options.sep.join(cells)

        if self._warn_no_template:
            self.warn(NO_TEMPLATE)
            self._warn_no_template = False
        self._template = own_keys(row) or [""]
        cells = []
        for header in own_keys(first_row):
            if isinstance(row, dict) and header in row and _is_primitive(row[header]):
                cells.append(self._quote("" if row[header] is UNDEFINED else to_js_string(row[header])))
        return self.options.sep.join(cells)

    def _quote(self, cell: str) -> str:
        return quote_cell(cell, quote=self.options.quote, separator=self.options.sep, quoteables=self.quoteables)


def _skip_lines(text: str, skip: int, line_count: float) -> int:
    """Return the offset after ``skip`` line breaks (``\\r\\n`` counts twice, as in Node-RED)."""
    cursor = 0
    while cursor < len(text) and line_count < skip:
        if text[cursor] in "\r\n":
            line_count += 1
        cursor += 1
    return cursor


def _as_rows(payload: Any) -> tuple[list[Any], bool]:
    """Classify a payload as Node-RED does: rows, and whether they are arrays."""
    if not isinstance(payload, list):
        return [payload], False
    if payload and not is_js_object(payload[0]):
        return [payload], True
    return payload, bool(payload) and isinstance(payload[0], list)


def _member(row: Any, key: Any) -> Any:
    if isinstance(row, dict):
        return row.get(to_js_string(key), UNDEFINED)
    if isinstance(row, (list, str, bytes, bytearray)):
        text = to_js_string(key)
        if not text.isdigit():
            return UNDEFINED
        index = int(text)
        return row[index] if index < len(row) else UNDEFINED
    if row is None or row is UNDEFINED:
        raise CSVTypeError(f"Cannot read properties of {to_js_string(row)} (reading '{to_js_string(key)}')")
    return UNDEFINED


def _length(row: Any) -> int:
    return len(row) if isinstance(row, (list, str, bytes, bytearray)) else 0


def _is_primitive(value: Any) -> bool:
    return not is_js_object(value)


def _has_template(template: list[Any] | None) -> bool:
    return template is not None and len(template) > 0 and not (len(template) == 1 and template[0] == "")


def _js_gt(left: Any, right: Any) -> bool:
    return bool(to_js_number(left) > to_js_number(right))
