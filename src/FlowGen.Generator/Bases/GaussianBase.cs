using FlowGen.Generator.Emit;
using FlowGen.Generator.Parsing;
using FlowGen.Generator.Planning;
using FlowGen.Generator.Spec;

namespace FlowGen.Generator.Bases;

/// <summary>[GaussianBase] (no options).</summary>
internal sealed record GaussianBase : BaseModel
{
    public override BaseKind Kind => GaussianBaseKind.Instance;
}

internal sealed class GaussianLayout
{
    public int Means, LogScales;
}

/// <summary>
/// The diagonal Gaussian base N(μ, diag σ²) (docs/model.md §11.2): log p(z) = −½ Σ u_i² − Σ log σ_i − (D/2)·log 2π with
/// u_i = (z_i − μ_i)/σ_i; learnable μ (base.means) and log σ (base.log_scales), both initialised to 0.
/// </summary>
internal sealed class GaussianBaseKind : BaseKind
{
    public static readonly GaussianBaseKind Instance = new();

    public override string SpecName => "diagonal_gaussian";

    public override string AttributeName => "GaussianBaseAttribute";

    public override BaseModel? Read(LayerAttributeContext c) => new GaussianBase();

    public override object Plan(BaseModel model, BaseLayoutBuilder b) => new GaussianLayout
    {
        Means = b.Tensor("means", new[] { b.Dim }),
        LogScales = b.Tensor("log_scales", new[] { b.Dim }),
    };

    public override string Describe(BaseModel model) => "diagonal Gaussian N(μ, diag σ²), learnable μ and log σ";

    public override void WriteSpec(BaseModel model, JsonWriter j)
    {
    }

    public override void EmitInitialization(CodeWriter w, BasePlan b, FlowPlan plan) =>
        w.Line("// base: μ = 0 and log σ = 0 (the standard normal; the vector is cleared above)");

    public override void EmitMembers(CodeWriter w, BasePlan b, FlowPlan plan)
    {
        var a = b.LayoutAs<GaussianLayout>();
        string T = plan.T, V = Emit.Flavor.Vector;
        string half = Literals.Of(0.5, plan.IsDouble), one = Literals.Of(1, plan.IsDouble);
        BaseCode.EmitHeader(w, plan, "diagonal Gaussian N(μ, diag σ²), docs/model.md §11.2");
        w.Line($"private const int BaseMeans = {a.Means}, BaseLogScales = {a.LogScales}; // μ [{plan.Dim}], log σ [{plan.Dim}]");
        w.Line();
        w.Line("/// <summary>−Σ log σ_i − (Dim/2)·log 2π, the log-normaliser.</summary>");
        w.Open($"private static {T} BaseLogNormalizer(ref {T} p)");
        w.Line($"{T} c = -HalfLogTwoPiTimesDim;");
        w.Line("for (int i = 0; i < Dim; i++) c -= Unsafe.Add(ref p, BaseLogScales + i);");
        w.Line("return c;");
        w.Close();
        w.Line();

        BaseCode.Open(w, plan, "void", "BaseLogDensityTile", $"ref {T} p, ref {V} x, ref {V} logDensity", "log p(z) = −½ Σ u_i² + log-normaliser, u_i = (z_i − μ_i)·exp(−log σ_i), for each lane vector of a tile.");
        w.Line("ReadOnlySpan<int> rows = FinalRows;");
        w.Line($"{V} normalizer = TV.Create(BaseLogNormalizer(ref p));");
        w.Open("for (int k = 0; k < Lanes; k++)");
        w.Line($"{V} sq = {V}.Zero;");
        w.Open("for (int i = 0; i < Dim; i++)");
        w.Line($"{V} u = ({BaseCode.TileZ} - TV.Create(Unsafe.Add(ref p, BaseMeans + i))) * TV.Create(Kernel.Exp(-Unsafe.Add(ref p, BaseLogScales + i)));");
        w.Line("sq = Kernel.Mac(u, u, sq);");
        w.Close();
        w.Line($"Unsafe.Add(ref logDensity, k) = Kernel.Mac(TV.Create(-{half}), sq, normalizer);");
        w.Close();
        w.Close();
        w.Line();

        BaseCode.Open(w, plan, T, "BaseLogDensityOne", $"ref {T} p, ref {T} x", "log p(z) of one sample (the tile's operations).");
        w.Line("ReadOnlySpan<int> rows = FinalRows;");
        w.Line($"{T} sq = 0;");
        w.Open("for (int i = 0; i < Dim; i++)");
        w.Line($"{T} u = (Unsafe.Add(ref x, rows[i]) - Unsafe.Add(ref p, BaseMeans + i)) * Kernel.Exp(-Unsafe.Add(ref p, BaseLogScales + i));");
        w.Line("sq = Kernel.Mac(u, u, sq);");
        w.Close();
        w.Line($"return Kernel.Mac(-{half}, sq, BaseLogNormalizer(ref p));");
        w.Close();
        w.Line();

        BaseCode.Open(w, plan, T, "BaseNllGradientOne", $"ref {T} p, ref {T} gp, ref {T} z, ref {T} gz, int stride, {T} weight, int component",
            "−log p(z) of one sample and its gradients (weighted): ∂/∂z_i = u_i/σ_i, ∂/∂μ_i = −u_i/σ_i, ∂/∂log σ_i = 1 − u_i².");
        w.Line("ReadOnlySpan<int> rows = FinalRows;");
        w.Line($"{T} sq = 0;");
        w.Open("for (int i = 0; i < Dim; i++)");
        w.Line($"{T} inverseScale = Kernel.Exp(-Unsafe.Add(ref p, BaseLogScales + i));");
        w.Line($"{T} u = ({BaseCode.StridedZ} - Unsafe.Add(ref p, BaseMeans + i)) * inverseScale;");
        w.Line("sq = Kernel.Mac(u, u, sq);");
        w.Line($"{T} gu = weight * u * inverseScale;");
        w.Line("Unsafe.Add(ref gz, rows[i] * stride) = gu;");
        w.Line("Unsafe.Add(ref gp, BaseMeans + i) -= gu;");
        w.Line($"Unsafe.Add(ref gp, BaseLogScales + i) += weight * ({one} - u * u);");
        w.Close();
        w.Line($"return Kernel.Mac({half}, sq, -BaseLogNormalizer(ref p));");
        w.Close();
        w.Line();

        BaseCode.Open(w, plan, "void", "BaseSample", $"ref {T} p, Span<{T}> zs, int component, FlowRandom rng", "z = μ + σ·ε with ε ~ N(0, I) (FillGaussian, row-major).");
        w.Line("rng.FillGaussian(zs);");
        w.Open("for (int j = 0; j < zs.Length; j += Dim)");
        w.Open("for (int i = 0; i < Dim; i++)");
        w.Line("zs[j + i] = Kernel.Mac(Kernel.Exp(Unsafe.Add(ref p, BaseLogScales + i)), zs[j + i], Unsafe.Add(ref p, BaseMeans + i));");
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }
}
