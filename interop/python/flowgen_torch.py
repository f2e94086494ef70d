"""PyTorch twin of a FlowGen flow.

Builds, from a FlowGen ``StackSpec`` (the one-line JSON every generated model exposes, docs/model.md §8, and that FlowGen
writes into the ``flowgen.spec`` metadata of its safetensors files), an ``nn.Module`` with the same architecture, the same
mathematics (docs/model.md) and the same parameter names, so that

    flow = FlowGenFlow.from_safetensors("my-flow.safetensors")   # weights trained in C#
    flow.log_prob(x); z, log_det = flow(x); x, log_det = flow.inverse(z)

and the reverse direction (train here, ``flow.save_safetensors(path)``, then ``FlowSafetensors.Load(flow, path)`` in C#)
both work. Every layer kind is supported: affine, additive, sum-of-squares, deep sigmoidal and rational-quadratic spline
couplings, permutations, ActNorm, LU invertible linear layers and context (conditional flows). The human-readable
``StackDescription`` (``flowgen.stack``) is carried along for people but never parsed.

State-dict keys are FlowGen's tensor names (``layers.{l}.conditioner.{k}.weight`` [out, in] as ``nn.Linear``,
``layers.{l}.log_scale``, ``layers.{l}.lower`` …) in FlowGen's parameter order (``parameter_tensors()`` gives the
``ParameterTensors`` names, offsets and shapes); ``state_dict()`` holds parameters only (permutations are non-persistent
buffers), so ``safetensors.torch.save_file(flow.state_dict(), path)`` would also produce a file FlowGen loads. This module
reads and writes safetensors itself and needs nothing but torch (and numpy, which torch depends on).

Precision: a ``float32`` stack builds a float32 module, a ``float64`` stack a float64 one (``dtype=`` overrides).
"""

from __future__ import annotations

import json
import math
import struct
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["FlowGenFlow", "parse_spec", "parse_stack", "stack_hash", "read_safetensors", "write_safetensors", "StackSpec",
           "LayerSpec", "SCHEMA", "SCHEMA_VERSION"]

EPS_SOS = 1e-3          # sum-of-squares ε
MIN_BIN = 1e-3          # spline minimum bin width/height
MIN_DERIVATIVE = 1e-3   # spline δ_min
# The numerical inverses (sum-of-squares, deep sigmoidal): FlowGen's safeguarded Newton–bisection, docs/model.md §7, with
# its constants (src/FlowGen.Runtime/Kernels/MonotoneInverse.cs).
ROOT_TOLERANCE = {torch.float32: 2.4e-7, torch.float64: 4.5e-16}   # ε: the bracket closes below 2ε·(|t| + 1)
ROOT_ITERATIONS = {torch.float32: 160, torch.float64: 1100}       # enough for pure bisection from the widest finite bracket
BRACKET_GROWTHS = 1100                                             # doublings of the bracket: enough to reach the largest finite numbers


# ----------------------------------------------------------------------------------------------------- the specification

SCHEMA = "flowgen.stack"      # docs/model.md §8
SCHEMA_VERSION = 2            # the newest version this module reads (2: sum_of_squares gained "bound")

_TRANSFORMER_OPTIONS = {      # transformer -> (its option fields in spec order, parameters per transformed coordinate)
    "affine": (("clamp",), lambda o: 2),
    "additive": ((), lambda o: 1),
    "sum_of_squares": (("degree", "squares", "bound"), lambda o: 1 + int(o["squares"]) * (int(o["degree"]) + 1)),
    "deep_sigmoidal": (("units", "blocks"), lambda o: 3 * int(o["units"]) * int(o["blocks"])),
    "spline": (("bins", "bound"), lambda o: 3 * int(o["bins"]) - 1),
}
_LAYER_FIELDS = {             # layer kind -> its fields between "kind" and "parameters" (coupling: plus the transformer's)
    "coupling": ("transformer", "kept", "transformed", "hidden", "activation"),
    "permutation": ("order",),
    "actnorm": (),
    "invertible_linear": ("permutation",),
}
_ACTIVATION_NAMES = ("tanh", "relu", "softplus", "elu", "gelu", "silu")


@dataclass
class LayerSpec:
    """One layer of a stack specification (docs/model.md §8), in stack order."""
    index: int
    kind: str                                   # coupling, permutation, actnorm, invertible_linear
    parameters: int                             # its parameter count
    transformer: Optional[str] = None           # coupling: affine, additive, sum_of_squares, deep_sigmoidal, spline
    options: Dict[str, float] = field(default_factory=dict)   # the transformer's options (clamp, degree, squares, …)
    kept: List[int] = field(default_factory=list)
    transformed: List[int] = field(default_factory=list)
    hidden: List[int] = field(default_factory=list)
    activation: Optional[str] = None
    widths: List[int] = field(default_factory=list)   # conditioner: |A| + context -> hidden… -> P·|B|
    order: Optional[List[int]] = None                  # permutation π, or the LU layer's P


@dataclass
class StackSpec:
    """A parsed ``StackSpec``; ``spec`` keeps the JSON text itself (written back verbatim, hashed by ``stack_hash``)."""
    dtype: str                                  # float32 or float64
    dim: int
    context: int
    parameter_count: int
    layers: List[LayerSpec]
    spec: str
    base: Optional[Dict[str, object]] = None    # None: the standard normal; else the "base" object (docs/model.md §11)

    @property
    def precision(self) -> str:
        return "float" if self.dtype == "float32" else "double"


def stack_hash(spec: str) -> str:
    """FlowGen's ``StackHash`` of a stack specification: 64-bit FNV-1a of its UTF-8 bytes, as 16 upper-case hex digits."""
    h = 0xCBF29CE484222325
    for b in spec.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016X}"


def _fail(message: str):
    raise ValueError(f"invalid FlowGen stack specification: {message}")


def _int(value, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        _fail(f"{where} must be an integer ≥ {minimum}, not {value!r}")
    return value


def _indices(value, where: str, dim: int) -> List[int]:
    if not isinstance(value, list):
        _fail(f"{where} must be a list of coordinate indices, not {value!r}")
    for v in value:
        _int(v, f"{where} entry", 0)
        if v >= dim:
            _fail(f"{where} entry {v} is not below dim {dim}")
    return list(value)


def _permutation(value, where: str, dim: int) -> List[int]:
    order = _indices(value, where, dim)
    if sorted(order) != list(range(dim)):
        _fail(f"{where} {order} is not a permutation of 0 … {dim - 1}")
    return order


def _fields(obj, expected: Tuple[str, ...], where: str) -> None:
    keys = tuple(obj.keys())
    if keys != expected:
        missing = [k for k in expected if k not in obj]
        extra = [k for k in keys if k not in expected]
        _fail(f"{where} has fields {list(keys)}; version {SCHEMA_VERSION} has {list(expected)}"
              + (f" (missing {missing})" if missing else "") + (f" (unknown {extra})" if extra else ""))


def parse_spec(spec: str) -> StackSpec:
    """Parses a FlowGen ``StackSpec`` (docs/model.md §8: the JSON of the generated constant, of the ``flowgen.spec``
    safetensors metadata and of checkpoints). Refuses another schema, a version newer than ``SCHEMA_VERSION``, and any
    field, kind or count that version 1 does not define."""
    if not isinstance(spec, str):
        raise TypeError(f"a stack specification is a JSON string, not {type(spec).__name__}")
    try:
        root = json.loads(spec)
    except json.JSONDecodeError as e:
        hint = " (this looks like a StackDescription, which is for people: pass the model's StackSpec)" \
            if spec.lstrip().startswith("Dim ") else ""
        raise ValueError(f"not a FlowGen stack specification: {e}{hint}") from None
    if not isinstance(root, dict):
        _fail("the root is not a JSON object")
    if root.get("schema") != SCHEMA:
        raise ValueError(f"not a FlowGen stack specification: schema {root.get('schema')!r}, expected {SCHEMA!r}")
    version = root.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        _fail(f"version {version!r} is not an integer")
    if version > SCHEMA_VERSION:
        raise ValueError(f"FlowGen stack specification version {version} is newer than this flowgen_torch, which reads "
                         f"version {SCHEMA_VERSION} at most: update interop/python/flowgen_torch.py")
    if version < 1:
        _fail(f"version {version} does not exist (versions start at 1)")
    _fields(root, ("schema", "version", "dtype", "dim", "context", "parameters", "base", "layers"), "the specification")
    if root["dtype"] not in ("float32", "float64"):
        _fail(f"dtype {root['dtype']!r} is neither float32 nor float64")
    dim, context = _int(root["dim"], "dim", 1), _int(root["context"], "context", 0)
    total = _int(root["parameters"], "parameters", 0)
    base = _parse_base(root["base"], dim)
    if not isinstance(root["layers"], list):
        _fail("layers is not a list")
    layers: List[LayerSpec] = []
    for index, obj in enumerate(root["layers"]):
        where = f"layer {index}"
        if not isinstance(obj, dict) or obj.get("kind") not in _LAYER_FIELDS:
            _fail(f"{where} has an unknown kind {obj.get('kind') if isinstance(obj, dict) else obj!r}; "
                  f"version {SCHEMA_VERSION} knows {', '.join(_LAYER_FIELDS)}")
        kind = obj["kind"]
        names = _LAYER_FIELDS[kind]
        if kind == "coupling":
            transformer = obj.get("transformer")
            if transformer not in _TRANSFORMER_OPTIONS:
                _fail(f"{where} has an unknown transformer {transformer!r}; version {SCHEMA_VERSION} knows "
                      f"{', '.join(_TRANSFORMER_OPTIONS)}")
            if transformer == "sum_of_squares" and version < 2:
                _fail(f"{where}: a version-1 sum_of_squares coupling is the unbounded polynomial of FlowGen before "
                      f"issue 18, which this module no longer rebuilds (version 2 has the bounded form with \"bound\")")
            option_names, per_coordinate = _TRANSFORMER_OPTIONS[transformer]
            names = ("transformer",) + option_names + names[1:]
        _fields(obj, ("kind",) + names + ("parameters",), where)
        layer = LayerSpec(index, kind, _int(obj["parameters"], f"{where} parameters", 0))
        if kind == "coupling":
            layer.transformer = transformer
            for name in option_names:
                value = obj[name]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    _fail(f"{where} {name} {value!r} is not a finite number")
                layer.options[name] = value
            for name in ("degree", "squares", "units", "blocks", "bins"):
                if name in layer.options:
                    _int(layer.options[name], f"{where} {name}", 1)
            layer.kept = _indices(obj["kept"], f"{where} kept", dim)
            layer.transformed = _indices(obj["transformed"], f"{where} transformed", dim)
            if sorted(layer.kept + layer.transformed) != list(range(dim)) or layer.kept != sorted(layer.kept) \
                    or layer.transformed != sorted(layer.transformed) or not layer.transformed:
                _fail(f"{where}: kept {layer.kept} and transformed {layer.transformed} are not ascending and "
                      f"complementary in 0 … {dim - 1} (with at least one transformed coordinate)")
            if not isinstance(obj["hidden"], list):
                _fail(f"{where} hidden is not a list")
            layer.hidden = [_int(w, f"{where} hidden width", 1) for w in obj["hidden"]]
            if obj["activation"] not in _ACTIVATION_NAMES:
                _fail(f"{where} has an unknown activation {obj['activation']!r}")
            layer.activation = obj["activation"]
            layer.widths = [len(layer.kept) + context] + layer.hidden + [per_coordinate(layer.options) * len(layer.transformed)]
            count = sum(a * b + b for a, b in zip(layer.widths, layer.widths[1:]))
        elif kind == "permutation":
            layer.order, count = _permutation(obj["order"], f"{where} order", dim), 0
        elif kind == "actnorm":
            count = 2 * dim
        else:
            layer.order = _permutation(obj["permutation"], f"{where} permutation", dim)
            count = dim * (dim - 1) + 2 * dim
        if layer.parameters != count:
            _fail(f"{where} ({kind}) announces {layer.parameters} parameters; its fields make {count}")
        layers.append(layer)
    held = sum(l.parameters for l in layers) + (base["parameters"] if base else 0)
    if held != total:
        _fail(f"the layers and the base hold {held} parameters; the specification announces {total}")
    return StackSpec(root["dtype"], dim, context, total, layers, spec, base)


_BASE_FIELDS = {
    "diagonal_gaussian": (),
    "gaussian_mixture": ("components", "flow_gmm", "learnable_means", "learnable_scales", "mean_spread", "mean_separation"),
    "student_t": ("degrees_of_freedom", "learnable"),
}


def _parse_base(obj, dim: int) -> Optional[Dict[str, object]]:
    """The "base" object (docs/model.md §11): None for the standard normal, else its fields with the parameter count checked."""
    if obj == {"kind": "standard_normal"}:
        return None
    if not isinstance(obj, dict) or obj.get("kind") not in _BASE_FIELDS:
        _fail(f"base {obj!r} has an unknown kind; version {SCHEMA_VERSION} knows standard_normal, {', '.join(_BASE_FIELDS)}")
    kind = obj["kind"]
    fields = _BASE_FIELDS[kind]
    if kind == "gaussian_mixture" and "mean_separation" not in obj:
        fields = fields[:-1]  # written before the mean placement gained "mean_separation" (initialisation only)
    _fields(obj, ("kind",) + fields + ("parameters",), "the base")
    base = dict(obj)
    if kind == "diagonal_gaussian":
        count = 2 * dim
    elif kind == "gaussian_mixture":
        k = _int(obj["components"], "base components", 1)
        for name in ("flow_gmm", "learnable_means", "learnable_scales"):
            if not isinstance(obj[name], bool):
                _fail(f"base {name} {obj[name]!r} is not a boolean")
        count = (0 if obj["flow_gmm"] else k) + k * dim + (1 if obj["flow_gmm"] else k * dim)
    else:
        nu = obj["degrees_of_freedom"]
        if isinstance(nu, bool) or not isinstance(nu, (int, float)) or not nu > 0:
            _fail(f"base degrees_of_freedom {nu!r} is not a positive number")
        count = dim
    if _int(obj["parameters"], "base parameters", 0) != count:
        _fail(f"the base ({kind}) announces {obj['parameters']} parameters; its fields make {count}")
    return base


def parse_stack(spec: str) -> StackSpec:
    """Deprecated alias of :func:`parse_spec` (it parsed the human-readable ``StackDescription``, which is no longer read;
    pass the model's ``StackSpec``)."""
    warnings.warn("parse_stack is deprecated: use parse_spec with the model's StackSpec", DeprecationWarning, stacklevel=2)
    return parse_spec(spec)


# ----------------------------------------------------------------------------------------------------- activations

def _gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


def _softplus(x: torch.Tensor) -> torch.Tensor:
    """ln(1 + eˣ) for every x, as FlowGen computes it (max(x, 0) + log1p(e^−|x|), docs/model.md §3). PyTorch returns x above
    ``threshold``; 40 is where e^−x is below a rounding error of x in double (FlowGen's double softplus is x from 37 on,
    its float one from 17 on), so no precision sees the cut."""
    return F.softplus(x, beta=1.0, threshold=40.0)


_ACTIVATIONS = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "softplus": _softplus,
    "elu": F.elu,
    "gelu": _gelu_tanh,                                               # the tanh form of docs/model.md §3
    "silu": F.silu,
}


# ----------------------------------------------------------------------------------------------------- layers

def _solve(fn, y: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
    """x with τ(x) = y for a strictly increasing τ, element-wise: docs/model.md §7, the safeguarded Newton–bisection of
    FlowGen (src/FlowGen.Runtime/Kernels/MonotoneInverse.cs), with its constants, vectorised over the batch.

    ``y`` and ``start`` are [n, …] (one row per sample); ``fn(v, rows)`` returns (τ(v), τ′(v)) for the rows ``rows`` of the
    batch (a LongTensor of row indices, or None for every row), v being [len(rows), …].

    From ``start`` (0 where it is not finite) a bracket [lo, hi] = [t₀ − s, t₀ + s] is grown, doubling s on each side that
    does not yet satisfy τ(lo) ≤ y ≤ τ(hi) (at most ``BRACKET_GROWTHS`` times). Then each iteration evaluates r = τ(t) − y,
    keeps the half of the bracket holding the root, and takes the Newton point t − r/τ′(t) when it lies strictly inside the
    bracket and |r| at least halved since the previous iteration, the midpoint otherwise (a Newton step shorter than
    ε·(|t| + 1) is stretched to it, so that the bracket closes). An element stops once its bracket is narrower than
    2ε·(|t| + 1) (ε = ``ROOT_TOLERANCE``: 2.4e-7 float, 4.5e-16 double) or r = 0; the loop ends when every element has
    stopped, after at most ``ROOT_ITERATIONS`` (160 float, 1100 double). A non-finite y, a bracket that cannot be found or
    an element still open after the limit gives NaN, as in FlowGen.

    Cost: each growth evaluates τ at lo and at hi, each iteration τ and τ′ at t, but only on the rows that still have an
    open element (the others are dropped from the working set; stopped elements of a kept row are frozen with
    ``torch.where``). On the benchmark stacks (bench/peers/pytorch/kinds.py) that is about 10 growths and 20 iterations
    for the slowest element of a sum-of-squares layer, 1 growth and 25 iterations for a deep-sigmoidal block, with all
    but a few per cent of the rows done after 5 iterations."""
    with torch.no_grad():
        n = y.shape[0]
        eps = ROOT_TOLERANCE[y.dtype]

        def evaluate(v, rows):
            return fn(v, None if rows.numel() == n else rows)

        finite = torch.isfinite(y)
        start = start.detach()
        t = torch.where(torch.isfinite(start), start, torch.zeros_like(start))
        step = torch.ones_like(y)
        lo, hi = t - step, t + step
        every = torch.arange(n)
        rows = every
        # τ(lo) ≤ y ≤ τ(hi) at the element's last evaluation (what FlowGen evaluates once more after the growth)
        bracketed = torch.zeros_like(finite)
        for growth in range(BRACKET_GROWTHS + 1):          # the last pass only evaluates the final bracket
            low, high, target = lo[rows], hi[rows], y[rows]
            value_low, value_high = evaluate(low, rows)[0], evaluate(high, rows)[0]
            bracketed[rows] = finite[rows] & (value_low <= target) & (value_high >= target)
            low_bad, high_bad = value_low > target, value_high < target
            growing = finite[rows] & (low_bad | high_bad)
            if not bool(growing.any()) or growth == BRACKET_GROWTHS:
                break
            s = step[rows] * 2
            step[rows] = s
            lo[rows] = torch.where(low_bad, low - s, low)
            hi[rows] = torch.where(high_bad, high + s, high)
            rows = rows[growing.reshape(growing.shape[0], -1).any(1)]
        t = torch.minimum(torch.maximum(t, lo), hi)
        previous = torch.full_like(y, math.inf)
        active = bracketed.clone()
        rows = every[active.reshape(n, -1).any(1)]
        for _ in range(ROOT_ITERATIONS[y.dtype]):
            if rows.numel() == 0:
                break
            point, low, high, target = t[rows], lo[rows], hi[rows], y[rows]
            value, slope = evaluate(point, rows)
            residual = value - target
            below = residual < 0
            low = torch.where(below, point, low)
            high = torch.where(below, high, point)
            tolerance = eps * (point.abs() + 1)
            delta = -residual / slope
            delta = torch.where(delta.abs() < tolerance, torch.where(below, tolerance, -tolerance), delta)
            newton = point + delta
            magnitude = residual.abs()
            use_newton = (newton > low) & (newton < high) & (magnitude <= 0.5 * previous[rows])
            following = torch.where(use_newton, newton, 0.5 * low + 0.5 * high)
            closed = (high - low <= tolerance + tolerance) | (magnitude <= 0)
            still = active[rows] & ~closed
            t[rows] = torch.where(still, following, point)
            lo[rows], hi[rows], previous[rows], active[rows] = low, high, magnitude, still
            rows = rows[still.reshape(still.shape[0], -1).any(1)]
        x = torch.where(bracketed & ~active, t, torch.full_like(t, math.nan))
    if not torch.is_grad_enabled():
        return x
    # Differentiable through the implicit function theorem: x + (c − c.detach()) with c = −(τ(x) − y)/τ′(x) has the
    # root's value and the gradient of the exact root, ∂x/∂y = 1/τ′(x), ∂x/∂θ = −(∂τ/∂θ)/τ′(x).
    xd = x.detach().requires_grad_(True)
    fx = fn(xd, None)[0]
    if not fx.requires_grad:
        return x
    (slope,) = torch.autograd.grad(fx.sum(), xd, retain_graph=True)
    correction = -(fx - y) / slope.detach()
    return x + (correction - correction.detach())


class Coupling(nn.Module):
    """A coupling layer: y_A = x_A, y_B = τ(x_B; conditioner(x_A, context))."""

    def __init__(self, spec: LayerSpec, context: int, dtype: torch.dtype):
        super().__init__()
        self.kind = spec.transformer
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


def _sos_log_derivative(x, r, a, bound):
    u = x.clamp(-bound, bound) / bound                                  # the polynomials see u = clamp(x, −B, B)/B
    powers = torch.stack([u ** l for l in range(r + 1)], 1)             # [N, r+1, |B|]
    inner = (a * powers.unsqueeze(1)).sum(2)                            # Σ_l a_kl u^l → [N, K, |B|]
    return torch.log(EPS_SOS + (inner * inner).sum(1))


def _sos_tau(x, r, c, a, beta, bound, log_derivative=None):
    # inside [−B, B]: c + εx + B·Σ_n β_n u^(n+1)/(n+1); beyond: the tangent at ±B (τ′ is constant there)
    if log_derivative is None:
        log_derivative = _sos_log_derivative(x, r, a, bound)
    xc = x.clamp(-bound, bound)
    u = xc / bound
    total = c + EPS_SOS * xc
    power = u
    for n in range(2 * r + 1):
        total = total + bound * beta[n] * power / (n + 1)
        power = power * u
    return total + (x - xc) * torch.exp(log_derivative)


def _sos_forward(self, x, theta):
    r, c, a, beta = _sos_parts(self, theta)
    bound = float(self.options["bound"])
    return _sos_tau(x, r, c, a, beta, bound), _sos_log_derivative(x, r, a, bound)


def _sos_inverse(self, y, theta):
    r, c, a, beta = _sos_parts(self, theta)
    bound = float(self.options["bound"])

    def tau(v, rows):
        cr, ar, br = (c, a, beta) if rows is None else (c[rows], a[rows], [b[rows] for b in beta])
        log_d = _sos_log_derivative(v, r, ar, bound)
        return _sos_tau(v, r, cr, ar, br, bound, log_d), torch.exp(log_d)

    # FlowGen's start point (docs/model.md §7): the root of the tangent at 0, (y − c)/τ′(0), τ′(0) = ε + Σ_k a_k0²
    x = _solve(tau, y, (y - c) / (EPS_SOS + (a[:, :, 0] * a[:, :, 0]).sum(1)))
    return x, _sos_log_derivative(x, r, a, bound)


def _dsf_blocks(self, theta):
    n, blocks = int(self.options["units"]), int(self.options["blocks"])
    t = theta.reshape(theta.shape[0], blocks, 3, n, self.n_b)           # p = 3nq + (0 … 3n−1)
    return [(t[:, q, 0], t[:, q, 1], t[:, q, 2]) for q in range(blocks)]


def _dsf_prepare(a_raw, w_raw):
    """The quantities of one block that do not depend on v: a = softplus(ã), log w = log_softmax(w̃), log a."""
    a = _softplus(a_raw)
    return a, torch.log_softmax(w_raw, dim=1), torch.log(a)


def _dsf_map(v, a, b, log_w, log_a):
    u = a * v.unsqueeze(1) + b
    ls_pos, ls_neg = F.logsigmoid(u), F.logsigmoid(-u)
    log_h = torch.logsumexp(log_w + ls_pos, dim=1)
    log_1mh = torch.logsumexp(log_w + ls_neg, dim=1)
    out = log_h - log_1mh
    log_d = torch.logsumexp(log_w + log_a + ls_pos + ls_neg, dim=1) - log_h - log_1mh
    return out, log_d


def _dsf_block(v, a_raw, b, w_raw):
    a, log_w, log_a = _dsf_prepare(a_raw, w_raw)
    return _dsf_map(v, a, b, log_w, log_a)


def _dsf_forward(self, x, theta):
    total = torch.zeros_like(x)
    for a_raw, b, w_raw in _dsf_blocks(self, theta):
        x, log_d = _dsf_block(x, a_raw, b, w_raw)
        total = total + log_d
    return x, total


def _dsf_inverse(self, y, theta):
    blocks = _dsf_blocks(self, theta)
    for a_raw, b, w_raw in reversed(blocks):
        prepared = (b,) + _dsf_prepare(a_raw, w_raw)

        def tau(v, rows, prepared=prepared):
            b_, a, log_w, log_a = prepared if rows is None else [p[rows] for p in prepared]
            out, log_d = _dsf_map(v, a, b_, log_w, log_a)
            return out, torch.exp(log_d)

        y = _solve(tau, y, y)                                            # FlowGen starts the DSF search at y
    x = y
    _, log_d = _dsf_forward(self, x, theta)
    return x, log_d


def _spline_parts(self, theta):
    k, bound = int(self.options["bins"]), float(self.options["bound"])
    w_raw, h_raw, d_raw = theta[:, :k], theta[:, k:2 * k], theta[:, 2 * k:]
    widths = 2 * bound * (MIN_BIN + (1 - MIN_BIN * k) * torch.softmax(w_raw, dim=1))
    heights = 2 * bound * (MIN_BIN + (1 - MIN_BIN * k) * torch.softmax(h_raw, dim=1))
    inner = MIN_DERIVATIVE + _softplus(d_raw)
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
    "sum_of_squares": (_sos_forward, _sos_inverse),
    "deep_sigmoidal": (_dsf_forward, _dsf_inverse),
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


# ----------------------------------------------------------------------------------------------------- bases

_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)


class DiagonalGaussianBase(nn.Module):
    """N(μ, diag σ²), σ = exp(log_scales) (docs/model.md §11.2)."""

    def __init__(self, dim: int, dtype: torch.dtype):
        super().__init__()
        self.means = nn.Parameter(torch.zeros(dim, dtype=dtype))
        self.log_scales = nn.Parameter(torch.zeros(dim, dtype=dtype))

    def log_prob(self, z):
        u = (z - self.means) * torch.exp(-self.log_scales)
        return (-0.5 * u * u - self.log_scales - _HALF_LOG_TWO_PI).sum(1)

    def sample(self, n: int, generator=None):
        eps = torch.randn(n, self.means.shape[0], dtype=self.means.dtype, generator=generator)
        return self.means + torch.exp(self.log_scales) * eps


class GaussianMixtureBase(nn.Module):
    """Σ_c w_c N(μ_c, diag σ_c²), w = softmax(logits); FlowGMM: w_c = 1/K, one shared log-scale (docs/model.md §11.3)."""

    def __init__(self, dim: int, components: int, flow_gmm: bool, dtype: torch.dtype):
        super().__init__()
        self.components, self.flow_gmm = components, flow_gmm
        if not flow_gmm:
            self.logits = nn.Parameter(torch.zeros(components, dtype=dtype))
        self.means = nn.Parameter(torch.zeros(components, dim, dtype=dtype))
        self.log_scales = nn.Parameter(torch.zeros(1 if flow_gmm else components, *(() if flow_gmm else (dim,)), dtype=dtype))

    def log_weights(self):
        if self.flow_gmm:
            return torch.full((self.components,), -math.log(self.components), dtype=self.means.dtype)
        return torch.log_softmax(self.logits, 0)

    def component_log_joints(self, z):
        """[n, K]: log(w_c·N(z; μ_c, diag σ_c²))."""
        log_scales = self.log_scales.expand(self.components, z.shape[1]) if self.flow_gmm else self.log_scales
        u = (z[:, None, :] - self.means[None]) * torch.exp(-log_scales)[None]
        return self.log_weights()[None] + (-0.5 * u * u - log_scales[None] - _HALF_LOG_TWO_PI).sum(2)

    def log_prob(self, z):
        return torch.logsumexp(self.component_log_joints(z), 1)


class StudentTBase(nn.Module):
    """Independent standard Student-t coordinates with ν = exp(log_dof) (docs/model.md §11.4)."""

    def __init__(self, dim: int, dtype: torch.dtype):
        super().__init__()
        self.log_dof = nn.Parameter(torch.zeros(dim, dtype=dtype))

    def log_prob(self, z):
        nu = torch.exp(self.log_dof)
        return (torch.lgamma((nu + 1) / 2) - torch.lgamma(nu / 2) - 0.5 * torch.log(nu * math.pi)
                - (nu + 1) / 2 * torch.log1p(z * z / nu)).sum(1)


def _build_base(base: Optional[Dict[str, object]], dim: int, dtype: torch.dtype) -> Optional[nn.Module]:
    if base is None:
        return None
    if base["kind"] == "diagonal_gaussian":
        return DiagonalGaussianBase(dim, dtype)
    if base["kind"] == "gaussian_mixture":
        return GaussianMixtureBase(dim, int(base["components"]), bool(base["flow_gmm"]), dtype)
    return StudentTBase(dim, dtype)


# ----------------------------------------------------------------------------------------------------- the flow

class FlowGenFlow(nn.Module):
    """A FlowGen flow in PyTorch. ``forward(x, context)`` returns (z, log|det ∂z/∂x|).

    Built from the model's ``StackSpec`` (the JSON constant of the generated class, or a file's ``flowgen.spec``);
    ``description`` optionally keeps its ``StackDescription`` (for people only: it is written back to ``flowgen.stack``
    by ``save_safetensors``, and never parsed)."""

    def __init__(self, spec: str, dtype: Optional[torch.dtype] = None, description: Optional[str] = None):
        super().__init__()
        self.spec = parse_spec(spec)
        self.stack_spec = spec
        self.stack_hash = stack_hash(spec)
        self.description = description
        self.data_initialized = True
        self.dim, self.context_dim = self.spec.dim, self.spec.context
        self.dtype = dtype or (torch.float32 if self.spec.dtype == "float32" else torch.float64)
        layers: List[nn.Module] = []
        for l in self.spec.layers:
            if l.kind == "permutation":
                layers.append(Permutation(l.order))
            elif l.kind == "actnorm":
                layers.append(ActNorm(self.dim, self.dtype))
            elif l.kind == "invertible_linear":
                layers.append(InvertibleLinear(self.dim, l.order, self.dtype))
            else:
                layers.append(Coupling(l, self.context_dim, self.dtype))
        self.layers = nn.ModuleList(layers)
        # the base's tensors (base.*) follow the layers', as in FlowGen's parameter vector; none for the standard normal
        base = _build_base(self.spec.base, self.dim, self.dtype)
        if base is not None:
            self.base = base
        count = sum(p.numel() for p in self.parameters())
        if count != self.spec.parameter_count:
            raise ValueError(f"built {count} parameters, the specification announces {self.spec.parameter_count}")

    def parameter_tensors(self) -> List[Tuple[str, int, List[int]]]:
        """(name, offset, shape) of every tensor, as FlowGen's ``ParameterTensors``: state-dict order is FlowGen's
        parameter order (stack order, and within a layer the order of docs/model.md §5), offsets count elements."""
        out, offset = [], 0
        for name, p in self.named_parameters():
            out.append((name, offset, list(p.shape)))
            offset += p.numel()
        return out

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
        if hasattr(self, "base"):
            return self.base.log_prob(z) + log_det
        return -0.5 * (z * z).sum(1) - 0.5 * self.dim * math.log(2 * math.pi) + log_det

    def component_log_posteriors(self, x: torch.Tensor, context: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Mixture bases: [n, K] log p(c | x) (FlowGen's ComponentLogPosteriors)."""
        z, _ = self.forward(x, context)
        joints = self.base.component_log_joints(z)
        return joints - torch.logsumexp(joints, 1, keepdim=True)

    def classify(self, x: torch.Tensor, context: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Mixture bases: argmax_c log p(c | x) (FlowGen's Classify)."""
        return self.component_log_posteriors(x, context).argmax(1)

    # --- safetensors

    @classmethod
    def from_safetensors(cls, path: str, dtype: Optional[torch.dtype] = None) -> "FlowGenFlow":
        """Builds the flow from the file's ``flowgen.spec`` metadata and loads its weights.

        Files written before the stack specification existed (``flowgen.stack`` only) are refused: build the flow from
        the model's ``StackSpec`` and call ``load_safetensors``, or load and save the file once in C#."""
        tensors, metadata = read_safetensors(path)
        if "flowgen.spec" not in metadata:
            if "flowgen.stack" in metadata:
                raise ValueError(f"{path} was written by a FlowGen older than the stack specification (it has flowgen.stack "
                                 "but no flowgen.spec metadata), which flowgen_torch no longer reads: build "
                                 "FlowGenFlow(MyFlow.StackSpec) and call load_safetensors(path), or load it with "
                                 "FlowSafetensors.Load in C# and save it again")
            raise ValueError(f"{path} has no flowgen.spec metadata: build FlowGenFlow(MyFlow.StackSpec) and call "
                             "load_safetensors(path)")
        flow = cls(metadata["flowgen.spec"], dtype, description=metadata.get("flowgen.stack"))
        flow._load(path, tensors, metadata)
        return flow

    def load_safetensors(self, path: str) -> None:
        """Loads weights into this flow. A file with ``flowgen.spec`` must hold this specification; an older FlowGen file
        (``flowgen.stack`` only) must hold this flow's description when it has one; a file with neither (e.g. PyTorch's
        ``save_file(state_dict)``) is matched by tensor names and shapes, as ``FlowSafetensors.Load`` does."""
        tensors, metadata = read_safetensors(path)
        self._load(path, tensors, metadata)

    def _load(self, path: str, tensors: Dict[str, torch.Tensor], metadata: Dict[str, str]) -> None:
        spec = metadata.get("flowgen.spec")
        stack = metadata.get("flowgen.stack")
        if spec is not None and spec != self.stack_spec:
            raise ValueError(f"{path} holds another stack specification:\n{spec}\nthis flow's is\n{self.stack_spec}")
        if spec is None and stack is not None and self.description is not None \
                and _normalize(stack) != _normalize(self.description):
            raise ValueError(f"{path} holds another stack:\n{stack}")
        shapes = {name: list(shape) for name, _, shape in self.parameter_tensors()}
        for name, t in tensors.items():
            if name in shapes and list(t.shape) != shapes[name]:
                raise ValueError(f"{path}: tensor {name} has shape {list(t.shape)}, the flow expects {shapes[name]}")
        self.load_state_dict({k: v.to(self.dtype) for k, v in tensors.items()}, strict=True)
        self.data_initialized = metadata.get("flowgen.data_initialized") != "false"
        if self.description is None and stack is not None and spec is not None:
            self.description = stack

    def save_safetensors(self, path: str, model_name: str = "torch") -> None:
        """Writes the weights with FlowGen's metadata (``flowgen.spec``, ``flowgen.stack_hash``, and ``flowgen.stack`` when
        the description is known), so that ``FlowSafetensors.Load`` checks the architecture."""
        metadata = {"format": "pt", "flowgen.model": model_name, "flowgen.spec": self.stack_spec}
        if self.description is not None:
            metadata["flowgen.stack"] = self.description
        metadata["flowgen.stack_hash"] = self.stack_hash
        metadata["flowgen.data_initialized"] = "true" if self.data_initialized else "false"
        write_safetensors(path, self.state_dict(), metadata)


def _normalize(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip("\n")


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
