"""Minimal reproducer (no difflapack involved): Enzyme 0.0.16 mishandles C's complex division
(`_Complex double` a / b, which clang expands with a NaN-recovery branch and a call of
__divdc3): REVERSE mode returns a WRONG gradient without any message, and forward mode fails to
build ("Illegal replace ficticious phi") or, in longer functions, builds and is right.
Division by a real number is fine.

    divide      y = x * x / (cd)3   -> reverse mode: WRONG gradient, no error
    reciprocal  y = x * x * (1.0 / 3) (a real factor)  -> correct in both modes

Found by difflapack's demo (Julia's inv example builds Legendre polynomials of complex nodes by
their three-term recurrence, which divides by j); the demo multiplies by 1/j instead. The rule
for users: divide complex numbers by real numbers as multiplications by the reciprocal, and
check complex code with difflapack.testing.check_rule in reverse mode.

Run:  python docs/enzyme-limitations/complex_division.py {divide|reciprocal}
"""
import sys

import numpy as np

SOURCES = {
    "divide": r"""
typedef _Complex double cd;
double f(double* xd) {
  cd x = *(cd*)xd;
  cd y = x * x / (cd)3;
  return __real__ y + 2 * __imag__ y;
}""",
    "reciprocal": r"""
typedef _Complex double cd;
double f(double* xd) {
  cd x = *(cd*)xd;
  cd y = x * x * (1.0 / 3);
  return __real__ y + 2 * __imag__ y;
}""",
}
X = np.array([0.7, -0.4])   # x = 0.7 - 0.4i


def expected() -> np.ndarray:
    """d/dRe x and d/dIm x of Re(x^2/3) + 2 Im(x^2/3) = (a^2 - b^2 + 4ab) / 3."""
    a, b = X
    return np.array([(2 * a + 4 * b) / 3, (-2 * b + 4 * a) / 3])


def check(variant: str):
    """difflapack.testing's report of the variant in forward and reverse mode."""
    from difflapack.testing import Active, Duplicated, check_rule

    return check_rule(SOURCES[variant], "f", [X.copy()], [Duplicated], modes=("forward", "reverse"),
                      return_activity=Active)


if __name__ == "__main__":
    variant = sys.argv[1] if len(sys.argv) > 1 else "divide"
    print(check(variant))
    print("expected gradient:", expected())
