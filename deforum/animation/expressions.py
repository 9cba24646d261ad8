"""The project's one safe expression evaluator: an `ast` whitelist checked before numexpr sees the text."""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import ModuleType
from typing import Literal

import numpy as np

from deforum.animation.variables import AUDIO_NAMES, MUSIC_NAMES
from deforum.models.errors import DeforumError

FRAME_NAMES: frozenset[str] = frozenset({"t", "max_f", "s"})
ALLOWED_NAMES: frozenset[str] = FRAME_NAMES | MUSIC_NAMES

_ARITY: Mapping[str, int] = {
    "sin": 1, "cos": 1, "tan": 1, "arcsin": 1, "arccos": 1, "arctan": 1, "arctan2": 2,
    "sinh": 1, "cosh": 1, "tanh": 1, "arcsinh": 1, "arccosh": 1, "arctanh": 1,
    "exp": 1, "expm1": 1, "log": 1, "log10": 1, "log1p": 1, "log2": 1, "sqrt": 1, "abs": 1,
    "floor": 1, "ceil": 1, "round": 1, "trunc": 1, "sign": 1, "fmod": 2, "minimum": 2, "maximum": 2,
    "where": 3,
}
ALLOWED_FUNCTIONS: frozenset[str] = frozenset(_ARITY)

MAX_EXPRESSION_LENGTH = 2000
MAX_NODES = 200
MAX_DEPTH = 100
MAX_INTEGER = 2**63 - 1

_BINARY_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
                     ast.BitAnd, ast.BitOr, ast.BitXor)
_UNARY_OPERATORS = (ast.USub, ast.UAdd, ast.Invert)
_COMPARISONS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
_OPERATOR_NODES = (ast.operator, ast.unaryop, ast.cmpop, ast.expr_context)
_REJECTED_HINTS: Mapping[type, tuple[str, str]] = {
    ast.Attribute: ("attribute access ('.') is not allowed", "use only numbers, names and functions"),
    ast.BoolOp: ("'and'/'or' are not allowed", "combine comparisons with & and |, e.g. (t>3)&(t<9)"),
    ast.IfExp: ("'if ... else' is not allowed", "use where(condition, value_if_true, value_if_false)"),
    ast.Lambda: ("lambda is not allowed", "write a plain formula"),
    ast.Subscript: ("indexing with [] is not allowed", "write a plain formula"),
}


class ExpressionError(DeforumError, ValueError):
    """An expression that is not allowed or cannot be evaluated; `position` is 1-based in the text."""

    def __init__(self, reason: str, *, position: int | None = None, fix: str = "",
                 variables: frozenset[str] = ALLOWED_NAMES) -> None:
        self.reason = reason.rstrip(".")
        self.position = position
        self.fix = fix or "write a formula such as 1 + 0.5*sin(t/10)"
        self.variables = variables
        where = f" at character {position}" if position is not None else ""
        super().__init__(f"{self.reason}{where}. {allowed_names_text(variables)} Fix: {self.fix}.")


def allowed_names_text(variables: frozenset[str]) -> str:
    """The sentence listing the names and functions an expression may use."""
    names = ", ".join(sorted(variables)) or "none"
    return f"Allowed names: {names}; functions: {', '.join(sorted(ALLOWED_FUNCTIONS))}."


def check_expression(text: str, variables: frozenset[str]) -> None:
    """Raise ExpressionError unless `text` uses only whitelisted names, functions, operators and numbers."""
    _checked_source(text, frozenset(variables))


def evaluate(text: str, variables: Mapping[str, float | np.ndarray]) -> np.ndarray | float:
    """Check `text` against the whitelist, then evaluate it with numexpr over the given variables."""
    names = frozenset(variables)
    source, used = _checked_source(text, names)
    local = {name: _as_array_value(variables[name]) for name in used}
    try:
        with np.errstate(all="ignore"):
            result = _evaluate_guarded(source, local)
    except Exception as exc:  # numexpr raises many types; each becomes one clear error
        raise ExpressionError(f"cannot evaluate {source!r}: {exc}", fix=_evaluation_fix(exc),
                              variables=names) from exc
    return result.item() if result.ndim == 0 else result


def _as_array_value(value: float | np.ndarray) -> float | np.ndarray:
    """Python ints become int64 scalars so numexpr's integer width never depends on the value."""
    return np.int64(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _evaluate_guarded(source: str, local: dict[str, object]) -> np.ndarray:
    """numexpr over `source`, with every % and // on variables computed apart so no integer division traps."""
    numexpr = _numexpr()
    if "%" not in source and "//" not in source:
        return numexpr.evaluate(source, local_dict=local, global_dict={})
    tree = ast.parse(source, mode="eval")
    lowered = _DivisionLowering(local).visit(tree)
    return numexpr.evaluate(ast.unparse(lowered), local_dict=local, global_dict={})


class _DivisionLowering(ast.NodeTransformer):
    """Replace each %, // and variable-exponent ** on variables by a precomputed, trap-free temporary."""

    def __init__(self, local: dict[str, object]) -> None:
        self.local = local

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        """Lower the operands first, then this node when it is an operation numexpr could trap on."""
        self.generic_visit(node)
        operator = _TRAPPING_OPERATORS.get(type(node.op))
        if operator is None or not _uses_a_name(node.right if operator == "**" else node):
            return node
        numexpr = _numexpr()
        left = numexpr.evaluate(ast.unparse(node.left), local_dict=self.local, global_dict={})
        right = numexpr.evaluate(ast.unparse(node.right), local_dict=self.local, global_dict={})
        name = f"_lowered{len(self.local)}"
        self.local[name] = integer_safe_operation(operator, left, right)
        return ast.Name(id=name, ctx=ast.Load())


_TRAPPING_OPERATORS: Mapping[type, Literal["%", "//", "**"]] = {ast.Mod: "%", ast.FloorDiv: "//", ast.Pow: "**"}


def _uses_a_name(node: ast.AST) -> bool:
    """Whether a subtree reads a variable (constant-only subtrees are computed by Python, exactly)."""
    return any(isinstance(child, ast.Name) for child in ast.walk(node))


def integer_safe_operation(operator: Literal["%", "//", "**"], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """numexpr's `left <operator> right`, except that integer operands never reach a native division trap.

    Any shapes that broadcast. numexpr divides integers natively: MIN % -1, MIN // -1 and 1 // 0 (its x ** -n)
    raise SIGFPE. Here a divisor of -1 is replaced by 1 (x % -1 == x % 1 == 0, x // -1 == -(x // 1), negation
    wrapping as numexpr's own arithmetic does), and a negative exponent gives numexpr's 1 // x with 1 // 0 = 0.
    """
    numexpr = _numexpr()
    expression = f"_left {operator} _right"
    if left.dtype.kind not in "biu" or right.dtype.kind not in "biu":
        return numexpr.evaluate(expression, local_dict={"_left": left, "_right": right}, global_dict={})
    if operator == "**":
        return _integer_power(left, right)
    minus_one = right == -1
    divisor = np.where(minus_one, 1, right).astype(right.dtype if right.dtype.kind != "b" else np.int32)
    result = numexpr.evaluate(expression, local_dict={"_left": left, "_right": divisor}, global_dict={})
    if operator == "%":
        return result
    sign = np.where(minus_one, -1, 1).astype(result.dtype)
    return numexpr.evaluate("_result * _sign", local_dict={"_result": result, "_sign": sign}, global_dict={})


def _integer_power(base: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """numexpr's integer power; a negative exponent gives 1 // base (1, -1 or 0), never dividing by zero."""
    negative = exponent < 0
    safe_exponent = np.where(negative, 0, exponent).astype(exponent.dtype)
    power = _numexpr().evaluate("_base ** _exponent", local_dict={"_base": base, "_exponent": safe_exponent},
                                global_dict={})
    reciprocal = np.where(base == 1, 1, np.where(base == -1, -1, 0)).astype(power.dtype)
    return np.where(negative, reciprocal, power).astype(power.dtype)


def _numexpr() -> ModuleType:
    """numexpr, imported on first use so that importing schedules stays light."""
    import numexpr

    return numexpr


def _evaluation_fix(exc: Exception) -> str:
    """A suggestion for a numexpr failure."""
    text = str(exc)
    if "negative integer powers" in text:
        return "write the exponent as a decimal, e.g. t**-1.0"
    if "opcode" in text or "bytes must be in range" in text:
        return "use & | ^ ~ only on comparisons such as (t>3)&(t<9), and keep the formula shorter"
    return "check the formula's operators and arguments"


def _checked_source(text: str, variables: frozenset[str]) -> tuple[str, frozenset[str]]:
    """The stripped source and the variables it uses, after the type, length and whitelist checks."""
    if not isinstance(text, str):
        raise ExpressionError("the expression must be text", variables=variables)
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long, the limit is "
                              f"{MAX_EXPRESSION_LENGTH}", fix="shorten the formula", variables=variables)
    return _checked_text(text, variables)


@lru_cache(maxsize=4096)
def _checked_text(text: str, variables: frozenset[str]) -> tuple[str, frozenset[str]]:
    """Cached whitelist check of text of bounded length."""
    lead = len(text) - len(text.lstrip())
    source = text.strip()
    if not source:
        raise ExpressionError("the expression is empty", position=1, variables=variables)
    tree = _parse(source, lead, variables)
    used = _check_tree(tree, source, lead, variables)
    return source, used


def _parse(source: str, lead: int, variables: frozenset[str]) -> ast.Expression:
    """Parse with Python's grammar, turning parser failures into ExpressionError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            return ast.parse(source, mode="eval")
    except SyntaxError as exc:
        position = _syntax_position(source, exc) + lead
        detail = "" if exc.msg == "invalid syntax" else f" ({exc.msg})"
        raise ExpressionError(f"invalid syntax{detail}", position=position,
                              fix="check brackets and operators, e.g. 0.5*sin(t/10)", variables=variables) from exc
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"the expression cannot be read ({exc})", fix="remove odd characters and nesting",
                              variables=variables) from exc


def _syntax_position(source: str, exc: SyntaxError) -> int:
    """1-based character position of a SyntaxError within the whole source."""
    if not exc.lineno or not exc.offset:
        return len(source) + 1
    lines = source.split("\n")
    before = sum(len(line) + 1 for line in lines[: exc.lineno - 1])
    return min(before + exc.offset, len(source) + 1)


def _node_position(source: str, node: ast.AST, lead: int) -> int:
    """1-based character position of an AST node (ast offsets count UTF-8 bytes)."""
    lines = source.split("\n")
    line = lines[node.lineno - 1]
    column = len(line.encode()[: node.col_offset].decode(errors="ignore"))
    return sum(len(item) + 1 for item in lines[: node.lineno - 1]) + column + 1 + lead


def _check_tree(tree: ast.Expression, source: str, lead: int, variables: frozenset[str]) -> frozenset[str]:
    """Walk the tree without recursion; raise on the first node outside the whitelist."""
    used: set[str] = set()
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES or depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is too complex (over {MAX_NODES} parts or {MAX_DEPTH} levels)",
                                  position=_node_position(source, node, lead), fix="split it or simplify it",
                                  variables=variables)
        problem = _node_problem(node, variables)
        if problem is not None:
            raise ExpressionError(problem[0], position=_node_position(source, node, lead), fix=problem[1],
                                  variables=variables)
        if isinstance(node, ast.Name):
            used.add(node.id)
        children = node.args if isinstance(node, ast.Call) else list(ast.iter_child_nodes(node))
        operands = [child for child in children if not isinstance(child, _OPERATOR_NODES)]
        stack.extend((child, depth + 1) for child in reversed(operands))
    return frozenset(used)


def _node_problem(node: ast.AST, variables: frozenset[str]) -> tuple[str, str] | None:
    """(what is wrong, how to fix it) for a disallowed node, else None."""
    if isinstance(node, ast.Constant):
        return _constant_problem(node.value)
    if isinstance(node, ast.Name):
        return _name_problem(node.id, variables)
    if isinstance(node, ast.BinOp):
        if not isinstance(node.op, _BINARY_OPERATORS):
            return f"operator {type(node.op).__name__} is not allowed", "use + - * / % ** and comparisons"
        return _power_problem(node) if isinstance(node.op, ast.Pow) else None
    if isinstance(node, ast.UnaryOp):
        return None if isinstance(node.op, _UNARY_OPERATORS) else ("'not' is not allowed", "use ~(condition)")
    if isinstance(node, ast.Compare):
        if len(node.ops) != 1 or not isinstance(node.ops[0], _COMPARISONS):
            return "chained comparisons are not allowed", "write (a<t)&(t<b) instead of a<t<b"
        return None
    if isinstance(node, ast.Call):
        return _call_problem(node)
    hint = _REJECTED_HINTS.get(type(node))
    if hint is not None:
        return hint
    return f"{type(node).__name__} is not allowed in a formula", "use only numbers, names, functions and operators"


def _constant_problem(value: object) -> tuple[str, str] | None:
    """Only finite int and float literals are allowed."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"the literal {value!r:.40} is not a number", "use numbers only; quotes belong to string schedules"
    if isinstance(value, float) and not math.isfinite(value):
        return "the number is too large", "use a number below 1e308"
    if isinstance(value, int) and abs(value) > MAX_INTEGER:
        return "the number is too large", f"use a number below {MAX_INTEGER}"
    return None


def _name_problem(name: str, variables: frozenset[str]) -> tuple[str, str] | None:
    """Names must be one of the context's variables."""
    if name in variables:
        return None
    if name in ALLOWED_FUNCTIONS:
        return f"the function {name!r} is used without arguments", f"call it, e.g. {name}(t)"
    if name in AUDIO_NAMES:
        return (f"the audio variable {name!r} has no values here",
                "set audio_path (or a soundtrack) so the audio is analysed, or remove it from the formula")
    if name in MUSIC_NAMES:
        return (f"the variable {name!r} is not available here",
                "use it in a schedule value or a backtick prompt; frame keys take only max_f and s")
    return f"unknown name {name!r:.40}", "use only the allowed names listed here"


def _call_problem(node: ast.Call) -> tuple[str, str] | None:
    """Calls must be a whitelisted function by name, positional arguments, right count."""
    if not isinstance(node.func, ast.Name) or node.func.id not in ALLOWED_FUNCTIONS:
        called = node.func.id if isinstance(node.func, ast.Name) else "this"
        return f"calling {called!r:.40} is not allowed", "call only the functions listed here"
    if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
        return f"{node.func.id}() takes positional arguments only", f"write {node.func.id}(t)"
    arity = _ARITY[node.func.id]
    if len(node.args) != arity:
        return (f"{node.func.id}() takes {arity} argument{'s' if arity > 1 else ''}, got {len(node.args)}",
                f"give {node.func.id}() exactly {arity}")
    return None


def _power_problem(node: ast.BinOp) -> tuple[str, str] | None:
    """Python computes integer-literal powers itself before numexpr starts: refuse ones that would be huge."""
    base, exponent = _integer_constant(node.left), _integer_constant(node.right)
    if base is None or exponent is None or exponent < 0 or abs(base) <= 1:
        return None
    try:
        small = math.isfinite(exponent) and abs(base) ** exponent <= MAX_INTEGER
    except OverflowError:
        small = False
    return None if small else ("the constant power is too large", "use smaller numbers, e.g. 2**10")


_INTEGER_OPERATIONS: Mapping[type, Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b, ast.Pow: lambda a, b: a**b,
    ast.BitAnd: lambda a, b: float(int(a) & int(b)), ast.BitOr: lambda a, b: float(int(a) | int(b)),
    ast.BitXor: lambda a, b: float(int(a) ^ int(b)),
}


def _integer_constant(node: ast.AST) -> float | None:
    """Approximate value of a subtree made only of integer literals and integer operators, else None."""
    if isinstance(node, ast.Constant):
        return float(node.value) if isinstance(node.value, int) and not isinstance(node.value, bool) else None
    if isinstance(node, ast.UnaryOp):
        inner = _integer_constant(node.operand)
        if inner is None:
            return None
        return {ast.USub: -inner, ast.UAdd: inner, ast.Invert: -inner - 1}.get(type(node.op))
    if not isinstance(node, ast.BinOp) or type(node.op) not in _INTEGER_OPERATIONS:
        return None
    left, right = _integer_constant(node.left), _integer_constant(node.right)
    if left is None or right is None or (isinstance(node.op, ast.Pow) and right < 0):
        return None
    try:
        return _INTEGER_OPERATIONS[type(node.op)](left, right)
    except (OverflowError, ValueError):
        return math.inf
    except ZeroDivisionError:
        return None
