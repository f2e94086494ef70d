using System.Globalization;
using FlowGen.Generator.Diagnostics;
using FlowGen.Generator.Emit;
using FlowGen.Generator.Parsing;
using FlowGen.Generator.Planning;
using FlowGen.Generator.Spec;

namespace FlowGen.Generator.Bases;

/// <summary>[StudentTBase]: the initial degrees of freedom and whether they are learnt.</summary>
internal sealed record StudentTBase(double DegreesOfFreedom, bool Learnable) : BaseModel
{
    public override BaseKind Kind => StudentTBaseKind.Instance;
}

internal sealed class StudentTLayout
{
    public int LogDof;
}

/// <summary>
/// The Student-t base (docs/model.md §11.4): independent coordinates z_i ~ t(ν_i), ν_i = exp(η_i) (base.log_dof), log p(z) =
/// Σ_i [log Γ((ν_i+1)/2) − log Γ(ν_i/2) − ½ log(ν_i π) − (ν_i+1)/2 · log(1 + z_i²/ν_i)].
/// </summary>
internal sealed class StudentTBaseKind : BaseKind
{
    public static readonly StudentTBaseKind Instance = new();

    private const string Attribute = "StudentTBaseAttribute";
    public const double MinDegreesOfFreedom = 0.01, MaxDegreesOfFreedom = 1e6;

    public override string SpecName => "student_t";

    public override string AttributeName => Attribute;

    public override void CheckDefaults(RuntimeSymbols r)
    {
        r.Constant(Attribute, "DefaultDegreesOfFreedom", 5.0);
        r.Constant(Attribute, "DefaultLearnableDegreesOfFreedom", true);
    }

    public override BaseModel? Read(LayerAttributeContext c)
    {
        double nu = c.Options.TryDouble("DegreesOfFreedom") ?? c.Runtime.Constant(Attribute, "DefaultDegreesOfFreedom", 5.0);
        bool learnable = c.Options.IsSet("LearnableDegreesOfFreedom") ? c.Options.Bool("LearnableDegreesOfFreedom") : c.Runtime.Constant(Attribute, "DefaultLearnableDegreesOfFreedom", true);
        if (!(nu >= MinDegreesOfFreedom && nu <= MaxDegreesOfFreedom))
        {
            c.Report(DiagnosticDescriptors.InvalidOption, c.Options.Location("DegreesOfFreedom"), "StudentTBase.DegreesOfFreedom",
                $"a number between {MinDegreesOfFreedom.ToString(CultureInfo.InvariantCulture)} and 10^6", nu.ToString("R", CultureInfo.InvariantCulture));
            return null;
        }
        return new StudentTBase(nu, learnable);
    }

    public override object Plan(BaseModel model, BaseLayoutBuilder b) => new StudentTLayout { LogDof = b.Tensor("log_dof", new[] { b.Dim }) };

    public override string Describe(BaseModel model)
    {
        var m = (StudentTBase)model;
        return $"Student-t, ν = {m.DegreesOfFreedom.ToString("R", CultureInfo.InvariantCulture)} per coordinate at initialisation, {(m.Learnable ? "learnable" : "fixed")}";
    }

    public override void WriteSpec(BaseModel model, JsonWriter j)
    {
        var m = (StudentTBase)model;
        j.Name("degrees_of_freedom").Number(m.DegreesOfFreedom);
        j.Name("learnable").Bool(m.Learnable);
    }

    public override void EmitInitialization(CodeWriter w, BasePlan b, FlowPlan plan)
    {
        var a = b.LayoutAs<StudentTLayout>();
        var m = (StudentTBase)b.Base;
        w.Line($"// base: log ν_i = log {m.DegreesOfFreedom.ToString("R", CultureInfo.InvariantCulture)}");
        w.Line($"for (int i = 0; i < Dim; i++) p[{a.LogDof} + i] = {Literals.Of(System.Math.Log(m.DegreesOfFreedom), plan.IsDouble)};");
    }

    public override void EmitMembers(CodeWriter w, BasePlan b, FlowPlan plan)
    {
        var a = b.LayoutAs<StudentTLayout>();
        var m = (StudentTBase)b.Base;
        string T = plan.T, V = Emit.Flavor.Vector;
        string half = Literals.Of(0.5, plan.IsDouble), one = Literals.Of(1, plan.IsDouble);
        BaseCode.EmitHeader(w, plan, "Student-t with ν_i = exp(η_i) degrees of freedom per coordinate, docs/model.md §11.4");
        w.Line($"private const int BaseLogDof = {a.LogDof}; // η = log ν [{plan.Dim}]{(m.Learnable ? "" : " (fixed: no gradient)")}");
        w.Line();
        w.Line("/// <summary>Coordinate i's ν_i, 1/ν_i, (ν_i + 1)/2 and log-normaliser log Γ((ν_i+1)/2) − log Γ(ν_i/2) − ½ log(ν_i π) (in double, then rounded).</summary>");
        w.Open($"private static void BaseCoordinate(ref {T} p, int i, out double nu, out {T} inverseNu, out {T} halfNuPlusOne, out {T} logNormalizer)");
        w.Line("nu = Math.Exp(Unsafe.Add(ref p, BaseLogDof + i));");
        w.Line($"inverseNu = ({T})(1 / nu);");
        w.Line($"halfNuPlusOne = ({T})(0.5 * (nu + 1));");
        w.Line($"logNormalizer = ({T})BaseFunctions.StudentTLogNormalizer(nu);");
        w.Close();
        w.Line();

        BaseCode.Open(w, plan, "void", "BaseLogDensityTile", $"ref {T} p, ref {V} x, ref {V} logDensity", "log p(z) = Σ_i [log-normaliser_i − (ν_i+1)/2 · log(1 + z_i²/ν_i)] for each lane vector of a tile.");
        w.Line("ReadOnlySpan<int> rows = FinalRows;");
        w.Line($"for (int k = 0; k < Lanes; k++) Unsafe.Add(ref logDensity, k) = {V}.Zero;");
        w.Open("for (int i = 0; i < Dim; i++)");
        w.Line($"BaseCoordinate(ref p, i, out _, out {T} inverseNu, out {T} halfNuPlusOne, out {T} logNormalizer);");
        w.Open("for (int k = 0; k < Lanes; k++)");
        w.Line($"{V} z = {BaseCode.TileZ};");
        w.Line($"{V} t = Kernel.Mac(z * z, TV.Create(inverseNu), TV.Create({one}));");
        w.Line($"Unsafe.Add(ref logDensity, k) += Kernel.Mac(TV.Create(-halfNuPlusOne), Kernel.Log(t), TV.Create(logNormalizer));");
        w.Close();
        w.Close();
        w.Close();
        w.Line();

        BaseCode.Open(w, plan, T, "BaseLogDensityOne", $"ref {T} p, ref {T} x", "log p(z) of one sample (the tile's operations).");
        w.Line("ReadOnlySpan<int> rows = FinalRows;");
        w.Line($"{T} sum = 0;");
        w.Open("for (int i = 0; i < Dim; i++)");
        w.Line($"BaseCoordinate(ref p, i, out _, out {T} inverseNu, out {T} halfNuPlusOne, out {T} logNormalizer);");
        w.Line($"{T} z = Unsafe.Add(ref x, rows[i]);");
        w.Line($"{T} t = Kernel.Mac(z * z, inverseNu, {one});");
        w.Line("sum += Kernel.Mac(-halfNuPlusOne, Kernel.Log(t), logNormalizer);");
        w.Close();
        w.Line("return sum;");
        w.Close();
        w.Line();

        BaseCode.Open(w, plan, T, "BaseNllGradientOne", $"ref {T} p, ref {T} gp, ref {T} z, ref {T} gz, int stride, {T} weight, int component",
            "−log p(z) of one sample and its gradients (weighted): ∂/∂z_i = (ν_i+1)·z_i/(ν_i + z_i²), ∂/∂η_i = −ν_i·[ψ-terms − ½ log t_i + (ν_i+1)/2 · z_i²/(ν_i² t_i)].");
        w.Line("ReadOnlySpan<int> rows = FinalRows;");
        w.Line($"{T} nll = 0;");
        w.Open("for (int i = 0; i < Dim; i++)");
        w.Line($"BaseCoordinate(ref p, i, out double nu, out {T} inverseNu, out {T} halfNuPlusOne, out {T} logNormalizer);");
        w.Line($"{T} zi = {BaseCode.StridedZ};");
        w.Line($"{T} t = Kernel.Mac(zi * zi, inverseNu, {one});");
        w.Line($"{T} logT = Kernel.Log(t);");
        w.Line("nll -= Kernel.Mac(-halfNuPlusOne, logT, logNormalizer);");
        w.Line($"Unsafe.Add(ref gz, rows[i] * stride) = weight * ({T})2 * halfNuPlusOne * zi * inverseNu / t;");
        if (m.Learnable)
        {
            w.Line("// ∂ log p_i/∂ν = ∂ log-normaliser/∂ν − ½ log t + (ν+1)/2 · z²/(ν² t); η = log ν, so ∂/∂η = ν·∂/∂ν");
            w.Line("double dLogDensity = BaseFunctions.StudentTLogNormalizerDerivative(nu) - 0.5 * logT + (double)halfNuPlusOne * zi * zi / (nu * nu * t);");
            w.Line($"Unsafe.Add(ref gp, BaseLogDof + i) -= weight * ({T})(nu * dLogDensity);");
        }
        w.Close();
        w.Line("return nll;");
        w.Close();
        w.Line();

        BaseCode.Open(w, plan, "void", "BaseSample", $"ref {T} p, Span<{T}> zs, int component, FlowRandom rng", "z_i = ε/√(V/ν_i), ε ~ N(0, 1), V ~ χ²(ν_i) (BaseFunctions.StudentT), row by row, coordinate by coordinate.");
        w.Open("for (int j = 0; j < zs.Length; j += Dim)");
        w.Line($"for (int i = 0; i < Dim; i++) zs[j + i] = ({T})BaseFunctions.StudentT(rng, Math.Exp(Unsafe.Add(ref p, BaseLogDof + i)));");
        w.Close();
        w.Close();
        w.Line();
    }
}
