"""PyTorch twin of a FlowGen flow.

Builds, from a FlowGen ``StackDescription`` (the string every generated model exposes, and that FlowGen writes into the
``flowgen.stack`` metadata of its safetensors files), an ``nn.Module`` with the same architecture, the same mathematics
(docs/model.md) and the same parameter names, so that

    flow = FlowGenFlow.from_safetensors("my-flow.safetensors")   # weights trained in C#
    flow.log_prob(x); z, log_det = flow(x); x, log_det = flow.inverse(z)

and the reverse direction (train here, ``flow.save_safetensors(path)``, then ``FlowSafetensors.Load(flow, path)`` in C#)
both work. Every layer kind is supported: affine, additive, sum-of-squares, deep sigmoidal and rational-quadratic spline
couplings, permutations, ActNorm, LU invertible linear layers and context (conditional flows).

State-dict keys are FlowGen's tensor names (``layers.{l}.conditioner.{k}.weight`` [out, in] as ``nn.Linear``,
``layers.{l}.log_scale``, ``layers.{l}.lower`` …); ``state_dict()`` holds parameters only (permutations are non-persistent
buffers), so ``safetensors.torch.save_file(flow.state_dict(), path)`` would also produce a file FlowGen loads. This module
reads and writes safetensors itself and needs nothing but torch (and numpy, which torch depends on).

Precision: a ``float`` stack builds a float32 module, a ``double`` stack a float64 one (``dtype=`` overrides).
"""

from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["FlowGenFlow", "parse_stack", "read_safetensors", "write_safetensors", "StackSpec", "LayerSpec"]

EPS_SOS = 1e-3          # sum-of-squares ε
MIN_BIN = 1e-3          # spline minimum bin width/height
MIN_DERIVATIVE = 1e-3   # spline δ_min
ROOT_ITERATIONS = 200   # bisection steps for the numerical inverses (enough to reach the last ulp in double)


# ----------------------------------------------------------------------------------------------------- the description

@dataclass
class LayerSpec:
    index: int
    kind: str                                   # affine additive sos dsf spline permutation actnorm linear
    kept: List[int] = field(default_factory=list)
    transformed: List[int] = field(default_factory=list)
    widths: List[int] = field(default_factory=list)   # conditioner: in -> hidden… -> out
    activation: Optional[str] = None
    options: Dict[str, float] = field(default_factory=dict)
    order: Optional[List[int]] = None                  # permutation π, or the LU layer's P (None = identity)


@dataclass
class StackSpec:
    dim: int
    precision: str
    context: int
    parameter_count: int
    layers: List[LayerSpec]
    description: str


_KINDS = {"affine": "affine", "additive": "additive", "sum-of-squares": "sos", "deep sigmoidal": "dsf",
          "rational-quadratic spline": "spline"}
_COUPLING = re.compile(
    r"^(affine|additive|sum-of-squares|deep sigmoidal|rational-quadratic spline) coupling (\d+), "
    r"keep \[([\d ]*)\] transform \[([\d ]*)\] \((.*?)\), conditioner ([\d >-]+?)"
    r"(?: (tanh|relu|softplus|elu|gelu|silu))?(?:, (.*))?$")
_HEAD = re.compile(r"^Dim (\d+), (float|double)(?:, context (\d+))?, (\d+) parameters$")


def _ints(text: str) -> List[int]:
    return [int(t) for t in text.split()] if text.strip() else []


def parse_stack(description: str) -> StackSpec:
    """Parses a FlowGen StackDescription (the canonical text of the generated ``StackDescription`` constant)."""
    lines = [ln for ln in description.replace("\r\n", "\n").split("\n") if ln.strip()]
    head = _HEAD.match(lines[0])
    if not head:
        raise ValueError(f"not a FlowGen stack description: {lines[0]!r}")
    dim, precision, context, count = int(head[1]), head[2], int(head[3] or 0), int(head[4])
    layers: List[LayerSpec] = []
    for ln in lines[1:]:
        m = re.match(r"^layer (\d+): (.*)$", ln)
        if not m:
            raise ValueError(f"unexpected line in stack description: {ln!r}")
        index, body = int(m[1]), m[2]
        c = _COUPLING.match(body)
        if c:
            options: Dict[str, float] = {}
            for part in (c[8] or "").split(", "):
                if part:
                    key, value = part.rsplit(" ", 1)
                    options[key] = float(value)
            layers.append(LayerSpec(index, _KINDS[c[1]], _ints(c[3]), _ints(c[4]),
                                    [int(w) for w in c[6].split(" -> ")], c[7], options))
        elif body.startswith("permutation ["):
            layers.append(LayerSpec(index, "permutation", order=_ints(body[len("permutation ["):body.index("]")])))
        elif body == "actnorm":
            layers.append(LayerSpec(index, "actnorm"))
        elif body.startswith("invertible linear (LU), P = "):
            rest = body[len("invertible linear (LU), P = "):]
            order = None if rest.startswith("identity") else _ints(rest[1:rest.index("]")])
            layers.append(LayerSpec(index, "linear", order=order))
        else:
            raise ValueError(f"unknown layer in stack description: {body!r}")
    return StackSpec(dim, precision, context, count, layers, description)


# ----------------------------------------------------------------------------------------------------- activations

def _gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


_ACTIVATIONS = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "softplus": lambda x: F.softplus(x, beta=1.0, threshold=17.0),   # FlowGen: softplus(x) = x for x ≥ 17
    "elu": F.elu,
    "gelu": _gelu_tanh,                                               # the tanh form of docs/model.md §3
    "silu": F.silu,
}


# ----------------------------------------------------------------------------------------------------- layers

def _bisect(fn, y: torch.Tensor, start: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Solves fn(x) = y for an increasing fn, element-wise: grows a bracket geometrically, then bisects to the last ulp."""
    with torch.no_grad():
        x0 = torch.zeros_like(y) if start is None else start.detach().clone()
        lo, hi = x0 - 1.0, x0 + 1.0
        step = torch.ones_like(y)
        finite = torch.isfinite(y)
        for _ in range(ROOT_ITERATIONS):
            low_bad = (fn(lo) > y) & finite
            high_bad = (fn(hi) < y) & finite
            if not bool(low_bad.any()) and not bool(high_bad.any()):
                break
            step = step * 2.0
            lo = torch.where(low_bad, lo - step, lo)
            hi = torch.where(high_bad, hi + step, hi)
        for _ in range(ROOT_ITERATIONS):
            mid = lo + (hi - lo) * 0.5
            below = fn(mid) < y
            lo = torch.where(below, mid, lo)
            hi = torch.where(below, hi, mid)
        # the bracket is within an ulp: take the end whose image is closer
        x = torch.where((fn(hi) - y).abs() < (y - fn(lo)).abs(), hi, lo)
        return torch.where(finite, x, torch.full_like(x, float("nan")))


class Coupling(nn.Module):
    """A coupling layer: y_A = x_A, y_B = τ(x_B; conditioner(x_A, context))."""

    def __init__(self, spec: LayerSpec, context: int, dtype: torch.dtype):
        super().__init__()
        self.kind = spec.kind
        self.options = dict(spec.options)
        self.register_buffer("kept", torch.tensor(spec.kept, dtype=torch.long), persistent=False)
        self.register_buffer("transformed", torch.tensor(spec.transformed, dtype=torch.long), persistent=False)
        self.n_b = len(spec.transformed)
        self.activation = _ACTIVATIONS[spec.activation] if spec.activation else None
        w = spec.widths
        if w[0] != len(spec.kept) + context:
            raise ValueError(f"layer {spec.index}: conditioner input {w[0]} != |A| + context = {len(spec.kept) + context}")
        self.conditioner = nn.ModuleList(nn.Linear(w[k], w[k + 1], dtype=dtype) for k in range(len(w) - 1))
        self.p = w[-1] // self.n_b

    def theta(self, x: torch.Tensor, context: Optional[torch.Tensor]) -> torch.Tensor:
        h = x[:, self.kept]
        if context is not None and context.shape[1] > 0:
            h = torch.cat([h, context], dim=1)
        for k, linear in enumerate(self.conditioner):
            h = linear(h)
            if k < len(self.conditioner) - 1:
                h = self.activation(h)
        return h.view(-1, self.p, self.n_b)          # o[p·|B| + b] → [N, P, |B|]

    def forward(self, x, context=None):
        theta = self.theta(x, context)
        y_b, log_d = _TRANSFORMERS[self.kind][0](self, x[:, self.transformed], theta)
        y = x.clone()
        y[:, self.transformed] = y_b
        return y, log_d.sum(dim=1)

    def inverse(self, y, context=None):
        theta = self.theta(y, context)             # y_A = x_A
        x_b, log_d = _TRANSFORMERS[self.kind][1](self, y[:, self.transformed], theta)
        x = y.clone()
        x[:, self.transformed] = x_b
        return x, -log_d.sum(dim=1)


# --- transformers: (forward(self, x, θ) -> (y, log τ′(x)), inverse(self, y, θ) -> (x, log τ′(x)))

def _affine_scale(self, s):
    k = self.options.get("clamp", 0.0)
    return s if k == 0 else k * torch.tanh(s / k)


def _affine_forward(self, x, theta):
    s, t = _affine_scale(self, theta[:, 0]), theta[:, 1]
    return x * torch.exp(s) + t, s


def _affine_inverse(self, y, theta):
    s, t = _affine_scale(self, theta[:, 0]), theta[:, 1]
    return (y - t) * torch.exp(-s), s


def _additive_forward(self, x, theta):
    return x + theta[:, 0], torch.zeros_like(x)


def _additive_inverse(self, y, theta):
    return y - theta[:, 0], torch.zeros_like(y)


def _sos_parts(self, theta):
    r, k = int(self.options["degree"]), int(self.options["squares"])
    c = theta[:, 0]
    a = theta[:, 1:].reshape(theta.shape[0], k, r + 1, self.n_b)        # p = 1 + k(r+1) + l
    beta = []
    for n in range(2 * r + 1):
        terms = [a[:, :, l] * a[:, :, n - l] for l in range(max(0, n - r), min(n, r) + 1)]
        beta.append(torch.stack(terms, 0).sum(0).sum(1))                # Σ_k Σ_{l+m=n} a_kl a_km
    return r, c, a, beta


def _sos_tau(x, r, c, beta):
    total = c + EPS_SOS * x
    power = x
    for n in range(2 * r + 1):
        total = total + beta[n] * power / (n + 1)
        power = power * x
    return total


def _sos_log_derivative(x, r, a):
    powers = torch.stack([x ** l for l in range(r + 1)], 1)             # [N, r+1, |B|]
    inner = (a * powers.unsqueeze(1)).sum(2)                            # Σ_l a_kl x^l → [N, K, |B|]
    return torch.log(EPS_SOS + (inner * inner).sum(1))


def _sos_forward(self, x, theta):
    r, c, a, beta = _sos_parts(self, theta)
    return _sos_tau(x, r, c, beta), _sos_log_derivative(x, r, a)


def _sos_inverse(self, y, theta):
    r, c, a, beta = _sos_parts(self, theta)
    x = _bisect(lambda v: _sos_tau(v, r, c, beta), y)
    return x, _sos_log_derivative(x, r, a)


def _dsf_blocks(self, theta):
    n, blocks = int(self.options["units"]), int(self.options["blocks"])
    t = theta.reshape(theta.shape[0], blocks, 3, n, self.n_b)           # p = 3nq + (0 … 3n−1)
    return [(t[:, q, 0], t[:, q, 1], t[:, q, 2]) for q in range(blocks)]


def _dsf_block(v, a_raw, b, w_raw):
    a = F.softplus(a_raw)
    log_w = torch.log_softmax(w_raw, dim=1)
    u = a * v.unsqueeze(1) + b
    ls_pos, ls_neg = F.logsigmoid(u), F.logsigmoid(-u)
    log_h = torch.logsumexp(log_w + ls_pos, dim=1)
    log_1mh = torch.logsumexp(log_w + ls_neg, dim=1)
    out = log_h - log_1mh
    log_d = torch.logsumexp(log_w + torch.log(a) + ls_pos + ls_neg, dim=1) - log_h - log_1mh
    return out, log_d


def _dsf_forward(self, x, theta):
    total = torch.zeros_like(x)
    for a_raw, b, w_raw in _dsf_blocks(self, theta):
        x, log_d = _dsf_block(x, a_raw, b, w_raw)
        total = total + log_d
    return x, total


def _dsf_inverse(self, y, theta):
    blocks = _dsf_blocks(self, theta)
    for a_raw, b, w_raw in reversed(blocks):
        y = _bisect(lambda v: _dsf_block(v, a_raw, b, w_raw)[0], y)
    x = y
    _, log_d = _dsf_forward(self, x, theta)
    return x, log_d


def _spline_parts(self, theta):
    k, bound = int(self.options["bins"]), float(self.options["bound"])
    w_raw, h_raw, d_raw = theta[:, :k], theta[:, k:2 * k], theta[:, 2 * k:]
    widths = 2 * bound * (MIN_BIN + (1 - MIN_BIN * k) * torch.softmax(w_raw, dim=1))
    heights = 2 * bound * (MIN_BIN + (1 - MIN_BIN * k) * torch.softmax(h_raw, dim=1))
    inner = MIN_DERIVATIVE + F.softplus(d_raw, beta=1.0, threshold=17.0)
    one = torch.ones_like(widths[:, :1])
    deltas = torch.cat([one, inner, one], dim=1)                        # δ_0 … δ_K
    xk = torch.cat([-bound * one, -bound + torch.cumsum(widths, 1)[:, :-1], bound * one], dim=1)
    yk = torch.cat([-bound * one, -bound + torch.cumsum(heights, 1)[:, :-1], bound * one], dim=1)
    return k, bound, widths, heights, deltas, xk, yk


def _gather(t, index):
    return t.gather(1, index.unsqueeze(1)).squeeze(1)


def _spline_eval(x, k, widths, heights, deltas, xk, yk):
    """τ and log τ′ for x inside [−B, B] (bin k: x_k ≤ x < x_{k+1}, x = B in the last bin)."""
    bin_ = (x.unsqueeze(1) >= xk[:, 1:k]).sum(1)
    xs, ys = _gather(xk, bin_), _gather(yk, bin_)
    w, h = _gather(widths, bin_), _gather(heights, bin_)
    d0, d1 = _gather(deltas, bin_), _gather(deltas, bin_ + 1)
    s = h / w
    xi = (x - xs) / w
    t = xi * (1 - xi)
    den = s + (d1 + d0 - 2 * s) * t
    y = ys + h * (s * xi * xi + d0 * t) / den
    deriv = s * s * (d1 * xi * xi + 2 * s * t + d0 * (1 - xi) * (1 - xi)) / (den * den)
    return y, torch.log(deriv)


def _spline_forward(self, x, theta):
    n = theta.shape[0]
    xf = x.reshape(-1)                                                  # one row per (sample, coordinate): n·|B| + b
    k, bound, widths, heights, deltas, xk, yk = _spline_parts(self, theta.permute(0, 2, 1).reshape(n * self.n_b, -1))
    inside = (xf >= -bound) & (xf <= bound)
    xc = torch.where(inside, xf, torch.zeros_like(xf))
    y, log_d = _spline_eval(xc, k, widths, heights, deltas, xk, yk)
    y = torch.where(inside, y, xf)
    log_d = torch.where(inside, log_d, torch.zeros_like(log_d))
    return y.reshape(n, self.n_b), log_d.reshape(n, self.n_b)


def _spline_inverse(self, y, theta):
    n = theta.shape[0]
    yf = y.reshape(-1)
    k, bound, widths, heights, deltas, xk, yk = _spline_parts(self, theta.permute(0, 2, 1).reshape(n * self.n_b, -1))
    inside = (yf >= -bound) & (yf <= bound)
    yc = torch.where(inside, yf, torch.zeros_like(yf))
    bin_ = (yc.unsqueeze(1) >= yk[:, 1:k]).sum(1)
    xs, ys = _gather(xk, bin_), _gather(yk, bin_)
    w, h = _gather(widths, bin_), _gather(heights, bin_)
    d0, d1 = _gather(deltas, bin_), _gather(deltas, bin_ + 1)
    s = h / w
    dy = yc - ys
    delta = d1 + d0 - 2 * s
    a = h * (s - d0) + dy * delta
    b = h * d0 - dy * delta
    c = -s * dy
    xi = 2 * c / (-b - torch.sqrt(b * b - 4 * a * c))
    x = xs + xi * w
    _, log_d = _spline_eval(x, k, widths, heights, deltas, xk, yk)
    x = torch.where(inside, x, yf)
    log_d = torch.where(inside, log_d, torch.zeros_like(log_d))
    return x.reshape(n, self.n_b), log_d.reshape(n, self.n_b)


_TRANSFORMERS = {
    "affine": (_affine_forward, _affine_inverse),
    "additive": (_additive_forward, _additive_inverse),
    "sos": (_sos_forward, _sos_inverse),
    "dsf": (_dsf_forward, _dsf_inverse),
    "spline": (_spline_forward, _spline_inverse),
}


class Permutation(nn.Module):
    """y_i = x_{π(i)}."""

    def __init__(self, order: List[int]):
        super().__init__()
        self.register_buffer("order", torch.tensor(order, dtype=torch.long), persistent=False)
        self.register_buffer("inverse_order", torch.argsort(torch.tensor(order, dtype=torch.long)), persistent=False)

    def forward(self, x, context=None):
        return x[:, self.order], torch.zeros(x.shape[0], dtype=x.dtype)

    def inverse(self, y, context=None):
        return y[:, self.inverse_order], torch.zeros(y.shape[0], dtype=y.dtype)


class ActNorm(nn.Module):
    """y = x·exp(ℓ) + b (data-dependent initialisation is done in FlowGen; here the parameters are loaded)."""

    def __init__(self, dim: int, dtype: torch.dtype):
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(dim, dtype=dtype))
        self.bias = nn.Parameter(torch.zeros(dim, dtype=dtype))

    def forward(self, x, context=None):
        return x * torch.exp(self.log_scale) + self.bias, self.log_scale.sum().expand(x.shape[0])

    def inverse(self, y, context=None):
        return (y - self.bias) * torch.exp(-self.log_scale), (-self.log_scale.sum()).expand(y.shape[0])


class InvertibleLinear(nn.Module):
    """Glow's LU layer: W = P·L·(U + diag(exp ℓ)), y = W·x + bias, with packed strict triangles (docs/model.md §4)."""

    def __init__(self, dim: int, order: Optional[List[int]], dtype: torch.dtype):
        super().__init__()
        tri = dim * (dim - 1) // 2
        self.dim = dim
        self.lower = nn.Parameter(torch.zeros(tri, dtype=dtype))
        self.upper = nn.Parameter(torch.zeros(tri, dtype=dtype))
        self.log_diag = nn.Parameter(torch.zeros(dim, dtype=dtype))
        self.bias = nn.Parameter(torch.zeros(dim, dtype=dtype))
        order = list(range(dim)) if order is None else order
        self.register_buffer("order", torch.tensor(order, dtype=torch.long), persistent=False)
        self.register_buffer("inverse_order", torch.argsort(torch.tensor(order, dtype=torch.long)), persistent=False)
        li = [(i, j) for i in range(1, dim) for j in range(i)]             # row-major strict lower
        ui = [(i, j) for i in range(dim - 1) for j in range(i + 1, dim)]   # row-major strict upper
        self.register_buffer("lower_index", torch.tensor(li, dtype=torch.long).reshape(-1, 2), persistent=False)
        self.register_buffer("upper_index", torch.tensor(ui, dtype=torch.long).reshape(-1, 2), persistent=False)

    def matrices(self):
        d = self.dim
        lower = torch.zeros(d, d, dtype=self.lower.dtype)
        upper = torch.zeros(d, d, dtype=self.upper.dtype)
        if self.lower.numel():
            lower = lower.index_put((self.lower_index[:, 0], self.lower_index[:, 1]), self.lower)
            upper = upper.index_put((self.upper_index[:, 0], self.upper_index[:, 1]), self.upper)
        eye = torch.eye(d, dtype=self.lower.dtype)
        return lower + eye, upper + torch.diag(torch.exp(self.log_diag))

    def forward(self, x, context=None):
        l, u = self.matrices()
        v = x @ u.T                      # v_i = exp(ℓ_i)x_i + Σ_{j>i} U_ij x_j
        w = v @ l.T                      # w_i = v_i + Σ_{j<i} L_ij v_j
        return w[:, self.order] + self.bias, self.log_diag.sum().expand(x.shape[0])

    def inverse(self, y, context=None):
        l, u = self.matrices()
        w = (y - self.bias)[:, self.inverse_order]
        v = torch.linalg.solve_triangular(l, w.T, upper=False, unitriangular=True)
        x = torch.linalg.solve_triangular(u, v, upper=True).T
        return x, (-self.log_diag.sum()).expand(y.shape[0])


# ----------------------------------------------------------------------------------------------------- the flow

class FlowGenFlow(nn.Module):
    """A FlowGen flow in PyTorch. ``forward(x, context)`` returns (z, log|det ∂z/∂x|)."""

    def __init__(self, description: str, dtype: Optional[torch.dtype] = None):
        super().__init__()
        self.spec = parse_stack(description)
        self.description = description
        self.dim, self.context_dim = self.spec.dim, self.spec.context
        dtype = dtype or (torch.float32 if self.spec.precision == "float" else torch.float64)
        layers: List[nn.Module] = []
        for l in self.spec.layers:
            if l.kind == "permutation":
                layers.append(Permutation(l.order))
            elif l.kind == "actnorm":
                layers.append(ActNorm(self.dim, dtype))
            elif l.kind == "linear":
                layers.append(InvertibleLinear(self.dim, l.order, dtype))
            else:
                layers.append(Coupling(l, self.context_dim, dtype))
        self.layers = nn.ModuleList(layers)
        count = sum(p.numel() for p in self.parameters())
        if count != self.spec.parameter_count:
            raise ValueError(f"built {count} parameters, the description announces {self.spec.parameter_count}")

    def forward(self, x: torch.Tensor, context: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        log_det = torch.zeros(x.shape[0], dtype=x.dtype)
        for layer in self.layers:
            x, ld = layer(x, context)
            log_det = log_det + ld
        return x, log_det

    def inverse(self, z: torch.Tensor, context: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """x = f⁻¹(z) and log|det ∂x/∂z|."""
        log_det = torch.zeros(z.shape[0], dtype=z.dtype)
        for layer in reversed(self.layers):
            z, ld = layer.inverse(z, context)
            log_det = log_det + ld
        return z, log_det

    def log_prob(self, x: torch.Tensor, context: Optional[torch.Tensor] = None) -> torch.Tensor:
        z, log_det = self.forward(x, context)
        return -0.5 * (z * z).sum(1) - 0.5 * self.dim * math.log(2 * math.pi) + log_det

    # --- safetensors

    @classmethod
    def from_safetensors(cls, path: str, dtype: Optional[torch.dtype] = None) -> "FlowGenFlow":
        """Builds the flow from the file's ``flowgen.stack`` metadata and loads its weights."""
        tensors, metadata = read_safetensors(path)
        if "flowgen.stack" not in metadata:
            raise ValueError(f"{path} has no flowgen.stack metadata; build FlowGenFlow(description) and use load_safetensors")
        flow = cls(metadata["flowgen.stack"], dtype)
        flow.load_state_dict({k: v.to(flow_dtype(flow)) for k, v in tensors.items()}, strict=True)
        return flow

    def load_safetensors(self, path: str) -> None:
        tensors, metadata = read_safetensors(path)
        stack = metadata.get("flowgen.stack")
        if stack is not None and stack.rstrip("\n") != self.description.rstrip("\n"):
            raise ValueError(f"{path} holds another stack:\n{stack}")
        self.load_state_dict({k: v.to(flow_dtype(self)) for k, v in tensors.items()}, strict=True)

    def save_safetensors(self, path: str, model_name: str = "torch") -> None:
        """Writes the weights with FlowGen's metadata, so ``FlowSafetensors.Load`` checks the architecture."""
        metadata = {"format": "pt", "flowgen.model": model_name, "flowgen.stack": self.description,
                    "flowgen.data_initialized": "true"}
        write_safetensors(path, self.state_dict(), metadata)


def flow_dtype(flow: nn.Module) -> torch.dtype:
    return next(flow.parameters()).dtype


_DTYPES = {"F32": torch.float32, "F64": torch.float64}
_NAMES = {torch.float32: "F32", torch.float64: "F64"}


def read_safetensors(path: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError("safetensors header length beyond the file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    data = raw[8 + n:]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if end > begin else torch.zeros(0, dtype=dtype)
        tensors[name] = t.reshape(info["shape"]).clone()
    return tensors, metadata


def write_safetensors(path: str, tensors: Dict[str, torch.Tensor], metadata: Optional[Dict[str, str]] = None) -> None:
    import os
    header: Dict[str, object] = {}
    if metadata:
        header["__metadata__"] = metadata
    blobs, offset = [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        blob = t.numpy().astype("<f4" if t.dtype == torch.float32 else "<f8", copy=False).tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)
