"""Records and tables: to_dict(), text and HTML reprs, and DataFrames (pandas imported lazily).

Every result kvabench returns is a :class:`Record` (a frozen dataclass) or a :class:`Table` of
them, so they print as aligned text, render as HTML in Jupyter and convert with to_pandas()."""
from __future__ import annotations

import dataclasses
import enum
import html
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, TypeVar, overload

SIZE_UNITS = ((1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K"))


def size_text(nbytes: int) -> str:
    """'16M' for 16 MiB, '4K', '1536' for sizes that are not whole units."""
    for unit, suffix in SIZE_UNITS:
        if nbytes and nbytes % unit == 0:
            return f"{nbytes // unit}{suffix}"
    return str(nbytes)


def hex_or_none(value: Optional[int]) -> str:
    return "-" if value is None else f"{value:#x}"


def flag_text(flags: enum.Flag) -> str:
    """'VALID|WRITABLE' (the same on every Python version), 'NONE' when empty."""
    names = [m.name for m in type(flags) if m.value and (flags & m) == m and m.name]
    return "|".join(names) or "NONE"


def plain(value: Any) -> Any:
    """A value as plain Python data (for to_dict and DataFrames)."""
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, enum.Enum):
        return flag_text(value) if isinstance(value, enum.Flag) else value.name
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


class Record:
    """Mixin for the frozen dataclasses kvabench returns.

    Fields are attributes; ``record['name']`` and ``dict(record)`` also work, with the keys of
    to_dict() (a field spelled ``global_`` because of the keyword is the key ``'global'``)."""

    _hex_fields: Tuple[str, ...] = ()
    _size_fields: Tuple[str, ...] = ()  # shown as '4K', '2M'
    __iter__ = None  # not a sequence: iterate keys() or to_dict()

    @classmethod
    def _keys(cls) -> List[str]:
        return [f.name.rstrip("_") for f in dataclasses.fields(cls) if not f.name.startswith("_")]

    def keys(self) -> List[str]:
        """The to_dict() keys."""
        return self._keys()

    def __getitem__(self, key: str) -> Any:
        for f in dataclasses.fields(self):
            if f.name.rstrip("_") == key and not f.name.startswith("_"):
                return getattr(self, f.name)
        raise KeyError(key)

    def to_dict(self) -> Dict[str, Any]:
        """The fields as a dict of plain values (nested records become dicts)."""
        return {k: plain(self[k]) for k in self.keys()}

    def _cells(self) -> Dict[str, str]:
        out = {}
        for k in self.keys():
            v = self[k]
            if k in self._size_fields and isinstance(v, int):
                out[k] = size_text(v)
            elif k in self._hex_fields and isinstance(v, int) and not isinstance(v, bool):
                out[k] = f"{v:#x}"
            elif k in self._hex_fields and v is None:
                out[k] = "-"
            elif isinstance(v, bytes):
                out[k] = v[:16].hex(" ") + (" ..." if len(v) > 16 else "")
            elif isinstance(v, enum.Flag):
                out[k] = flag_text(v)
            else:
                out[k] = str(v)
        return out

    def _repr_html_(self) -> str:
        return html_table(self.keys(), [self._cells()])


R = TypeVar("R", bound=Record)


def text_table(columns: Sequence[str], rows: Sequence[Dict[str, str]]) -> str:
    widths = {c: max([len(c)] + [len(r.get(c, "")) for r in rows]) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    for r in rows:
        lines.append("  ".join(r.get(c, "").ljust(widths[c]) for c in columns).rstrip())
    return "\n".join(lines)


def html_table(columns: Sequence[str], rows: Sequence[Dict[str, str]], caption: str = "",
               row_style: Optional[Callable[[int], str]] = None) -> str:
    parts = ['<table class="kvabench">']
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in columns) + "</tr></thead><tbody>")
    for i, r in enumerate(rows):
        style = row_style(i) if row_style else ""
        attr = f' style="{style}"' if style else ""
        parts.append(f"<tr{attr}>" + "".join(f"<td>{html.escape(r.get(c, ''))}</td>" for c in columns) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


class Table(Sequence[R]):
    """An immutable sequence of records: prints as a text table, renders as HTML in Jupyter,
    converts with to_pandas() / to_dicts(), and filters with where()."""

    caption = ""
    #: a record field whose truth highlights the row in HTML (e.g. a stale TLB entry)
    highlight: Optional[str] = None

    def __init__(self, records: Iterable[R] = (), caption: Optional[str] = None) -> None:
        self._records: Tuple[R, ...] = tuple(records)
        if caption is not None:
            self.caption = caption

    @overload
    def __getitem__(self, i: int) -> R: ...
    @overload
    def __getitem__(self, i: slice) -> "Table[R]": ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            return type(self)(self._records[i], self.caption)
        return self._records[i]

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[R]:
        return iter(self._records)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Table):
            return self._records == other._records
        if isinstance(other, (list, tuple)):
            return list(self._records) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def columns(self) -> List[str]:
        """The record fields (to_dict() keys)."""
        if self._records:
            return self._records[0].keys()
        return []

    def where(self, predicate: Optional[Callable[[R], bool]] = None, **equal: Any) -> "Table[R]":
        """Records for which predicate(record) holds and every field equals the given value."""
        def keep(r: R) -> bool:
            return (predicate is None or predicate(r)) and all(r[k] == v for k, v in equal.items())
        return type(self)([r for r in self._records if keep(r)], self.caption)

    def to_dicts(self) -> List[Dict[str, Any]]:
        return [r.to_dict() for r in self._records]

    def to_pandas(self):
        """A pandas DataFrame with one row per record (pip install 'kvabench[notebook]')."""
        import pandas as pd

        return pd.DataFrame(self.to_dicts(), columns=self.columns() or None)

    def _rows(self) -> List[Dict[str, str]]:
        return [r._cells() for r in self._records]

    def __repr__(self) -> str:
        if not self._records:
            return f"<{type(self).__name__}: empty>" if not self.caption else f"<{self.caption}: empty>"
        head = f"{self.caption}\n" if self.caption else ""
        return head + text_table(self.columns(), self._rows())

    def _repr_html_(self) -> str:
        style = None
        if self.highlight:
            marks = [bool(r[self.highlight]) for r in self._records]
            style = lambda i: "background-color:#fdd" if marks[i] else ""  # noqa: E731
        return html_table(self.columns(), self._rows(), self.caption, style)
