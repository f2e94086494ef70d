"""How much rounding can move each output of a flow: the tolerances of the interop check (check.py).

A fixed relative tolerance on a floating-point result is not a criterion: a log-determinant near zero, a spline evaluated
next to a knot, or a root found where the function is flat can legitimately differ by more than ``tol·max(1, |a|)`` on
one machine and not on another (vector width, FMA, summation order), while elsewhere the same ``tol`` hides real
differences. What rounding can do to a quantity is a property of that quantity at that input, its *conditioning*, and it
can be computed:

    condition(q) = Σ_v |∂q/∂v| · m_v

over every rounded intermediate v of the evaluation of q (every arithmetic operation, elementary function and reduction,
element by element). m_v is |v| for an operation rounded once, FUNCTION_ULPS·|v| for an elementary function (FlowGen's
exp/log/tanh/softplus… are accurate to ≤ 3 ulp, i.e. ≤ 6u relative), and for a reduction the magnitude its own rounding
errors can reach to first order (a dot product or sum of n terms, in any order: n·Σ|terms|; softmax, log-softmax and
logsumexp: the rounding of a_j − max, of the exponentials and of their sum; a triangular solve: d·|A⁻¹||A||x|). An
evaluation whose every operation has a relative error within those bounds differs from the exact q by at most
u·condition(q) to first order: the linearised (Wilkinson) forward-error bound, here computed *through the reference* — the
PyTorch module evaluated in double on the same parameters and inputs, ∂q/∂v by reverse-mode autograd with one cotangent per
row (batched), so that intermediates that rows share (ActNorm's exp ℓ, the LU factors) are charged to each row with its
own derivative.

For the numerical inverses (bisection here, Newton in FlowGen), flowgen_torch attaches the root to the graph through the
implicit function theorem, so a rounding error δ in evaluating τ at the root counts as an error δ/τ′ of the root: what any
root finder that drives τ(x) − y to rounding level commits.

A result a of precision u_a agrees with a reference r of precision u_r when

    |a − r| ≤ SAFETY · (u_a + u_r) · condition(q)          (u = 2⁻²⁴ for float, 2⁻⁵³ for double)

Each side is within u·condition(q) of the exact value, so the rounding of both is within (u_a + u_r)·condition(q); SAFETY = 2
leaves room for what the first-order bound does not state exactly (second-order terms, formulas that are equivalent but
not operation-for-operation identical: FlowGen's fused or reordered expressions). The bound is a worst case (every rounding
at its extreme, all aligned), so measured errors sit one to two orders of magnitude below the tolerance. Since it is
computed per element, the criterion is not loose where a quantity is well conditioned, nor tight near zero or near a knot.
"""

from __future__ import annotations

import math
from typing import Callable, List, Sequence, Tuple

import torch
from torch.overrides import TorchFunctionMode

U = {torch.float32: 2.0 ** -24, torch.float64: 2.0 ** -53}
SAFETY = 2.0
# Relative error, in units of u, of an elementary function (exp, log, tanh, sigmoid, softplus, …): FlowGen's kernels are
# documented and tested to ≤ 3 ulp (src/FlowGen.Runtime/Kernel.cs), and one ulp is at most 2u relative.
FUNCTION_ULPS = 6.0
_FUNCTIONS = {"exp", "log", "tanh", "sigmoid", "elu", "silu", "gelu", "expm1", "log1p", "sqrt", "rsqrt", "erf"}

# Operations whose result is exact (a copy, a selection, a sign change, a comparison): they round nothing.
_EXACT = {
    "__get__", "__getitem__", "__setitem__", "getitem", "cat", "stack", "view", "view_as", "reshape", "reshape_as",
    "permute", "transpose", "t", "clone", "gather", "where", "expand", "expand_as", "unsqueeze", "squeeze", "contiguous",
    "detach", "relu", "neg", "__neg__", "abs", "index_select", "index_put", "diag", "split", "chunk", "narrow", "select",
    "flatten", "zeros_like", "ones_like", "full_like", "masked_fill", "clamp", "max", "min", "flip", "roll", "movedim",
    "repeat", "requires_grad_", "type_as", "to", "float", "double", "zeros", "ones", "eye", "full", "tensor",
}


def _inner(name: str, args, kwargs, out: torch.Tensor) -> torch.Tensor:
    """m_v: the magnitude whose first-order rounding (× u) bounds the error committed in producing ``out``."""
    a = args[0] if args else None
    y = out.detach()
    if name == "linear":                 # n products and n additions (bias included): γ_{n+1}·(|W||x| + |b|)
        x, w = args[0].detach(), args[1].detach()
        b = args[2] if len(args) > 2 else kwargs.get("bias")
        m = x.abs() @ w.abs().T + (b.detach().abs() if b is not None else 0)
        return (x.shape[-1] + 1) * m
    if name in ("matmul", "__matmul__", "mm", "bmm", "__rmatmul__"):
        x, w = (args[1], args[0]) if name == "__rmatmul__" else (args[0], args[1])
        x, w = x.detach(), w.detach()
        return x.shape[-1] * (x.abs() @ w.abs())
    if name == "sum" and isinstance(a, torch.Tensor):
        ad = a.detach().abs()
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        if dim is None:
            return a.numel() * ad.sum().expand_as(y)
        n = math.prod(a.shape[d] for d in (dim if isinstance(dim, (tuple, list)) else (dim,)))
        return n * ad.sum(dim=dim, keepdim=bool(kwargs.get("keepdim", False)))
    if name == "cumsum":                 # partial sum k has k additions
        dim = args[1] if len(args) > 1 else kwargs["dim"]
        shape = [1] * a.dim()
        shape[dim] = a.shape[dim]
        count = torch.arange(1, a.shape[dim] + 1, dtype=y.dtype).clamp(min=1).reshape(shape)
        return count * a.detach().abs().cumsum(dim)
    if name in ("softmax", "log_softmax", "logsumexp"):
        # e_j = exp(a_j − max) has relative error u·|a_j − max| (the subtraction) + FUNCTION_ULPS·u; the sum S of n of
        # them adds n·u: S is off by a relative u·(Σ_j σ_j·|a_j − max| + FUNCTION_ULPS + n), σ = softmax(a)
        dim = args[1] if len(args) > 1 else kwargs["dim"]
        ad = a.detach()
        top = ad.max(dim=dim, keepdim=True).values
        spread = (ad - top).abs()
        sigma = torch.softmax(ad, dim=dim)
        n = ad.shape[dim]
        rel_s = (sigma * spread).sum(dim=dim, keepdim=True) + FUNCTION_ULPS + n
        log_s = torch.log(torch.exp(ad - top).sum(dim=dim, keepdim=True))
        if name == "softmax":            # y_i = e_i / S
            return y.abs() * (spread + FUNCTION_ULPS + rel_s + 1)
        if name == "log_softmax":        # y_i = (a_i − max) − log S
            return spread + rel_s + FUNCTION_ULPS * log_s.abs() + y.abs()
        keep = bool(kwargs.get("keepdim", False) or (len(args) > 2 and args[2]))
        extra = rel_s + FUNCTION_ULPS * log_s.abs() + top.abs()   # y = max + log S
        return y.abs() + (extra if keep else extra.squeeze(dim))
    if name in ("softplus", "logsigmoid", "log_sigmoid"):   # ln(1 + e^·): e^·'s rounding moves the result by ≤ u
        return FUNCTION_ULPS * (y.abs() + 1)
    if name in _FUNCTIONS:
        return FUNCTION_ULPS * y.abs()
    if name in ("pow", "__pow__") and len(args) > 1 and isinstance(args[1], (int, float)):
        e = args[1]
        return (max(1.0, abs(e) - 1) if float(e).is_integer() else FUNCTION_ULPS) * y.abs()
    if name == "solve_triangular":       # (A + ΔA) x̂ = b, |ΔA| ≤ d·u·|A|  ⇒  |x̂ − x| ≤ d·u·|A⁻¹||A||x|
        mat = args[0].detach()
        d = mat.shape[-1]
        return d * (torch.linalg.inv(mat).abs() @ (mat.abs() @ y.abs()))
    return y.abs()                       # one correctly rounded operation


class _Recorder(TorchFunctionMode):
    """Records every rounded floating-point intermediate that autograd tracks, with its magnitude m_v."""

    def __init__(self):
        super().__init__()
        self.values: List[torch.Tensor] = []
        self.magnitudes: List[torch.Tensor] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        if (isinstance(out, torch.Tensor) and out.requires_grad and out.is_floating_point() and torch.is_grad_enabled()
                and name not in _EXACT and not name.endswith("_")):
            with torch.no_grad():
                self.values.append(out)
                self.magnitudes.append(_inner(name, args, kwargs, out).expand_as(out).detach())
        return out


def condition(evaluate: Callable[[], Sequence[torch.Tensor]], parameters: Sequence[torch.Tensor]
              ) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
    """condition(q) = Σ_v |∂q/∂v|·m_v for every element q of every tensor ``evaluate()`` returns, each of shape [n, …] with
    one row per sample (``parameters`` are made to require grad so that every intermediate is tracked). ∂q/∂v is taken
    row by row (one one-hot cotangent per row, batched), so an intermediate that several rows share — one computed from
    the parameters alone — is charged to each row with that row's own derivative. Returns (the outputs, detached; their
    conditions)."""
    for p in parameters:
        p.requires_grad_(True)
    recorder = _Recorder()
    with torch.enable_grad(), recorder:
        outputs = evaluate()
    result = []
    for out in outputs:
        n = out.shape[0]
        columns = out.reshape(n, -1)
        cond = torch.zeros_like(columns, dtype=torch.float64)
        if columns.requires_grad:
            eye = torch.eye(n, dtype=columns.dtype)
            for j in range(columns.shape[1]):
                grads = torch.autograd.grad(columns[:, j], recorder.values, grad_outputs=eye, retain_graph=True,
                                            allow_unused=True, is_grads_batched=True)
                for g, m in zip(grads, recorder.magnitudes):
                    if g is not None:
                        cond[:, j] += (g.abs() * m.unsqueeze(0)).reshape(n, -1).sum(1).to(torch.float64)
        result.append(cond.reshape(out.shape))
    return [out.detach() for out in outputs], result


def tolerance(cond: torch.Tensor, side: torch.dtype, reference: torch.dtype = torch.float64) -> torch.Tensor:
    """The largest |a − r| that rounding explains for a result of precision ``side`` against a ``reference``."""
    return SAFETY * (U[side] + U[reference]) * cond


def ratio(actual: torch.Tensor, reference: torch.Tensor, tol: torch.Tensor) -> torch.Tensor:
    """|actual − reference| / tol element by element (≤ 1 passes); 0 where both are the same non-finite value, ∞ where
    only one is finite or where they differ with a zero tolerance."""
    a = actual.detach().to(torch.float64).reshape(-1)
    r = reference.detach().to(torch.float64).reshape(-1)
    t = tol.to(torch.float64).reshape(-1)
    d = (a - r).abs()
    out = torch.where(d == 0, torch.zeros_like(d), d / t)
    both = ~torch.isfinite(a) | ~torch.isfinite(r)
    same = (torch.isnan(a) & torch.isnan(r)) | (a == r)
    out = torch.where(both, torch.where(same, torch.zeros_like(d), torch.full_like(d, math.inf)), out)
    return out
