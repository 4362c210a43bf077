"""What every strict kernel printer shares: the refusals, irrational constants as float literals, Pow, Max / Min.

``Strict`` is mixed in before a SymPy printer (printers.py): it refuses one-hots (KroneckerDelta), Piecewise,
sums, derivatives and indexed objects, prints an irrational constant (1/log(2)) as the float literal of its
nearest double, a constant factor as a multiplication, and only 1/x and x**2..x**4 as powers.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE


class UnprintableKernel(ValueError):
    """An expression the kernel printers do not print as elementwise array code."""


def grouped(printer, expr: sp.UnevaluatedExpr) -> str:
    """A grouped term (evaluated first). One that prints with a leading minus gets its own parentheses:
    SymPy's Add printer strips that minus as the term's sign, printing a + (-y + s) as a - (y + s)."""
    text = printer._print(expr.args[0])
    return f"({text})" if text.startswith("-") else text


def constant(expr: sp.Expr) -> bool:
    """A real number that SymPy keeps symbolic (log(2), 1/log(2)): printed as a float literal."""
    return bool(expr.is_number) and not expr.is_Rational and bool(expr.is_extended_real) and bool(expr.is_finite)


def literal(expr: sp.Expr) -> str:
    """The shortest float literal that round-trips the double nearest to ``expr``."""
    return repr(float(expr))


class Strict:
    """Refusals and Pow shared by both printers (mixed in before the SymPy printer)."""

    _module: str

    def _refuse(self, expr, why: str):
        raise UnprintableKernel(f"{type(self).__name__} cannot print {sp.sstr(expr)}: {why}")

    def _print_KroneckerDelta(self, expr):
        self._refuse(expr, "a one-hot; gather the target or add at the target index instead")

    def _print_Piecewise(self, expr):
        self._refuse(expr, "write the branches as a stable closed form (max, min, |x|)")

    def _print_Sum(self, expr):
        self._refuse(expr, "row sums belong to the wrappers; emit the elementwise term")

    def _print_Indexed(self, expr):
        self._refuse(expr, "kernel arguments are plain symbols")

    _print_IndexedBase = _print_Indexed
    _print_Derivative = _print_Sum

    def _print_UnevaluatedExpr(self, expr):
        return grouped(self, expr)

    def _print(self, expr, **kwargs):
        if isinstance(expr, sp.Expr) and constant(expr):
            return literal(expr)
        return super()._print(expr, **kwargs)

    def _print_Mul(self, expr):
        number, rest = expr.as_independent(*expr.free_symbols, as_Add=False)
        if constant(number) and rest != 1:  # c * x with c irrational: the literal times the rest
            sign = "-" if number.is_negative else ""
            return f"{sign}{literal(abs(number))}*{self.parenthesize(rest, PRECEDENCE['Mul'])}"
        return super()._print_Mul(expr)

    def _print_Exp2(self, expr):
        return f"{self._module_format(self._module + '.exp2')}({self._print(expr.args[0])})"

    def _print_Pow(self, expr, rational=False):
        base, power = expr.args
        if power == -1:
            return "1/{}".format(self.parenthesize(base, PRECEDENCE["Pow"]))
        if power.is_Integer and 2 <= power <= 4:
            return "{}**{}".format(self.parenthesize(base, PRECEDENCE["Pow"]), power)
        self._refuse(expr, "only 1/x and x**2..x**4 are printed")

    def _minmax(self, expr, name: str, clamp: str):
        """max/min of two arguments, elementwise; against a constant, ``clamp`` where the backend has one."""
        if len(expr.args) != 2:
            self._refuse(expr, "Max/Min of exactly two arguments")
        numbers = [a for a in expr.args if a.is_number]
        others = [a for a in expr.args if not a.is_number]
        function = f"{self._module}.{clamp if clamp and len(numbers) == 1 else name}"
        a, b = (self._print(x) for x in others + numbers)  # the constant last: clamp_min(x, 0)
        return f"{self._module_format(function)}({a}, {b})"
