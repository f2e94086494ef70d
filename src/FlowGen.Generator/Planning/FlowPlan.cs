using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using FlowGen.Generator.Model;
using FlowGen.Generator.Parsing;

namespace FlowGen.Generator.Planning;

// Stage 3 of the generator: from the equatable model, derive everything the emitters need as numbers —
// parameter offsets and tensors (docs/model.md §5), the physical row of each coordinate before each layer
// (permutations cost nothing: they only rename rows), and the layout of the per-layer scratch ("slot").
//
// The batch path works on tiles of Lanes × Vector<T>.Count samples, one sample per SIMD lane: a "row" is
// Lanes vectors holding one quantity for every sample of the tile. The single-sample path uses the same
// slot layout with one scalar per row, so both paths share every offset computed here.

/// <summary>One named parameter tensor (for safetensors interchange and documentation).</summary>
internal sealed record TensorPlan(string Name, int Offset, int[] Shape, bool Transposed)
{
    public int Length => Shape.Aggregate(1, (a, b) => a * b);
}

/// <summary>One dense layer of a conditioner.</summary>
internal sealed class DensePlan
{
    public int Index;             // position in the conditioner (0 = first)
    public int In, Out;
    public int WeightOffset;      // absolute parameter offset of W (input-major [In, Out]), bias follows at WeightOffset + In·Out
    public ActivationKind? Activation; // null for the linear output layer
    public int InRow;             // slot row of the input
    public int OutRow;            // slot row of the (post-activation) output
    public int PreRow = -1;       // slot row of the pre-activation, when the backward pass needs it
    public int BiasOffset => WeightOffset + In * Out;
    public bool StoresPre => PreRow >= 0;
}

/// <summary>Everything about one layer of the stack.</summary>
internal sealed class LayerPlan
{
    public int Index;
    public LayerModel Layer = null!;
    public int ParamOffset, ParamCount;
    public int[] MapBefore = Array.Empty<int>(); // MapBefore[i] = physical row of logical coordinate i entering the layer (forward direction)
    public int[] MapAfter = Array.Empty<int>();
    public List<TensorPlan> Tensors = new();
    public int SlotRows;          // rows of scratch this layer needs

    // couplings
    public CouplingLayer? Coupling => Layer as CouplingLayer;
    public DensePlan[] Dense = Array.Empty<DensePlan>();
    public int InputRows;         // |A| + Context
    public int URow;              // slot row of the conditioner input
    public int ORow;              // slot row of the conditioner output (P·|B| rows)
    public int SaveRow;           // slot row where the layer saves its input rows for the backward pass
    public int P;                 // transformer parameters per transformed coordinate
    public double[] IdentityBias = Array.Empty<double>(); // per parameter p (length P)

    // every layer kind
    public int SaveCount;         // rows saved at SaveRow
    public int TrainSlot;         // first row of this layer's own slot in the training tile (relative to the slots region)

    // backward scratch of a coupling (rows relative to the backward scratch region)
    public int[] GradOutRow = Array.Empty<int>(); // per dense layer: rows of the gradient with respect to its output
    public int GradInputRow;      // gradient with respect to the conditioner input (|A| + Context rows)
    public int TransposeRow;      // sample-major copy of one dense layer's output gradient (max Out rows)
    public int BackRows;
}

internal sealed class FlowPlan
{
    public const int Lanes = 2;

    public FlowModel Model { get; }
    public string T { get; }
    public int Dim => Model.Dim;
    public int Context => Model.Context;
    public IReadOnlyList<LayerPlan> Layers { get; }
    public int ParameterCount { get; }
    public int[] FinalMap { get; }
    public int MaxSlotRows { get; }
    public int TotalSlotRows { get; }
    public string Description { get; }
    public ulong Hash { get; }
    public bool HasActNorm => Layers.Any(l => l.Layer is ActNormLayer);

    /// <summary>Rows of the inference tile: data (Dim), log-det (1), context, one shared slot.</summary>
    public int TileRows => Dim + 1 + Context + MaxSlotRows;

    /// <summary>Rows of backward scratch (the largest coupling's need).</summary>
    public int MaxBackRows { get; }

    /// <summary>
    /// Rows of the training tile: point (Dim), log-det (1), context (C), gradient of the point (Dim), gradient of the log-det (1),
    /// gradient of the context (C), every layer's own slot, the backward scratch.
    /// </summary>
    public int TrainRows => 2 * Dim + 2 + 2 * Context + TotalSlotRows + MaxBackRows;

    /// <summary>Scalars of the single-sample scratch: the current point (Dim), then one shared slot.</summary>
    public int SingleScratch => Dim + MaxSlotRows;

    public FlowPlan(FlowModel model)
    {
        Model = model;
        T = model.IsDouble ? "double" : "float";
        var layers = new List<LayerPlan>();
        int[] map = Enumerable.Range(0, model.Dim).ToArray();
        int offset = 0;
        for (int l = 0; l < model.Layers.Count; l++)
        {
            var plan = new LayerPlan { Index = l, Layer = model.Layers[l], ParamOffset = offset, MapBefore = (int[])map.Clone() };
            switch (plan.Layer)
            {
                case CouplingLayer c:
                    PlanCoupling(plan, c, model.Context);
                    break;
                case ActNormLayer:
                    plan.Tensors.Add(new TensorPlan($"layers.{l}.log_scale", offset, new[] { model.Dim }, false));
                    plan.Tensors.Add(new TensorPlan($"layers.{l}.bias", offset + model.Dim, new[] { model.Dim }, false));
                    plan.SaveRow = 0;
                    plan.SaveCount = model.Dim;
                    plan.SlotRows = model.Dim;
                    break;
                case LinearLayer lin:
                {
                    int d = model.Dim, tri = d * (d - 1) / 2;
                    plan.Tensors.Add(new TensorPlan($"layers.{l}.lower", offset, new[] { tri }, false));
                    plan.Tensors.Add(new TensorPlan($"layers.{l}.upper", offset + tri, new[] { tri }, false));
                    plan.Tensors.Add(new TensorPlan($"layers.{l}.log_diag", offset + 2 * tri, new[] { d }, false));
                    plan.Tensors.Add(new TensorPlan($"layers.{l}.bias", offset + 2 * tri + d, new[] { d }, false));
                    plan.SaveRow = 0;
                    plan.SaveCount = 2 * d; // input x and intermediate v
                    plan.SlotRows = 2 * d;
                    var after = new int[d];
                    for (int i = 0; i < d; i++) after[i] = map[lin.Permutation[i]];
                    map = after;
                    break;
                }
                case PermutationLayer perm:
                {
                    var after = new int[model.Dim];
                    for (int i = 0; i < model.Dim; i++) after[i] = map[perm.Order[i]];
                    map = after;
                    break;
                }
            }
            plan.ParamCount = (int)FlowParser.ParameterCountOf(plan.Layer, model.Dim, model.Context);
            offset += plan.ParamCount;
            plan.MapAfter = (int[])map.Clone();
            layers.Add(plan);
        }
        Layers = layers;
        ParameterCount = offset;
        FinalMap = map;
        MaxSlotRows = layers.Count == 0 ? 0 : layers.Max(l => l.SlotRows);
        int slot = 0;
        foreach (LayerPlan l in layers)
        {
            l.TrainSlot = slot;
            slot += l.SlotRows;
            if (l.Coupling is not null)
            {
                int row = 0;
                l.GradOutRow = new int[l.Dense.Length];
                for (int k = l.Dense.Length - 1; k >= 0; k--)
                {
                    l.GradOutRow[k] = row;
                    row += l.Dense[k].Out;
                }
                l.GradInputRow = row;
                row += l.InputRows;
                l.TransposeRow = row;
                row += l.Dense.Max(d => d.Out);
                l.BackRows = row;
            }
        }
        TotalSlotRows = slot;
        MaxBackRows = layers.Count == 0 ? 0 : layers.Max(l => l.BackRows);
        Description = Describe();
        Hash = Fnv1a(Description);
    }

    private void PlanCoupling(LayerPlan plan, CouplingLayer c, int context)
    {
        int l = plan.Index;
        plan.P = FlowParser.ParametersPerCoordinate(c);
        plan.IdentityBias = IdentityParameters(c);
        plan.InputRows = c.Kept.Count + context;
        int row = 0;
        plan.URow = row;
        row += plan.InputRows;
        var dense = new List<DensePlan>();
        int input = plan.InputRows, inRow = plan.URow, offset = plan.ParamOffset;
        for (int k = 0; k <= c.Hidden.Count; k++)
        {
            bool last = k == c.Hidden.Count;
            int width = last ? plan.P * c.Transformed.Count : c.Hidden[k];
            var d = new DensePlan
            {
                Index = k, In = input, Out = width, WeightOffset = offset, InRow = inRow,
                Activation = last ? null : c.Activation,
            };
            if (!last && NeedsPreActivation(c.Activation))
            {
                d.PreRow = row;
                row += width;
            }
            d.OutRow = row;
            row += width;
            plan.Tensors.Add(new TensorPlan($"layers.{l}.conditioner.{k}.weight", offset, new[] { width, input }, true));
            plan.Tensors.Add(new TensorPlan($"layers.{l}.conditioner.{k}.bias", offset + input * width, new[] { width }, false));
            offset += input * width + width;
            dense.Add(d);
            input = width;
            inRow = d.OutRow;
        }
        plan.Dense = dense.ToArray();
        plan.ORow = dense[dense.Count - 1].OutRow;
        plan.SaveRow = row;
        plan.SaveCount = c.Transformed.Count;
        row += c.Transformed.Count;
        plan.SlotRows = row;
    }

    /// <summary>Activations whose derivative the backward pass computes from the pre-activation.</summary>
    public static bool NeedsPreActivation(ActivationKind a) => a is ActivationKind.Softplus or ActivationKind.Gelu or ActivationKind.Silu;

    /// <summary>Output-layer bias that makes the transformer the identity (docs/model.md §6).</summary>
    public static double[] IdentityParameters(CouplingLayer c)
    {
        const double Epsilon = 1e-3, MinDerivative = 1e-3;
        switch (c.Kind)
        {
            case CouplingKind.SumOfSquares:
            {
                var p = new double[1 + c.Squares * (c.Degree + 1)];
                // distinct a_k0 with Σ a_k0² = 1 − ε: τ′ = 1, and the squares are not interchangeable (equal values
                // would receive equal gradients forever and never separate)
                double norm = Math.Sqrt(c.Squares * (c.Squares + 1) * (2.0 * c.Squares + 1) / 6);
                for (int k = 0; k < c.Squares; k++) p[1 + k * (c.Degree + 1)] = Math.Sqrt(1 - Epsilon) * (k + 1) / norm;
                return p;
            }
            case CouplingKind.DeepSigmoidal:
            {
                int n = c.SigmoidUnits;
                var p = new double[3 * n * c.SigmoidLayers];
                for (int q = 0; q < c.SigmoidLayers; q++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        p[3 * n * q + j] = Math.Log(Math.E - 1);
                        // raw weights spread over [−1, 1]: still the identity (all units equal σ(x)), but the units get
                        // different gradients and can separate; equal weights would keep them tied forever
                        p[3 * n * q + 2 * n + j] = n == 1 ? 0 : -1 + 2.0 * j / (n - 1);
                    }
                }
                return p;
            }
            case CouplingKind.Spline:
            {
                int k = c.Bins;
                var p = new double[3 * k - 1];
                for (int i = 2 * k; i < 3 * k - 1; i++) p[i] = Math.Log(Math.Exp(1 - MinDerivative) - 1);
                return p;
            }
            case CouplingKind.Additive:
                return new double[1];
            default:
                return new double[2];
        }
    }

    // ------------------------------------------------------------------ description and identity

    private string Describe()
    {
        var sb = new StringBuilder();
        sb.Append("Dim ").Append(Dim).Append(", ").Append(T);
        if (Context > 0) sb.Append(", context ").Append(Context);
        sb.Append(", ").Append(ParameterCount.ToString(CultureInfo.InvariantCulture)).Append(" parameters\n");
        foreach (LayerPlan l in Layers)
        {
            sb.Append("layer ").Append(l.Index).Append(": ").Append(DescribeLayer(l)).Append('\n');
        }
        return sb.ToString();
    }

    public string DescribeLayer(LayerPlan l)
    {
        switch (l.Layer)
        {
            case CouplingLayer c:
            {
                var sb = new StringBuilder();
                sb.Append(KindName(c.Kind)).Append(" coupling ").Append(c.Ordinal);
                sb.Append(", keep [").Append(string.Join(" ", c.Kept)).Append("] transform [").Append(string.Join(" ", c.Transformed)).Append("] (").Append(c.MaskDescription).Append(")");
                sb.Append(", conditioner ").Append(string.Join(" -> ", l.Dense.Select(d => d.In.ToString(CultureInfo.InvariantCulture)).Concat(new[] { l.Dense[l.Dense.Length - 1].Out.ToString(CultureInfo.InvariantCulture) })));
                if (c.Hidden.Count > 0) sb.Append(" ").Append(c.Activation.ToString().ToLowerInvariant());
                switch (c.Kind)
                {
                    case CouplingKind.Affine:
                        sb.Append(", clamp ").Append(c.Clamp.ToString("R", CultureInfo.InvariantCulture));
                        break;
                    case CouplingKind.SumOfSquares:
                        sb.Append(", degree ").Append(c.Degree).Append(", squares ").Append(c.Squares);
                        break;
                    case CouplingKind.DeepSigmoidal:
                        sb.Append(", units ").Append(c.SigmoidUnits).Append(", blocks ").Append(c.SigmoidLayers);
                        break;
                    case CouplingKind.Spline:
                        sb.Append(", bins ").Append(c.Bins).Append(", bound ").Append(c.Bound.ToString("R", CultureInfo.InvariantCulture));
                        break;
                }
                return sb.ToString();
            }
            case PermutationLayer p:
                return "permutation [" + string.Join(" ", p.Order) + "] (" + p.Description + ")";
            case ActNormLayer:
                return "actnorm";
            case LinearLayer lin:
                return "invertible linear (LU), P = " + (!lin.Permuted
                    ? "identity"
                    : "[" + string.Join(" ", lin.Permutation) + "] (seed " + lin.Seed.ToString(CultureInfo.InvariantCulture) + ")");
            default:
                return "?";
        }
    }

    public static string KindName(CouplingKind kind) => kind switch
    {
        CouplingKind.Affine => "affine",
        CouplingKind.Additive => "additive",
        CouplingKind.SumOfSquares => "sum-of-squares",
        CouplingKind.DeepSigmoidal => "deep sigmoidal",
        _ => "rational-quadratic spline",
    };

    private static ulong Fnv1a(string text)
    {
        ulong hash = 0xcbf29ce484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash = unchecked(hash * 0x100000001b3UL);
        }
        return hash;
    }
}
