"""In-place emission: a kernel expression written into a preallocated ``out`` (``<name>_into``).

The kernels work on cache-sized blocks of the logits. A pure function such as ``a*torch.exp2(u)``
allocates a fresh block for every operation; its ``_into`` twin evaluates the same expression as a
chain of operations that each write into ``out`` (``torch.mul(e, a, out=out)``), so a block costs no
allocation and ``out`` may be the block being read (the gradient overwrites the logits).

The expression must have one *spine*: the block argument (``Kernel.into``) reaches the root through
nodes that each have exactly one child containing it. Along the spine:

    spine symbol            -> read directly by the first operation (no copy)
    x + r, x - r            -> add / subtract r          (r: the other terms, printed by the strict printer)
    c * x + r (torch)       -> torch.add(r, x, alpha=c)  (one pass for the scale and the shift; c an
                               irrational constant or the scalar argument c, a Python float)
    x + c * v (torch)       -> out.addcmul_(c, v)        (no block-sized product is formed)
    c * x, x / r            -> multiply by c (an irrational constant as a float literal), divide by r
    exp2(x), exp(x), log(x), tanh(x) -> the function with out=
    (x) grouped             -> x, evaluated first as in the pure form

Anything else is refused (UnprintableKernel), as the strict printers refuse what they cannot print.
"""

from __future__ import annotations

import sympy as sp

from derivations.emission.kernel import SCALE, Exp2, Kernel
from derivations.emission.printers import UnprintableKernel, constant, literal

#: Binary operations by backend: the function that takes ``out=``.
_BINARY = {
    "torch": {"add": "torch.add", "sub": "torch.sub", "mul": "torch.mul", "div": "torch.div"},
    "numpy": {"add": "numpy.add", "sub": "numpy.subtract", "mul": "numpy.multiply", "div": "numpy.divide"},
}
_UNARY = {Exp2: "exp2", sp.exp: "exp", sp.log: "log", sp.tanh: "tanh"}


class IntoPrinter:
    """Statements that evaluate ``kernel.expr`` into ``out``; row-level operands go through ``printer``."""

    def __init__(self, backend: str, printer):
        self.backend, self.printer = backend, printer
        self.lines: list[str] = []

    def render(self, kernel: Kernel) -> list[str]:
        """The body of ``<name>_into(out, *args)``: one statement per operation, then ``return out``."""
        self.lines, self.spine, self.name = [], kernel.into, kernel.name
        pending = self._gen(kernel.expr)
        if pending is not None:  # the expression is the spine itself
            self._call("mul", pending, "1")
        return [*self.lines, "return out"]

    def _refuse(self, expr, why: str):
        raise UnprintableKernel(f"kernel {self.name!r}: cannot write {sp.sstr(expr)} into out: {why}")

    def _print(self, expr) -> str:
        return self.printer.doprint(expr)

    def _function(self, name: str) -> str:
        return self.printer._module_format(f"{self.backend}.{name}")

    def _call(self, op: str, a: str | None, b: str) -> None:
        """out = a (op) b, with a = out when the value is already in out."""
        function = self.printer._module_format(_BINARY[self.backend][op])
        self.lines.append(f"{function}({a or 'out'}, {b}, out=out)")

    def _gen(self, expr) -> str | None:
        """Write ``expr`` into out; returns the source of a value not yet written (the bare spine), else None."""
        if expr == self.spine:
            return self.printer.doprint(expr)
        if not expr.has(self.spine):
            self._refuse(expr, "the block argument does not reach this term")
        if isinstance(expr, sp.UnevaluatedExpr):
            return self._gen(expr.args[0])
        if isinstance(expr, sp.Add):
            return self._add(expr)
        if isinstance(expr, sp.Mul):
            return self._mul(expr)
        for function, name in _UNARY.items():
            if isinstance(expr, function):
                pending = self._gen(expr.args[0])
                self.lines.append(f"{self._function(name)}({pending or 'out'}, out=out)")
                return None
        self._refuse(expr, f"no in-place form for {type(expr).__name__}")

    def _split(self, args) -> tuple[sp.Expr, list[sp.Expr]]:
        on = [a for a in args if a.has(self.spine)]
        if len(on) != 1:
            self._refuse(sp.Add(*args), "the block argument must reach exactly one operand")
        return on[0], [a for a in args if a is not on[0]]

    def _add(self, expr: sp.Add) -> None:
        spine, others = self._split(expr.args)
        rows = [t for t in others if not self._product(t)]
        scaled = self._scaled(spine) if rows and self.backend == "torch" else None
        if scaled is not None:  # r + c x: torch.add scales x by c and adds r in one operation
            number, inner = scaled
            pending = self._gen(inner)
            add = self.printer._module_format(_BINARY["torch"]["add"])
            rest, source = self._print(sp.Add(*rows)), pending or "out"
            alpha = literal(number) if constant(number) else self._print(number)  # 1.44..., c or -c
            self.lines.append(f"{add}({rest}, {source}, alpha={alpha}, out=out)")
            rows, pending = [], None
        else:
            pending = self._gen(spine)
        if rows:  # the terms without a product to fuse: one add (or subtract) of their sum
            rest = sp.Add(*rows)
            negative = rest.could_extract_minus_sign()
            self._call("sub" if negative else "add", pending, self._print(-rest if negative else rest))
            pending = None
        for term in others:
            if self._product(term):
                pending = self._addcmul(term, pending)
        return pending

    def _scaled(self, term) -> tuple[sp.Expr, sp.Expr] | None:
        """(c, x) for a spine term c * x with c an irrational constant (1 / ln 2) or the scalar SCALE, else None."""
        if not isinstance(term, sp.Mul):
            return None
        number, inner = term.as_independent(*term.free_symbols, as_Add=False)
        if constant(number) and number != 1:
            return number, inner
        for scale in (SCALE, -SCALE):  # +-c * x with c a Python float argument: alpha=c or alpha=-c
            inner = term / scale
            if not inner.has(SCALE) and not inner.could_extract_minus_sign():
                return scale, inner
        return None

    def _product(self, term) -> bool:
        """A product c * v added along the spine: torch fuses it (addcmul_), NumPy adds it."""
        return isinstance(term, sp.Mul) and len([f for f in term.args if not f.is_number]) >= 2

    def _addcmul(self, term: sp.Mul, pending: str | None) -> None:
        if pending is not None:
            self._call("mul", pending, "1")
        if self.backend != "torch":
            negative = term.could_extract_minus_sign()
            self._call("sub" if negative else "add", None, self._print(-term if negative else term))
            return None
        sign = -1 if term.could_extract_minus_sign() else 1
        factors = list((sign * term).as_ordered_factors())
        first, rest = factors[0], sp.Mul(*factors[1:])
        value = "" if sign == 1 else ", value=-1"
        self.lines.append(f"out.addcmul_({self._print(first)}, {self._print(rest)}{value})")
        return None

    def _mul(self, expr: sp.Mul) -> None:
        spine, others = self._split(expr.args)
        number, rest = sp.Mul(*others).as_independent(*sp.Mul(*others).free_symbols, as_Add=False)
        numerator, denominator = sp.fraction(rest)
        pending = self._gen(spine)
        factors = []
        if number != 1:  # an irrational constant as its float literal, as the pure form prints it
            factors.append(literal(number) if constant(number) else self._print(number))
        if numerator != 1:
            factors.append(self._print(numerator))
        for factor in factors:
            self._call("mul", pending, factor)
            pending = None
        if denominator != 1:
            self._call("div", pending, self._print(denominator))
            pending = None
        return pending
