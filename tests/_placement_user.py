"""Composite programs written the way users write them: a C++ function
    void FN(const double* in_1, ..., const double* in_k, double* out)
that reads its inputs and writes its outputs once, differentiated in the four modes by a
generated driver, against central differences of a NumPy/SciPy version of the same program.
Each (program, mode, activity pattern) is a job of _placement_run.Runner."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from _placement_model import MODES
from _placement_oracle import err as _err, verdict
from _placement_run import _jax

DRIVER_PRELUDE = r"""
extern "C" {
double __enzyme_autodiff(void*, ...);
double __enzyme_fwddiff(void*, ...);
extern int enzyme_dup, enzyme_const, enzyme_out, enzyme_dupnoneed;
}
"""

# name -> (numpy version, input sets, tolerance); lives in the parent only
USER_ORACLES: dict = {}


@dataclass(frozen=True)
class UserProgram:
    name: str
    code: str               # the user's C++ (it includes difflapack_enzyme.h itself)
    fn: str
    inputs: tuple           # ((name, size), ...)
    nout: int
    mode: str
    active: tuple           # ((name, bool), ...)

    @property
    def id(self):
        return f"{self.name}-{self.mode}-" + "+".join(n for n, a in self.active if a)

    @property
    def act(self):
        return dict(self.active)

    def source(self):
        ins = [f"const enzyme::tensor<double, {n}>& {k}_t" for k, n in self.inputs]
        if self.mode in ("grad", "jvp"):
            args = ", ".join(f"&{k}_t[0]" for k, _ in self.inputs)
            return self.code + f"""
void myfn(enzyme::tensor<double, {self.nout}>& out, {", ".join(ins)}) {{
    {self.fn}({args}, &out[0]);
}}
"""
        nout, total = self.nout, self.layout()["total"]
        if self.mode == "fwd":
            ins += [f"const enzyme::tensor<double, {n}>& d{k}_t" for k, n in self.inputs]
        ins.append(f"const enzyme::tensor<double, {nout}>& w_t")
        lines = [f"double* res = &out[0];",
                 f"double sres[{nout}]; for (int i = 0; i < {nout}; i++) sres[i] = "
                 + ("w_t[i];" if self.mode == "rev" else "0;")]
        args = []
        for k, n in self.inputs:
            if self.act[k]:
                init = "0" if self.mode == "rev" else f"d{k}_t[i]"
                lines.append(f"double s_{k}[{n}]; for (int i = 0; i < {n}; i++) s_{k}[i] = {init};")
                args.append(f"enzyme_dup, (const double*)&{k}_t[0], s_{k}")
            else:
                args.append(f"enzyme_const, (const double*)&{k}_t[0]")
        args.append("enzyme_dup, res, sres")
        if self.mode == "rev":
            lines.append(f"__enzyme_autodiff((void*){self.fn}, {', '.join(args)});")
            lay = self.layout()
            for k, n in self.inputs:
                val = f"s_{k}[i]" if self.act[k] else "0"
                lines.append(f"for (int i = 0; i < {n}; i++) out[{lay['g_' + k]} + i] = {val};")
        else:
            lines.append(f"__enzyme_fwddiff((void*){self.fn}, {', '.join(args)});")
            lines.append(f"for (int i = 0; i < {nout}; i++) out[{nout} + i] = sres[i];")
        body = "\n    ".join(lines)
        return self.code + DRIVER_PRELUDE + f"""
void myfn(enzyme::tensor<double, {total}>& out, {", ".join(ins)}) {{
    {body}
}}
"""

    def layout(self):
        d, k = {}, self.nout
        if self.mode == "rev":
            for name, n in self.inputs:
                d["g_" + name] = k
                k += n
        elif self.mode == "fwd":
            k += self.nout
        d["total"] = k
        return d

    def program(self, source):
        jax = _jax()
        import jax.numpy as jnp
        from difflapack import enzyme
        from enzyme_ad.jax import cpp_call

        enzyme.load()
        argv = tuple(enzyme.cflags())
        names = [k for k, _ in self.inputs]
        total = self.layout()["total"] if self.mode in ("rev", "fwd") else self.nout

        def call(*xs):
            return cpp_call(*xs, out_shapes=[jax.core.ShapedArray([total], jnp.float64)], source=source,
                            fn="myfn", argv=argv)[0]

        act = [i for i, k in enumerate(names) if self.act[k]]
        if self.mode == "rev":
            return jax.jit(call), lambda c: [c["x"][k] for k in names] + [c["w"]]
        if self.mode == "fwd":
            return jax.jit(call), lambda c: ([c["x"][k] for k in names]
                                             + [c["d"][k] if self.act[k] else 0 * c["d"][k] for k in names]
                                             + [c["w"]])
        if self.mode == "jvp":
            def fn(xs, ds):
                tans = tuple(ds[i] if i in act else jnp.zeros_like(xs[i]) for i in range(len(xs)))
                return jax.jvp(call, tuple(xs), tans)
            return jax.jit(fn), lambda c: [[c["x"][k] for k in names], [c["d"][k] for k in names]]

        def loss(*a):
            *xs, w = a
            y = call(*xs)
            return jnp.sum(y * w), y
        return (jax.jit(jax.value_and_grad(loss, argnums=tuple(act), has_aux=True)),
                lambda c: [c["x"][k] for k in names] + [c["w"]])

    def unpack(self, r):
        names = [k for k, _ in self.inputs]
        if self.mode == "rev":
            r = np.asarray(r)
            lay = self.layout()
            return {"out": r[:self.nout], "grad": {k: r[lay["g_" + k]:lay["g_" + k] + n]
                                                   for k, n in self.inputs if self.act[k]}}
        if self.mode == "fwd":
            r = np.asarray(r)
            return {"out": r[:self.nout], "tan": r[self.nout:2 * self.nout]}
        if self.mode == "jvp":
            return {"out": np.asarray(r[0]), "tan": np.asarray(r[1])}
        (loss, y), g = r
        act = [k for k in names if self.act[k]]
        return {"out": np.asarray(y), "grad": {k: np.asarray(g[i]) for i, k in enumerate(act)}}

    def child_cases(self):
        return USER_ORACLES[self.name]["cases"]

    def prepare(self):
        user_jacobians(self.name)

    def judge(self, out):
        o = USER_ORACLES[self.name]
        problems = []
        for k, (res, case) in enumerate(zip(out.results, o["cases"])):
            J = user_jacobians(self.name)[k]
            want = o["numpy"](**case["x"])
            e = _err(res["out"], want)
            if e > o["ptol"]:
                problems.append(f"case {k}: primal outputs off by {e:.1e}")
            if "grad" in res:
                for name, g in res["grad"].items():
                    w = J[name].T @ case["w"]
                    e = _err(g, w)
                    if e > o["tol"]:
                        zero = " (silently ZERO)" if np.all(g == 0) and np.abs(w).max() > 0 else ""
                        problems.append(f"case {k}: d{name} off by {e:.1e}{zero}")
            else:
                w = sum(J[n] @ case["d"][n] for n, a in self.active if a)
                e = _err(res["tan"], w)
                if e > o["tol"]:
                    problems.append(f"case {k}: tangent off by {e:.1e}")
        verdict(out, problems)


_USER_JAC: dict = {}


def user_jacobians(name):
    """Central-difference Jacobians {input: (nout, size)} of the NumPy version, per case."""
    if name not in _USER_JAC:
        o = USER_ORACLES[name]
        jacs = []
        for case in o["cases"]:
            J = {}
            for k, x in case["x"].items():
                cols = []
                for i in range(x.size):
                    e = np.zeros_like(x)
                    e[i] = o["h"]
                    plus = o["numpy"](**{**case["x"], k: x + e})
                    minus = o["numpy"](**{**case["x"], k: x - e})
                    cols.append((plus - minus) / (2 * o["h"]))
                J[k] = np.stack(cols, axis=1)
            jacs.append(J)
        _USER_JAC[name] = jacs
    return _USER_JAC[name]


def register_user_program(name, code, fn, numpy_fn, input_sets, *, tol=1e-6, ptol=1e-9, h=1e-6, seed=0):
    """Registers a composite program; returns its cells (4 modes x activity patterns)."""
    inputs = tuple((k, int(np.asarray(v).size)) for k, v in input_sets[0].items())
    r = np.random.default_rng(seed)
    cases_ = []
    for xs in input_sets:
        xs = {k: np.asarray(v, dtype=float).ravel(order="F") for k, v in xs.items()}
        nout = int(np.asarray(numpy_fn(**xs)).size)
        cases_.append({"x": xs, "d": {k: r.standard_normal(v.size) for k, v in xs.items()},
                       "w": r.standard_normal(nout)})
    USER_ORACLES[name] = {"numpy": lambda **kw: np.asarray(numpy_fn(**kw), dtype=float).ravel(order="F"),
                          "cases": cases_, "tol": tol, "ptol": ptol, "h": h}
    names = [k for k, _ in inputs]
    pats = [{k: bool(b >> i & 1) for i, k in enumerate(names)} for b in range(1, 2 ** len(names))]
    pats.sort(key=lambda p: -sum(p.values()))
    return [UserProgram(name, code, fn, inputs, nout, m, tuple(p.items())) for m in MODES for p in pats]
