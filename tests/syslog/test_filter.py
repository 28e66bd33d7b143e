"""Tests of registrar.syslog.filter: parsing, error messages, formatting and compilation to SQL."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    exists,
    select,
)

from registrar.errors import InvalidFilter, InvalidSearchCriteria
from registrar.syslog.filter import (
    ALL_OPS,
    COMPARE_OPS,
    MAX_FILTER_COMPARISONS,
    MAX_FILTER_DEPTH,
    MAX_FILTER_LENGTH,
    And,
    Compare,
    Expr,
    Field,
    Not,
    Or,
    Present,
    attributes,
    compare_column,
    compile_filter,
    format_filter,
    parse_filter,
)

# --- parsing -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", sorted(COMPARE_OPS))
def test_each_comparison_operator(op: str) -> None:
    assert parse_filter(f'eventType {op} "x"') == Compare("eventType", op, "x")
    assert parse_filter(f'eventType {op.upper()} "x"') == Compare("eventType", op, "x")


def test_presence() -> None:
    assert parse_filter("actor.id pr") == Present("actor.id")
    assert parse_filter("actor.id PR") == Present("actor.id")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"Create okta user"', "Create okta user"),
        (r'"say \"hi\" \\ \/ \u00e9\t"', 'say "hi" \\ / \u00e9\t'),
        ('"été ✓"', "été ✓"),
        ('""', ""),
        ("42", 42),
        ("-7", -7),
        ("0", 0),
        ("1.5", 1.5),
        ("-2.5e3", -2500.0),
        ("1E-2", 0.01),
        ("true", True),
        ("TRUE", True),
        ("False", False),
        ("null", None),
        ("NULL", None),
    ],
)
def test_value_kinds(text: str, value: object) -> None:
    parsed = parse_filter(f"a eq {text}")
    assert isinstance(parsed, Compare)
    assert parsed.value == value
    assert type(parsed.value) is type(value)  # 1 == True == 1.0, so check the type too


def test_attribute_paths() -> None:
    for path in ["eventType", "target.id", "debugContext.debugData.requestUri", "event_type", "x-y.z_1"]:
        assert parse_filter(f"{path} pr") == Present(path)


def test_attribute_names_are_case_sensitive() -> None:
    assert parse_filter('eventType eq "x"') != parse_filter('eventtype eq "x"')
    assert attributes(parse_filter('EventType eq "x"')) == ["EventType"]


def test_keywords_are_not_reserved_as_attribute_names() -> None:
    assert parse_filter("and eq 1") == Compare("and", "eq", 1)
    assert parse_filter("not eq 1") == Compare("not", "eq", 1)
    assert parse_filter("notes pr and order pr") == And(Present("notes"), Present("order"))
    assert parse_filter("eq eq true") == Compare("eq", "eq", True)


def test_and_binds_tighter_than_or() -> None:
    a, b, c = Compare("a", "eq", 1), Compare("b", "eq", 2), Compare("c", "eq", 3)
    assert parse_filter("a eq 1 or b eq 2 and c eq 3") == Or(a, And(b, c))
    assert parse_filter("a eq 1 and b eq 2 or c eq 3") == Or(And(a, b), c)
    assert parse_filter("(a eq 1 or b eq 2) and c eq 3") == And(Or(a, b), c)


def test_chains_fold_left() -> None:
    a, b, c = Present("a"), Present("b"), Present("c")
    assert parse_filter("a pr and b pr and c pr") == And(And(a, b), c)
    assert parse_filter("a pr or b pr or c pr") == Or(Or(a, b), c)


def test_case_insensitive_keywords() -> None:
    expected = Or(And(Compare("a", "eq", 1), Present("b")), Not(Compare("c", "ne", "x")))
    assert parse_filter('a EQ 1 AnD b Pr OR NoT (c nE "x")') == expected
    assert parse_filter('a eq 1 and b pr or not(c ne "x")') == expected


def test_not_and_nested_parentheses() -> None:
    assert parse_filter('not (a eq "b")') == Not(Compare("a", "eq", "b"))
    assert parse_filter("not (not (a pr))") == Not(Not(Present("a")))
    assert parse_filter("((((a pr))))") == Present("a")
    assert parse_filter("(a pr and (b pr or (c pr)))") == And(Present("a"), Or(Present("b"), Present("c")))


def test_whitespace() -> None:
    assert parse_filter(" \t a \t eq\t\t1  ") == Compare("a", "eq", 1)
    assert parse_filter("( a pr )") == Present("a")


def test_okta_error_message_verbatim() -> None:
    text = 'display_message eqq "Create okta user"'
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(text)
    assert caught.value.summary == (
        "Invalid filter 'display_message eqq \"Create okta user\"': Unrecognized attribute operator 'eqq' "
        "at position 16. Expected: eq,co,sw,pr,gt,ge,lt,le"
    )
    assert caught.value.status == 400
    assert caught.value.code == "E0000053"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Empty filter at position 0. Expected: attribute"),
        ("  ", "Empty filter at position 0. Expected: attribute"),
        ("a", "Missing attribute operator at position 1. Expected: eq,co,sw,pr,gt,ge,lt,le"),
        ("a eq", "Missing value at position 4. Expected: string,number,true,false,null"),
        ('a eq "abc', 'Unterminated string at position 5. Expected: closing "'),
        (r'a eq "a\x"', r'Invalid string "a\x" at position 5. Expected: JSON string escapes'),
        ("a eq abc", "Invalid value 'abc' at position 5. Expected: string,number,true,false,null"),
        ("a eq 1.", "Invalid value '1.' at position 5. Expected: string,number,true,false,null"),
        ("a eq 1e999", "Number out of range '1e999' at position 5. Expected: finite number"),
        ("a pr xor b pr", "Unrecognized logical operator 'xor' at position 5. Expected: and,or"),
        ("(a pr xor b pr)", "Unrecognized logical operator 'xor' at position 6. Expected: and,or,)"),
        ("(a pr", "Missing closing parenthesis at position 5. Expected: )"),
        ("((a pr) and b pr", "Missing closing parenthesis at position 16. Expected: )"),
        ("a pr)", "Unbalanced parenthesis ')' at position 4. Expected: and,or"),
        ('(a eq ")") )', "Unbalanced parenthesis ')' at position 11. Expected: and,or"),
        ("a pr and", "Missing expression at position 8. Expected: attribute,not,("),
        ("a pr and 5 eq 1", "Invalid attribute '5' at position 9. Expected: attribute,not,("),
        ("()", "Invalid attribute ')' at position 1. Expected: attribute,not,("),
        ("not a eq 1", "Missing '(' after not at position 4. Expected: ("),
        ("a\neq 1", "Unrecognized character U+000A at position 1. Expected: eq,co,sw,pr,gt,ge,lt,le"),
        ("a eq [1]", "Invalid value '[1]' at position 5. Expected: string,number,true,false,null"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(text)
    assert caught.value.summary == f"Invalid filter '{text}': {message}"


def test_length_and_depth_caps() -> None:
    with pytest.raises(InvalidFilter, match="Filter too long at position 4096"):
        parse_filter("a pr and " * 500 + "a pr")
    deep = "(" * MAX_FILTER_DEPTH + "a pr" + ")" * MAX_FILTER_DEPTH
    assert parse_filter(deep) == Present("a")
    with pytest.raises(InvalidFilter, match="Parentheses nested too deeply"):
        parse_filter("(" + deep + ")")
    with pytest.raises(InvalidFilter, match="Missing closing parenthesis"):
        parse_filter("(" * (MAX_FILTER_LENGTH - 10) + "a pr")


def test_longest_chain_formats_and_compiles() -> None:
    text = " and ".join(["a pr"] * MAX_FILTER_COMPARISONS)  # the comparison cap comes before the length cap
    expr = parse_filter(text)
    assert format_filter(expr) == text
    assert str(compile_filter(expr, {"a": Field(Column("a", String))})).count("AND") == text.count("and")


# --- formatting ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ('eventType EQ "x"', 'eventType eq "x"'),
        ("a eq 1 OR (b pr AND c eq 2.5)", "a eq 1 or b pr and c eq 2.5"),
        ("(a pr or b pr) and c pr", "(a pr or b pr) and c pr"),
        ("a pr and (b pr and c pr)", "a pr and (b pr and c pr)"),
        ("a pr or (b pr or c pr)", "a pr or (b pr or c pr)"),
        ("not(a pr)", "not (a pr)"),
        (r'a eq "\u00e9\"\n"', r'a eq "é\"\n"'),
        ("a eq TRUE or b eq Null", "a eq true or b eq null"),
        ("a eq 1e2", "a eq 100.0"),
    ],
)
def test_format_canonical(text: str, canonical: str) -> None:
    assert format_filter(parse_filter(text)) == canonical
    assert parse_filter(canonical) == parse_filter(text)


@pytest.mark.parametrize(
    "expr",
    [
        Compare("a b", "eq", 1),
        Compare("a", "EQ", 1),
        Compare("a", "pr", None),
        Compare("a", "eq", float("inf")),
        Compare("a", "eq", [1]),  # type: ignore[arg-type]
    ],
)
def test_format_rejects_unwritable_ast(expr: Expr) -> None:
    with pytest.raises(ValueError, match=r"not|finite"):
        format_filter(expr)


def test_attributes_in_order_of_first_appearance() -> None:
    expr = parse_filter('b pr and (a eq 1 or not (c.d sw "x")) and b eq 2 or a pr')
    assert attributes(expr) == ["b", "a", "c.d"]


# --- compile_filter against SQLite ---------------------------------------------------------------------

metadata = MetaData()
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String),
    Column("count", Integer),
    Column("score", Float),
    Column("active", Boolean),
)
tags = Table(
    "tags", metadata, Column("event_id", ForeignKey("events.id")), Column("tag", String, nullable=False)
)
ROWS: list[dict[str, Any]] = [
    {"id": 1, "name": "alice", "count": 1, "score": 0.5, "active": True},
    {"id": 2, "name": "100% sure", "count": 2, "score": 1.5, "active": False},
    {"id": 3, "name": "a_b", "count": None, "score": None, "active": None},
    {"id": 4, "name": "axb", "count": 10, "score": -1.0, "active": True},
    {"id": 5, "name": None, "count": 3, "score": 2.0, "active": False},
    {"id": 6, "name": "Alice/x", "count": 0, "score": 0.0, "active": True},
]
TAGS = [{"event_id": 1, "tag": "red"}, {"event_id": 1, "tag": "blue"}, {"event_id": 4, "tag": "blue"}]


def _any_tag(op: str, value: str | int | float | bool | None) -> ColumnElement[bool]:
    return exists().where(tags.c.event_id == events.c.id, compare_column(tags.c.tag, op, value))


FIELDS = {
    "name": Field(lambda: events.c.name),
    "displayName": Field(events.c.name, ops=frozenset({"eq", "sw"})),
    "count": Field(events.c["count"], kind="number"),
    "score": Field(events.c.score, kind="number"),
    "active": Field(events.c.active, kind="boolean"),
    "tag": Field(tags.c.tag, ops=frozenset({"eq", "sw", "co"}), predicate=_any_tag),
}


@pytest.fixture(scope="module")
def db() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA case_sensitive_like = ON")  # as PostgreSQL's LIKE
        metadata.create_all(conn)
        conn.execute(events.insert(), ROWS)
        conn.execute(tags.insert(), TAGS)
        yield conn
    engine.dispose()


def select_ids(db: Connection, text: str) -> list[int]:
    query = select(events.c.id).where(compile_filter(parse_filter(text), FIELDS)).order_by(events.c.id)
    return list(db.scalars(query))


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ('name eq "alice"', [1]),
        ('name ne "alice"', [2, 3, 4, 6]),  # NULL names match neither eq nor ne
        ("name eq null", [5]),
        ("name ne null", [1, 2, 3, 4, 6]),
        ("name pr", [1, 2, 3, 4, 6]),
        ('name sw "a"', [1, 3, 4]),
        ('name sw "a_"', [3]),  # "_" is literal, not LIKE's any-character
        ('name co "%"', [2]),
        ('name co "0% s"', [2]),
        ('name ew "/x"', [6]),
        ('name co "_"', [3]),
        ('name gt "b"', []),
        ('name lt "a"', [2, 6]),
        ('displayName eq "axb"', [4]),
        ("count gt 2", [4, 5]),
        ("count ge 2 and count le 3", [2, 5]),
        ("count lt 1.5", [1, 6]),
        ("score eq 0", [6]),
        ("score ge -1", [1, 2, 4, 5, 6]),
        ("active eq true", [1, 4, 6]),
        ("active eq false", [2, 5]),
        ("active ne true", [2, 5]),
        ("active eq null", [3]),
        ("count pr and not (count eq 1)", [2, 4, 5, 6]),
        ('not (name eq "alice")', [2, 3, 4, 6]),
        ('name eq "alice" or count eq 10 and active eq true', [1, 4]),
        ('(name eq "alice" or count eq 10) and score lt 0', [4]),
        ('tag eq "blue"', [1, 4]),
        ('tag sw "r" or count eq 0', [1, 6]),
        ('not (tag co "e")', [2, 3, 5, 6]),
    ],
)
def test_compile_selects_rows(db: Connection, text: str, ids: list[int]) -> None:
    assert select_ids(db, text) == ids


def test_unknown_field(db: Connection) -> None:
    with pytest.raises(InvalidFilter) as caught:
        select_ids(db, 'name eq "x" and eventtype eq "y"')
    assert caught.value.summary == "field is not valid: eventtype"
    with pytest.raises(InvalidFilter, match="field is not valid: Name"):
        select_ids(db, "Name pr")  # attribute names are case-sensitive


@pytest.mark.parametrize(
    ("text", "op", "attr"),
    [
        ('displayName co "x"', "co", "displayName"),
        ("displayName pr", "pr", "displayName"),
        ('tag ne "x"', "ne", "tag"),
        ("count sw 1", "sw", "count"),  # LIKE is for strings only, whatever ops says
        ("active gt false", "gt", "active"),  # booleans have no order
    ],
)
def test_unsupported_operator(db: Connection, text: str, op: str, attr: str) -> None:
    with pytest.raises(InvalidSearchCriteria) as caught:
        select_ids(db, text)
    assert caught.value.summary == (
        "The supplied combination of operator and field is not currently supported. "
        f"Operator: {op}, Field: {attr}"
    )
    assert caught.value.code == "E0000031"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name eq 1", "Invalid filter value for name: expected a string, got 1"),
        ('count eq "1"', 'Invalid filter value for count: expected a number, got "1"'),
        ("count eq true", "Invalid filter value for count: expected a number, got true"),
        ("active eq 1", "Invalid filter value for active: expected a boolean, got 1"),
        ("count gt null", "Invalid filter value for count: null can only be used with eq or ne"),
        ("name sw null", "Invalid filter value for name: null can only be used with eq or ne"),
        ("count eq 9223372036854775808", "Invalid filter value for count: number out of range"),
    ],
)
def test_value_must_fit_field_kind(text: str, message: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        compile_filter(parse_filter(text), FIELDS)
    assert caught.value.summary == message


def test_hand_built_pr_comparison_is_rejected() -> None:
    with pytest.raises(InvalidSearchCriteria):
        compile_filter(Compare("name", "pr", None), FIELDS)


def test_all_ops_constant() -> None:
    assert COMPARE_OPS | {"pr"} == ALL_OPS
    assert Field(events.c.name).ops == ALL_OPS


# --- properties ----------------------------------------------------------------------------------------

FILTER_TOKENS = ['"x', '"', "(", ")", " ", "\t", "\\", "a", "b.c", "eq", "ne", "sw", "pr", "and", "or", "not"]
FILTER_TOKENS += ["1", "-", ".", "null"]


def _outcome(text: str) -> Expr | InvalidFilter:
    try:
        return parse_filter(text)
    except InvalidFilter as exc:
        return exc


@given(st.text())
def test_arbitrary_text_raises_only_invalid_filter(text: str) -> None:
    outcome = _outcome(text)  # anything but InvalidFilter propagates and fails the test
    if isinstance(outcome, InvalidFilter):
        assert outcome.summary.startswith("Invalid filter ")


@given(st.lists(st.sampled_from(FILTER_TOKENS), max_size=20).map("".join))
def test_token_soup_raises_only_invalid_filter(text: str) -> None:
    outcome = _outcome(text)
    if isinstance(outcome, InvalidFilter):
        assert " at position " in outcome.summary
    else:
        assert parse_filter(format_filter(outcome)) == outcome


paths = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,5}(\.[A-Za-z_][A-Za-z0-9_-]{0,5}){0,2}", fullmatch=True)
values = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    # NUL and unpaired surrogates are refused by parse_filter (no database can store them).
    | st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
)
leaves = st.builds(Compare, paths, st.sampled_from(sorted(COMPARE_OPS)), values) | st.builds(Present, paths)
exprs = st.recursive(
    leaves,
    lambda sub: st.builds(And, sub, sub) | st.builds(Or, sub, sub) | st.builds(Not, sub),
    max_leaves=12,
)


def _same(a: object, b: object) -> bool:
    """Structural equality that also tells 1, 1.0 and True apart."""
    if isinstance(a, Compare) and isinstance(b, Compare):
        return a == b and type(a.value) is type(b.value)
    if type(a) is not type(b):
        return False
    if isinstance(a, Not) and isinstance(b, Not):
        return _same(a.expr, b.expr)
    if isinstance(a, And | Or) and isinstance(b, And | Or):
        return _same(a.left, b.left) and _same(a.right, b.right)
    return a == b


@given(exprs)
def test_random_ast_round_trips(expr: Expr) -> None:
    text = format_filter(expr)
    assert _same(parse_filter(text), expr)
    assert format_filter(parse_filter(text)) == text


PYTHON_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
    "sw": str.startswith,
    "ew": str.endswith,
    "co": operator.contains,
}


def _evaluate(expr: Expr, row: dict[str, Any]) -> bool | None:
    """SQL's three-valued logic in Python: None is UNKNOWN."""
    if isinstance(expr, Present):
        return row[expr.attr] is not None
    if isinstance(expr, Compare):
        have, want = row[expr.attr], expr.value
        if want is None:
            return (have is None) == (expr.op == "eq")
        if have is None:
            return None
        result: bool = PYTHON_OPS[expr.op](have, want)
        return result
    if isinstance(expr, Not):
        inner = _evaluate(expr.expr, row)
        return None if inner is None else not inner
    left, right = _evaluate(expr.left, row), _evaluate(expr.right, row)
    decisive = isinstance(expr, Or)  # True decides an or, False decides an and
    if decisive in (left, right):
        return decisive
    return None if None in (left, right) else not decisive


names = st.sampled_from(["alice", "a", "a_b", "%", "0% s", "/x", "Alice/x", "", "x"])
numbers = st.integers(-2, 11) | st.sampled_from([0.5, 1.5, -1.0])
sql_leaves = (
    st.builds(Compare, st.just("name"), st.sampled_from(sorted(COMPARE_OPS)), names)
    | st.builds(
        Compare, st.just("count") | st.just("score"), st.sampled_from(["eq", "ne", "gt", "lt"]), numbers
    )
    | st.builds(Compare, st.just("active"), st.sampled_from(["eq", "ne"]), st.booleans() | st.none())
    | st.builds(Compare, st.just("name"), st.sampled_from(["eq", "ne"]), st.none())
    | st.builds(Present, st.sampled_from(["name", "count", "active"]))
)
sql_exprs = st.recursive(
    sql_leaves,
    lambda sub: st.builds(And, sub, sub) | st.builds(Or, sub, sub) | st.builds(Not, sub),
    max_leaves=8,
)


@given(sql_exprs)
def test_sql_agrees_with_three_valued_logic(db: Connection, expr: Expr) -> None:
    query = select(events.c.id).where(compile_filter(expr, FIELDS)).order_by(events.c.id)
    assert list(db.scalars(query)) == [row["id"] for row in ROWS if _evaluate(expr, row) is True]
