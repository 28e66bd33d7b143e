"""Okta System Log ``filter`` / SCIM ``search`` expressions: parse to an AST, format back, compile to SQL.

The language is RFC 7644 §3.4.2.2 without ``[ ]`` value paths: ``attr op value``, ``attr pr``, ``and``,
``or``, ``not (...)`` and parentheses. Attribute paths are case-sensitive; operators and keywords are not.
Mapping attribute paths to SQL (and aliasing) is the caller's job, through the ``fields`` of
``compile_filter``.

A filter's cost is capped, so that no request can hand the database an arbitrarily expensive query
(each cap is a 400 whose cause states the limit):

- at most ``MAX_FILTER_LENGTH`` (4096) characters;
- at most ``MAX_FILTER_DEPTH`` (32) levels of parentheses (``not (...)`` included);
- at most ``MAX_PATH_SEGMENTS`` (10) dot-separated segments in an attribute path;
- at most ``MAX_FILTER_COMPARISONS`` (100) comparisons (``attr op value`` and ``attr pr``);
- a cost of at most ``MAX_FILTER_COST`` (100). Each comparison costs 1 on a table column, or 5 on a
  *computed* attribute, one whose value is worked out for every row scanned (read from the stored JSON
  body, or through a sub-select over an array such as ``target[]``); ``co``, ``sw`` and ``ew`` cost twice
  that, since no index serves a substring match. So 100 ``eventType eq``, 50 ``eventType co``, 20
  ``actor.alternateId eq`` or 10 ``target.displayName co`` comparisons are each the most a filter holds.

The first four are syntax (``E0000053``, checked while parsing, whatever the attributes); the cost depends
on what the attributes map to (``E0000031``, checked by ``compile_filter`` before any SQL is built).
Measured on SQLite over 50,000 events, one ``co`` comparison costs about 2.5 ms on ``eventType``, 20 ms on
``actor.alternateId`` and 250 ms on ``target.displayName``: the cap bounds how many times one request
multiplies that (the statement timeout bounds the rest).
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, TypeAlias, cast

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from sqlalchemy import Column, ColumnElement, and_, not_, or_

from registrar.errors import InvalidFilter, InvalidSearchCriteria

__all__ = [
    "ALL_OPS",
    "COMPARE_OPS",
    "MAX_FILTER_COMPARISONS",
    "MAX_FILTER_COST",
    "MAX_FILTER_DEPTH",
    "MAX_FILTER_LENGTH",
    "MAX_PATH_SEGMENTS",
    "And",
    "Compare",
    "Expr",
    "Field",
    "Not",
    "Or",
    "Present",
    "attributes",
    "compare_column",
    "compile_filter",
    "format_filter",
    "parse_filter",
]

COMPARE_OPS = frozenset({"eq", "ne", "gt", "ge", "lt", "le", "sw", "ew", "co"})
ALL_OPS = COMPARE_OPS | {"pr"}
MAX_FILTER_LENGTH = 4096
# Nesting of parentheses (``not`` included). And/or chains are walked iteratively, so only parentheses
# make the recursive walkers (and SQLAlchemy's compiler) go deeper; this keeps them far from the limit.
MAX_FILTER_DEPTH = 32
# Far below PostgreSQL's 100-argument limit on functions (jsonb_extract_path_text takes one per segment).
MAX_PATH_SEGMENTS = 10
MAX_FILTER_COMPARISONS = 100
MAX_FILTER_COST = 100
_COLUMN_COST, _COMPUTED_COST, _SUBSTRING_FACTOR = 1, 5, 2

_STRING_OPS = frozenset({"sw", "ew", "co"})
_ORDER_OPS = frozenset({"gt", "ge", "lt", "le"})
# Okta's own message lists exactly these, even though ne and ew are accepted too; keep it verbatim.
_OKTA_OPERATORS = "eq,co,sw,pr,gt,ge,lt,le"
_VALUES = "string,number,true,false,null"
_ATTR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*")
# The offending lexeme quoted in error messages: a (possibly unterminated) string, or a run up to a delimiter.
_WORD_RE = re.compile(r'"(?:[^"\\]|\\.)*"?|[^\s()"]+')
_INT64 = range(-(2**63), 2**63)

# Keywords end where a path character could not continue them, so ``order`` is a path, not ``or`` + ``der``.
# ``not`` is a keyword only when a parenthesis follows: that leaves ``not`` usable as an attribute path.
_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: atom (_AND atom)*
?atom: compare
     | present
     | LPAR or_expr _RPAR        -> group
     | _NOT LPAR or_expr _RPAR   -> negation
compare: ATTR COMPOP (STRING | NUMBER | TRUE | FALSE | NULL)
present: ATTR _PR

ATTR: /[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*/
COMPOP: /(?:eq|ne|gt|ge|lt|le|sw|ew|co)(?![A-Za-z0-9_.-])/i
_PR: /pr(?![A-Za-z0-9_.-])/i
_AND: /and(?![A-Za-z0-9_.-])/i
_OR: /or(?![A-Za-z0-9_.-])/i
_NOT.2: /not(?=[ \t]*\()/i
LPAR: "("
_RPAR: ")"
STRING: /"(?:[^"\\\x00-\x1f]|\\["\\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/
NUMBER: /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![A-Za-z0-9_.-])/
TRUE: /true(?![A-Za-z0-9_.-])/i
FALSE: /false(?![A-Za-z0-9_.-])/i
NULL: /null(?![A-Za-z0-9_.-])/i

%ignore /[ \t]+/
"""

Value: TypeAlias = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Compare:
    """``attr op value``, ``op`` one of ``COMPARE_OPS``."""

    attr: str  # a dotted LogEvent path, as written
    op: str
    value: Value


@dataclass(frozen=True, slots=True)
class Present:
    attr: str


@dataclass(frozen=True, slots=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Or:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Not:
    expr: Expr


Expr: TypeAlias = Compare | Present | And | Or | Not


@dataclass(frozen=True)
class Field:
    """How one filter attribute maps to SQL: its column (or a callable building it), ops and value kind.

    ``computed`` says whether the value is worked out per row (a JSON function, a sub-select) rather than
    read from a table column; ``None`` infers it: only a plain ``Column`` without a ``predicate`` is not.
    """

    column: Callable[[], ColumnElement[Any]] | ColumnElement[Any]
    ops: frozenset[str] = ALL_OPS
    kind: Literal["string", "number", "boolean"] = "string"
    predicate: Callable[[str, Value], ColumnElement[bool]] | None = None
    computed: bool | None = None

    @property
    def is_computed(self) -> bool:
        """Whether matching this attribute costs a computation per row scanned (see the module's caps)."""
        if self.computed is not None:
            return self.computed
        return self.predicate is not None or not isinstance(self.column, Column)

    def cost(self, op: str) -> int:
        """What one comparison ``op`` on this attribute counts towards ``MAX_FILTER_COST``."""
        unit = _COMPUTED_COST if self.is_computed else _COLUMN_COST
        return unit * _SUBSTRING_FACTOR if op in _STRING_OPS else unit


# --- parsing -------------------------------------------------------------------------------------------


class _SyntaxProblemError(Exception):
    """Raised from the parse callbacks; ``parse_filter`` turns it into Okta's message frame."""

    def __init__(self, what: str, pos: int, expected: str, cause: str | None = None):
        super().__init__(what)
        self.what, self.pos, self.expected, self.cause = what, pos, expected, cause


class _Node(NamedTuple):
    expr: Expr
    depth: int
    comparisons: int


_KEYWORD_VALUES: dict[str, Value] = {"TRUE": True, "FALSE": False, "NULL": None}


def _value(token: Token) -> Value:
    if token.type == "STRING":
        text: str = json.loads(token)
        if "\x00" in text:
            # No database stores NUL in text (PostgreSQL refuses it): such a value can match nothing.
            raise _SyntaxProblemError("Invalid string (NUL character)", token.start_pos or 0, "string")
        if not _encodable(text):
            # "\ud800" alone is valid JSON but no character: it cannot be sent to the database as UTF-8.
            raise _SyntaxProblemError(
                "Invalid string (unpaired surrogate escape)", token.start_pos or 0, "string of characters"
            )
        return text
    if token.type == "NUMBER":
        if not any(c in token for c in ".eE"):
            return int(token)
        number = float(token)
        if not math.isfinite(number):  # 1e999 would format as "inf", which is not a filter value
            raise _SyntaxProblemError(f"Number out of range '{token}'", token.start_pos or 0, "finite number")
        return number
    return _KEYWORD_VALUES[token.type]


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _attr(token: Token) -> str:
    if token.count(".") >= MAX_PATH_SEGMENTS:
        raise _SyntaxProblemError(
            "Attribute path too long",
            token.start_pos or 0,
            f"at most {MAX_PATH_SEGMENTS} path segments",
            f"An attribute path has at most {MAX_PATH_SEGMENTS} dot-separated segments; "
            f"this one has {token.count('.') + 1}.",
        )
    return str(token)


def _fold(kind: type[And] | type[Or], nodes: list[_Node]) -> _Node:
    expr = nodes[0].expr
    for node in nodes[1:]:
        expr = kind(expr, node.expr)  # left-deep, which is what format_filter writes without parentheses
    return _Node(expr, max(node.depth for node in nodes), sum(node.comparisons for node in nodes))


def _nest(expr: Expr, inner: _Node, lpar: Token) -> _Node:
    depth = inner.depth + 1
    if depth > MAX_FILTER_DEPTH:
        raise _SyntaxProblemError(
            "Parentheses nested too deeply",
            lpar.start_pos or 0,
            f"at most {MAX_FILTER_DEPTH} levels",
            f"A filter nests parentheses at most {MAX_FILTER_DEPTH} levels deep.",
        )
    return _Node(expr, depth, inner.comparisons)


class _ToAst(Transformer[Token, _Node]):
    # Applied inline by the LALR parser as it reduces, so building the AST never recurses.
    def compare(self, children: list[Token]) -> _Node:
        attr, op, value = children
        return _Node(Compare(_attr(attr), op.lower(), _value(value)), 0, 1)

    def present(self, children: list[Token]) -> _Node:
        return _Node(Present(_attr(children[0])), 0, 1)

    def and_expr(self, children: list[_Node]) -> _Node:
        return _fold(And, children)

    def or_expr(self, children: list[_Node]) -> _Node:
        return _fold(Or, children)

    def group(self, children: tuple[Token, _Node]) -> _Node:
        lpar, inner = children
        return _nest(inner.expr, inner, lpar)

    def negation(self, children: tuple[Token, _Node]) -> _Node:
        lpar, inner = children
        return _nest(Not(inner.expr), inner, lpar)


_PARSER = Lark(_GRAMMAR, parser="lalr", lexer="contextual", transformer=_ToAst())


def _word(text: str, pos: int) -> str:
    found = _WORD_RE.match(text, pos)
    return found.group() if found else text[pos : pos + 1]


def _open_parens(prefix: str) -> int:
    # The parser's expected sets are LALR-merged (")" shows up at top level too), so count for ourselves.
    try:
        types = [token.type for token in _PARSER.lex(prefix)]
    except LarkError:
        return 0
    return types.count("LPAR") - types.count("_RPAR")


def _explain(exc: UnexpectedInput, text: str) -> tuple[str, int, str]:
    """What went wrong, where, and what was expected, for the ``UnexpectedInput`` lark raised."""
    at_end = isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    pos = len(text) if at_end or exc.pos_in_stream is None else exc.pos_in_stream
    if isinstance(exc, UnexpectedToken):
        expected = set(exc.accepts or exc.expected)
    elif isinstance(exc, UnexpectedCharacters):
        expected = set(exc.allowed or ())
    else:
        expected = set(getattr(exc, "expected", ()) or ())
    what, pos, wanted = _classify(text, pos, at_end, expected)
    if pos < len(text) and not text[pos].isprintable():  # newlines and control characters: say which
        what = f"Unrecognized character U+{ord(text[pos]):04X}"
    return what, pos, wanted


def _classify(text: str, pos: int, at_end: bool, expected: set[str]) -> tuple[str, int, str]:
    word = _word(text, pos)
    if "COMPOP" in expected:
        if re.search(r"(?:^|[ \t(])not[ \t]*\Z", text[:pos], re.IGNORECASE):
            return "Missing '(' after not", pos, "("
        what = "Missing attribute operator" if at_end else f"Unrecognized attribute operator '{word}'"
        return what, pos, _OKTA_OPERATORS
    if "STRING" in expected:
        if at_end:
            return "Missing value", pos, _VALUES
        if word.startswith('"'):
            if len(word) < 2 or not word.endswith('"'):
                return "Unterminated string", pos, 'closing "'
            return f"Invalid string {word}", pos, "JSON string escapes"
        return f"Invalid value '{word}'", pos, _VALUES
    if "ATTR" in expected:
        if not text.strip(" \t"):
            return "Empty filter", 0, "attribute"
        return ("Missing expression" if at_end else f"Invalid attribute '{word}'"), pos, "attribute,not,("
    if expected and expected <= {"_AND", "_OR", "_RPAR", "$END"}:
        inside = _open_parens(text[:pos]) > 0
        logical = "and,or,)" if inside else "and,or"
        if at_end:
            return "Missing closing parenthesis", pos, ")"
        if word == ")":
            return "Unbalanced parenthesis ')'", pos, logical
        return f"Unrecognized logical operator '{word}'", pos, logical
    return ("Unexpected end of filter" if at_end else f"Unexpected '{word}'"), pos, ",".join(sorted(expected))


def _invalid(text: str, what: str, pos: int | None, expected: str, cause: str | None = None) -> InvalidFilter:
    shown = text if len(text) <= 200 else text[:200] + "..."
    where = "" if pos is None else f" at position {pos}"
    return InvalidFilter(
        f"Invalid filter '{shown}': {what}{where}. Expected: {expected}", [cause] if cause else ()
    )


def parse_filter(text: str) -> Expr:
    """Parse an Okta/SCIM filter into an AST, raising ``InvalidFilter`` for anything malformed or too big."""
    if len(text) > MAX_FILTER_LENGTH:
        raise _invalid(
            text,
            "Filter too long",
            MAX_FILTER_LENGTH,
            f"at most {MAX_FILTER_LENGTH} characters",
            f"A filter has at most {MAX_FILTER_LENGTH} characters; this one has {len(text)}.",
        )
    try:
        node = cast(_Node, _PARSER.parse(text))  # the inline transformer returns its own values
    except _SyntaxProblemError as exc:
        raise _invalid(text, exc.what, exc.pos, exc.expected, exc.cause) from None
    except UnexpectedInput as exc:
        raise _invalid(text, *_explain(exc, text)) from None
    except (LarkError, ValueError, RecursionError) as exc:  # belt and braces: no library error escapes
        raise _invalid(text, f"Unparsable filter ({type(exc).__name__})", 0, "attribute") from None
    if node.comparisons > MAX_FILTER_COMPARISONS:
        raise _invalid(
            text,
            f"Too many comparisons ({node.comparisons})",
            None,
            f"at most {MAX_FILTER_COMPARISONS} comparisons",
            f"A filter holds at most {MAX_FILTER_COMPARISONS} comparisons (attr op value, attr pr); "
            f"this one holds {node.comparisons}.",
        )
    return node.expr


# --- formatting ----------------------------------------------------------------------------------------


def _chain(expr: Expr, kind: type[And] | type[Or]) -> list[Expr]:
    """The operands of a left-deep ``kind`` chain, left to right, found without recursion."""
    rights: list[Expr] = []
    while isinstance(expr, kind):
        rights.append(expr.right)
        expr = expr.left
    return [expr, *reversed(rights)]


def _format_value(value: Value) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"filter numbers must be finite, not {value!r}")
        return repr(value)  # shortest text that reads back as the same float
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise ValueError(f"not a filter value: {value!r}")


def _format_attr(attr: str) -> str:
    if not _ATTR_RE.fullmatch(attr):
        raise ValueError(f"not a filter attribute path: {attr!r}")
    return attr


def _format(expr: Expr) -> str:
    if isinstance(expr, Compare):
        if expr.op not in COMPARE_OPS:
            raise ValueError(f"not a comparison operator: {expr.op!r}")
        return f"{_format_attr(expr.attr)} {expr.op} {_format_value(expr.value)}"
    if isinstance(expr, Present):
        return f"{_format_attr(expr.attr)} pr"
    if isinstance(expr, Not):
        return f"not ({_format(expr.expr)})"
    # Parsing folds chains to the left and ``and`` binds tighter than ``or``; parenthesise the rest.
    if isinstance(expr, And):
        first, *rest = _chain(expr, And)
        parts = [_format(first) if not isinstance(first, Or) else f"({_format(first)})"]
        parts += [f"({_format(e)})" if isinstance(e, And | Or) else _format(e) for e in rest]
        return " and ".join(parts)
    first, *rest = _chain(expr, Or)
    parts = [_format(first)] + [f"({_format(e)})" if isinstance(e, Or) else _format(e) for e in rest]
    return " or ".join(parts)


def format_filter(expr: Expr) -> str:
    """Canonical text of ``expr``, which parses back to ``expr``; ValueError if ``expr`` cannot be written."""
    return _format(expr)


def attributes(expr: Expr) -> list[str]:
    """The attribute paths ``expr`` uses, each once, in order of first appearance."""
    return list(dict.fromkeys(leaf.attr for leaf in _leaves(expr)))


def _leaves(expr: Expr) -> list[Compare | Present]:
    """The comparisons of ``expr``, left to right, found without recursion."""
    found: list[Compare | Present] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Compare | Present):
            found.append(node)
        elif isinstance(node, Not):
            stack.append(node.expr)
        else:
            stack += [node.right, node.left]  # left is popped first
    return found


# --- SQL -----------------------------------------------------------------------------------------------


# SQL three-valued logic, as SCIM intends: ``ne "x"`` matches non-null values other than "x", never NULL;
# likewise ``not (a eq "x")`` leaves out rows where ``a`` is NULL. autoescape makes "%" and "_" in a
# sw/ew/co value literal; whether LIKE is case-sensitive is left to the backend.
_SQL_OPS: dict[str, Callable[[ColumnElement[Any], Any], ColumnElement[bool]]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
    "sw": lambda column, value: column.startswith(value, autoescape=True),
    "ew": lambda column, value: column.endswith(value, autoescape=True),
    "co": lambda column, value: column.contains(value, autoescape=True),
}


def _check_value(attr: str, op: str, value: Value, kind: str) -> None:
    if value is None:
        if op not in {"eq", "ne"}:
            raise InvalidFilter(f"Invalid filter value for {attr}: null can only be used with eq or ne")
        return
    if kind == "string":
        fits = isinstance(value, str)
    elif kind == "number":
        fits = isinstance(value, int | float) and not isinstance(value, bool)
        if fits and isinstance(value, int) and value not in _INT64:
            raise InvalidFilter(f"Invalid filter value for {attr}: number out of range")
    else:
        fits = isinstance(value, bool)
    if not fits:
        raise InvalidFilter(f"Invalid filter value for {attr}: expected a {kind}, got {_format_value(value)}")


def _compile_leaf(expr: Compare | Present, fields: Mapping[str, Field]) -> ColumnElement[bool]:
    field = fields.get(expr.attr)
    if field is None:
        raise InvalidFilter(f"field is not valid: {expr.attr}")
    op, value = ("pr", None) if isinstance(expr, Present) else (expr.op, expr.value)
    ops = field.ops
    # LIKE only means something on text, and ordering booleans means nothing, whatever ``ops`` says.
    if field.kind != "string":
        ops = ops - _STRING_OPS
    if field.kind == "boolean":
        ops = ops - _ORDER_OPS
    if op not in ops or (isinstance(expr, Compare) and op == "pr"):
        raise InvalidSearchCriteria(
            "The supplied combination of operator and field is not currently supported. "
            f"Operator: {op}, Field: {expr.attr}"
        )
    if op != "pr":
        _check_value(expr.attr, op, value, field.kind)
    if field.predicate is not None:
        return field.predicate(op, value)
    column = field.column if isinstance(field.column, ColumnElement) else field.column()
    return compare_column(column, op, value)


def compare_column(column: ColumnElement[Any], op: str, value: Value) -> ColumnElement[bool]:
    """``column op value`` in SQL (``pr`` ignores value); also the building block of ``Field.predicate``."""
    if op == "pr" or (op == "ne" and value is None):
        return column.is_not(None)
    if op == "eq" and value is None:
        return column.is_(None)
    compare = _SQL_OPS.get(op)
    if compare is None or value is None:
        raise ValueError(f"cannot compare a column with {op!r} {value!r}")
    return compare(column, value)


def _check_cost(expr: Expr, fields: Mapping[str, Field]) -> None:
    """Refuse ``expr`` when its comparisons cost more than ``MAX_FILTER_COST`` (unknown fields cost 0 here:
    compiling them fails anyway)."""
    cost = 0
    for leaf in _leaves(expr):
        field = fields.get(leaf.attr)
        if field is not None:
            cost += field.cost(leaf.op if isinstance(leaf, Compare) else "pr")
    if cost > MAX_FILTER_COST:
        raise InvalidSearchCriteria(
            f"The filter is too costly: it costs {cost}, and at most {MAX_FILTER_COST} is allowed.",
            [
                f"A filter costs at most {MAX_FILTER_COST}; this one costs {cost}. Each comparison costs "
                f"{_COLUMN_COST}, or {_COMPUTED_COST} on an attribute that is read from the stored event or "
                f"through a sub-select; co, sw and ew cost {_SUBSTRING_FACTOR} times that."
            ],
        )


def compile_filter(expr: Expr, fields: Mapping[str, Field]) -> ColumnElement[bool]:
    """SQL boolean expression for ``expr``, with attribute paths resolved through ``fields``.

    A filter over the cost cap (``MAX_FILTER_COST``) is refused before any SQL is built.
    """
    _check_cost(expr, fields)
    return _compile(expr, fields)


def _compile(expr: Expr, fields: Mapping[str, Field]) -> ColumnElement[bool]:
    if isinstance(expr, Compare | Present):
        return _compile_leaf(expr, fields)
    if isinstance(expr, Not):
        return not_(_compile(expr.expr, fields))
    # Flat AND/OR lists rather than one nesting per operand: long chains stay shallow for the compiler.
    combine = and_ if isinstance(expr, And) else or_
    first, *rest = (_compile(e, fields) for e in _chain(expr, type(expr)))
    return combine(first, *rest)
