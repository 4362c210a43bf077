"""Strict NumPy, PyTorch and JavaScript printers for kernel expressions (small subclasses of SymPy's printers).

They override only what SymPy 1.14 prints wrongly or not at all for elementwise kernels, and raise on
anything else they cannot print as elementwise array code:

- Max / Min: numpy.maximum / torch.clamp_min (TorchPrinter writes torch.max(0, x), a TypeError);
- log1p: torch.log1p (missing from TorchPrinter);
- xlogy: torch.xlogy; NumPy has none, so a helper ``_xlogy`` is emitted into the module that uses it;
- Pow: only 1/x and small positive integer powers (NumPyPrinter writes x**(-1.0), TorchPrinter torch.pow);
- Exp2 (2^x): numpy.exp2 / torch.exp2;
- irrational constants (1/log(2)): a float literal, so that they stay weakly typed (numpy.log(2) would be a
  float64 scalar that turns a float32 array into float64; torch.log(2) is a TypeError) and a constant
  factor is a multiplication (1.4426950408889634*(z - m)), not a division;
- KroneckerDelta, Piecewise, sums and indexed objects are refused: kernels gather, never build a one-hot.

JavaScript (numbers, doubles) differs again: SymPy 1.14's JavascriptCodePrinter prints a Sum as the literal
text ``Sum(...)`` and ``true`` as ``True`` (refused here), and cannot print Exp2, XLogY or log1p (mapped to
``Math.pow(2, x)``, an emitted ``xlogy`` helper and ``Math.log1p``); every power is ``Math.pow``, since
``-x**2`` is a SyntaxError in JavaScript.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.jscode import JavascriptCodePrinter
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pytorch import TorchPrinter
from sympy.printing.str import StrPrinter


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


class _Strict:
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


#: Helper functions a printer may call; emitted (once) into each module whose code uses them.
HELPERS = {
    "_xlogy": (
        "def _xlogy(x, y):\n"
        '    """x log y, and 0 where x == 0 unless y is nan (torch.xlogy; 0 log 0 = 0)."""\n'
        "    return numpy.where((x == 0) & ~numpy.isnan(y), 0.0, x * numpy.log(y))"
    ),
}


class NumpyKernelPrinter(_Strict, NumPyPrinter):
    """NumPy code for one elementwise kernel expression; imports in ``module_imports``, helpers in ``helpers``."""

    _module = "numpy"

    def __init__(self, settings=None):
        super().__init__(settings)
        self.helpers: set[str] = set()

    def _print_Max(self, expr):
        return self._minmax(expr, "maximum", "")

    def _print_Min(self, expr):
        return self._minmax(expr, "minimum", "")

    def _print_XLogY(self, expr):
        for name in ("numpy.where", "numpy.isnan", "numpy.log"):  # what _xlogy uses
            self._module_format(name)
        self.helpers.add("_xlogy")
        return "_xlogy({}, {})".format(*tuple(self._print(a) for a in expr.args))


class TorchKernelPrinter(_Strict, TorchPrinter):
    """PyTorch code for one elementwise kernel expression; imports recorded in ``module_imports``."""

    _module = "torch"

    def _print_Max(self, expr):
        return self._minmax(expr, "maximum", "clamp_min")

    def _print_Min(self, expr):
        return self._minmax(expr, "minimum", "clamp_max")

    def _print_log1p(self, expr):
        return f"{self._module_format('torch.log1p')}({self._print(expr.args[0])})"

    def __init__(self, settings=None):
        super().__init__(settings)
        self.helpers: set[str] = set()

    def _print_XLogY(self, expr):
        x, y = (self._print(a) for a in expr.args)
        return f"{self._module_format('torch.xlogy')}({x}, {y})"


class JavascriptKernelPrinter(_Strict, JavascriptCodePrinter):
    """JavaScript for one elementwise kernel expression on numbers; helpers it calls in ``helpers``."""

    _module = "Math"

    def __init__(self, settings=None):
        super().__init__(settings or {})
        self.helpers: set[str] = set()

    def _module_format(self, name: str) -> str:
        return name

    def _print_Exp2(self, expr):
        return f"Math.pow(2, {self._print(expr.args[0])})"

    def _print_Pow(self, expr, rational=False):
        base, power = expr.args
        if power == -1:
            return "1/{}".format(self.parenthesize(base, PRECEDENCE["Pow"]))
        if power.is_Integer and 2 <= power <= 4:
            return f"Math.pow({self._print(base)}, {power})"
        self._refuse(expr, "only 1/x and x**2..x**4 are printed")

    def _print_Max(self, expr):
        return self._minmax(expr, "max", "")

    def _print_Min(self, expr):
        return self._minmax(expr, "min", "")

    def _print_log1p(self, expr):
        return f"Math.log1p({self._print(expr.args[0])})"

    def _print_XLogY(self, expr):
        self.helpers.add("xlogy")
        return "xlogy({}, {})".format(*tuple(self._print(a) for a in expr.args))

    def _print_BooleanTrue(self, expr):
        self._refuse(expr, "a boolean; kernels are arithmetic")

    _print_BooleanFalse = _print_BooleanTrue


#: Helper functions the JavaScript printer may call; emitted (once) into the script that uses them.
JS_HELPERS = {
    "xlogy": (
        "  // x log y, and 0 where x == 0 unless y is NaN (torch.xlogy; 0 log 0 = 0)\n"
        "  function xlogy(x, y) {\n"
        "    return x === 0 && !Number.isNaN(y) ? 0 : x * Math.log(y);\n"
        "  }"
    ),
}


class DocPrinter(StrPrinter):
    """The SymPy expression as docstrings show it (sstr, with grouped terms parenthesised)."""

    def _print_UnevaluatedExpr(self, expr):
        return grouped(self, expr)


PRINTERS = {"numpy": NumpyKernelPrinter, "torch": TorchKernelPrinter}
