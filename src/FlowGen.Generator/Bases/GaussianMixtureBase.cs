using System.Globalization;
using FlowGen.Generator.Diagnostics;
using FlowGen.Generator.Emit;
using FlowGen.Generator.Parsing;
using FlowGen.Generator.Planning;
using FlowGen.Generator.Spec;

namespace FlowGen.Generator.Bases;

/// <summary>
/// [GaussianMixtureBase]: K, FlowGMM's form, which parameters are learnt, and the initial means: MeanSpread &gt; 0 (given) draws
/// them at random, μ = MeanSpread·ε; otherwise (MeanSpread = 0) they are the vertices of a regular simplex MeanSeparation
/// apart, or, when K &gt; Dim + 1, random with the spread MeanSeparation/√(2·Dim) (docs/model.md §11.3).
/// </summary>
internal sealed record GaussianMixtureBase(int Components, bool FlowGmm, bool LearnableMeans, bool LearnableScales, double MeanSpread, double MeanSeparation) : BaseModel
{
    public override BaseKind Kind => GaussianMixtureBaseKind.Instance;
}

internal sealed class GaussianMixtureLayout
{
    public int Logits = -1, Means, LogScales;
}

/// <summary>
/// The Gaussian-mixture base (docs/model.md §11.3): p(z) = Σ_c w_c N(z; μ_c, diag σ_c²), w = softmax(a) (base.logits [K]), means
/// base.means [K, D], log-scales base.log_scales [K, D]; FlowGMM's form: w_c = 1/K (no logits), one log σ shared by every
/// component and coordinate (base.log_scales [1]).
/// </summary>
internal sealed class GaussianMixtureBaseKind : BaseKind
{
    public static readonly GaussianMixtureBaseKind Instance = new();

    private const string Attribute = "GaussianMixtureBaseAttribute";
    public const int MaxComponents = 1024;

    public override string SpecName => "gaussian_mixture";

    public override string AttributeName => Attribute;

    public override int Components(BaseModel model) => ((GaussianMixtureBase)model).Components;

    public override void CheckDefaults(RuntimeSymbols r)
    {
        r.Constant(Attribute, "DefaultComponents", 2);
        r.Constant(Attribute, "DefaultFlowGmm", false);
        r.Constant(Attribute, "DefaultLearnableMeans", true);
        r.Constant(Attribute, "DefaultLearnableScales", true);
        r.Constant(Attribute, "DefaultMeanSeparation", 7.5);
    }

    public override BaseModel? Read(LayerAttributeContext c)
    {
        AttributeReader o = c.Options;
        RuntimeSymbols r = c.Runtime;
        int k = o.TryInt("Components") ?? r.Constant(Attribute, "DefaultComponents", 2);
        bool flowGmm = o.IsSet("FlowGmm") ? o.Bool("FlowGmm") : r.Constant(Attribute, "DefaultFlowGmm", false);
        bool means = o.IsSet("LearnableMeans") ? o.Bool("LearnableMeans") : r.Constant(Attribute, "DefaultLearnableMeans", true);
        bool scales = o.IsSet("LearnableScales") ? o.Bool("LearnableScales") : r.Constant(Attribute, "DefaultLearnableScales", true);
        double? givenSpread = o.TryDouble("MeanSpread");
        double? givenSeparation = o.TryDouble("MeanSeparation");
        double spread = givenSpread ?? 0;
        double separation = givenSpread is null ? givenSeparation ?? r.Constant(Attribute, "DefaultMeanSeparation", 7.5) : 0;
        bool valid = true;
        if (k < 1 || k > MaxComponents)
        {
            c.Report(DiagnosticDescriptors.InvalidOption, o.Location("Components"), "GaussianMixtureBase.Components", $"between 1 and {MaxComponents}", k);
            valid = false;
        }
        if (givenSpread is not null && givenSeparation is not null)
        {
            c.Report(DiagnosticDescriptors.InvalidOption, o.Location("MeanSeparation"), "GaussianMixtureBase.MeanSeparation", "not given together with MeanSpread (MeanSpread draws the means at random)", givenSeparation.Value.ToString("R", CultureInfo.InvariantCulture));
            valid = false;
        }
        else if (givenSpread is null && !(separation > 0 && separation < double.PositiveInfinity))
        {
            c.Report(DiagnosticDescriptors.InvalidOption, o.Location("MeanSeparation"), "GaussianMixtureBase.MeanSeparation", "a finite number greater than 0", separation.ToString("R", CultureInfo.InvariantCulture));
            valid = false;
        }
        if (givenSpread is not null && !(spread > 0 && spread < double.PositiveInfinity))
        {
            c.Report(DiagnosticDescriptors.InvalidOption, o.Location("MeanSpread"), "GaussianMixtureBase.MeanSpread", "a finite number greater than 0", spread.ToString("R", CultureInfo.InvariantCulture));
            valid = false;
        }
        return valid ? new GaussianMixtureBase(k, flowGmm, means, scales, spread, separation) : null;
    }

    public override object Plan(BaseModel model, BaseLayoutBuilder b)
    {
        var m = (GaussianMixtureBase)model;
        var layout = new GaussianMixtureLayout();
        if (!m.FlowGmm) layout.Logits = b.Tensor("logits", new[] { m.Components });
        layout.Means = b.Tensor("means", new[] { m.Components, b.Dim });
        layout.LogScales = b.Tensor("log_scales", m.FlowGmm ? new[] { 1 } : new[] { m.Components, b.Dim });
        return layout;
    }

    public override string Describe(BaseModel model)
    {
        var m = (GaussianMixtureBase)model;
        string form = m.FlowGmm ? "FlowGMM: equal weights, one shared isotropic scale" : "learnable weights, diagonal scales";
        string fixedParts = (m.LearnableMeans, m.LearnableScales) switch
        {
            (true, true) => "",
            (false, true) => ", fixed means",
            (true, false) => ", fixed scales",
            _ => ", fixed means and scales",
        };
        return $"Gaussian mixture, {m.Components} components ({form}{fixedParts})";
    }

    public override void WriteSpec(BaseModel model, JsonWriter j)
    {
        var m = (GaussianMixtureBase)model;
        j.Name("components").Int(m.Components);
        j.Name("flow_gmm").Bool(m.FlowGmm);
        j.Name("learnable_means").Bool(m.LearnableMeans);
        j.Name("learnable_scales").Bool(m.LearnableScales);
        j.Name("mean_spread").Number(m.MeanSpread);
        j.Name("mean_separation").Number(m.MeanSeparation);
    }

    public override void EmitInitialization(CodeWriter w, BasePlan b, FlowPlan plan)
    {
        var a = b.LayoutAs<GaussianMixtureLayout>();
        var m = (GaussianMixtureBase)b.Base;
        int k = m.Components, dim = plan.Dim;
        string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        // FlowGMM has no logits (its weights are fixed equal) and one shared log-scale
        string weights = m.FlowGmm ? "weights fixed equal (FlowGMM), shared log-scale 0" : "logits 0 (equal weights), log-scales 0";
        if (m.MeanSpread > 0 || k > dim + 1)
        {
            // seeded: the given spread, or (no simplex fits in Dim coordinates) one that makes E|μ_a − μ_b|² = MeanSeparation²
            double spread = m.MeanSpread > 0 ? m.MeanSpread : m.MeanSeparation / System.Math.Sqrt(2.0 * dim);
            w.Line(m.MeanSpread > 0
                ? $"// base: {weights}, means μ_cj = {R(spread)}·ε_cj with ε ~ N(0, 1) (NextGaussian, row-major)"
                : $"// base: {weights}, means μ_cj = s·ε_cj with ε ~ N(0, 1) (NextGaussian, row-major), s = {R(m.MeanSeparation)}/√(2·{dim}): {k} components are more than a simplex in {dim} coordinates holds");
            w.Line($"for (int j = 0; j < {k * dim}; j++) p[{a.Means} + j] = ({plan.T})({Literals.Of(spread, true)} * rng.NextGaussian());");
        }
        else if (k > 1)
        {
            // the vertices of a regular simplex centred at 0, every pair MeanSeparation apart: the centred unit vectors e_c − 1/K
            // of R^K in the Helmert basis h_m = (1, …, 1, −m, 0, …)/√(m(m + 1)) (m ones), times MeanSeparation/√2
            w.Line($"// base: {weights}, means at the vertices of a regular simplex, every pair {R(m.MeanSeparation)} apart:");
            w.Line($"// μ_cj = ({R(m.MeanSeparation)}/√2)·h_c/√(m(m + 1)) with m = j + 1, h_c = 1 (c < m), −m (c = m), 0 (c > m), for j < {k - 1}; 0 beyond");
            w.Open($"for (int c = 0; c < {k}; c++)");
            w.Open($"for (int j = 0; j < {k - 1}; j++)");
            w.Line("int m = j + 1;");
            w.Line("double h = c < m ? 1.0 : c == m ? -m : 0.0;");
            w.Line($"p[{a.Means} + c * {dim} + j] = ({plan.T})({Literals.Of(m.MeanSeparation / System.Math.Sqrt(2.0), true)} * h / Math.Sqrt(m * (m + 1.0)));");
            w.Close();
            w.Close();
        }
        else
        {
            w.Line("// base: logits 0, log-scales 0, the one component's mean 0");
        }
    }

    public override void EmitMembers(CodeWriter w, BasePlan b, FlowPlan plan)
    {
        var a = b.LayoutAs<GaussianMixtureLayout>();
        var m = (GaussianMixtureBase)b.Base;
        string T = plan.T, V = Emit.Flavor.Vector;
        bool d = plan.IsDouble;
        string half = Literals.Of(0.5, d), one = Literals.Of(1, d), ninf = d ? "double.NegativeInfinity" : "float.NegativeInfinity";
        int K = m.Components;
        BaseCode.EmitHeader(w, plan, $"Gaussian mixture of {K} components, docs/model.md §11.3");
        w.Line($"private const int BaseComponents = {K};");
        if (!m.FlowGmm) w.Line($"private const int BaseLogits = {a.Logits}; // a [{K}], w = softmax(a)");
        w.Line($"private const int BaseMeans = {a.Means}; // μ [{K}, {plan.Dim}]{(m.LearnableMeans ? "" : " (fixed: no gradient)")}");
        w.Line(m.FlowGmm
            ? $"private const int BaseLogScales = {a.LogScales}; // log σ [1], shared by every component and coordinate{(m.LearnableScales ? "" : " (fixed: no gradient)")}"
            : $"private const int BaseLogScales = {a.LogScales}; // log σ [{K}, {plan.Dim}]{(m.LearnableScales ? "" : " (fixed: no gradient)")}");
        w.Line();
        w.Line($"static int IFlowKernels<{T}>.BaseComponents => BaseComponents;");
        w.Line();
        string scale = m.FlowGmm ? "BaseLogScales" : "BaseLogScales + c * Dim + i";

        // the weights
        if (m.FlowGmm)
        {
            w.Line("/// <summary>log Σ exp(a_c): none for equal weights (log w_c = −log K).</summary>");
            w.Line($"private static {T} BaseLogitNormalizer(ref {T} p) => 0;");
            w.Line();
            w.Line("/// <summary>log w_c = −log K.</summary>");
            w.Line($"private static {T} BaseLogWeightOf(ref {T} p, int c, {T} normalizer) => {Literals.Of(-System.Math.Log(K), d)};");
        }
        else
        {
            w.Line("/// <summary>log Σ_c exp(a_c) by the largest logit.</summary>");
            w.Open($"private static {T} BaseLogitNormalizer(ref {T} p)");
            w.Line($"{T} max = Unsafe.Add(ref p, BaseLogits);");
            w.Line("for (int c = 1; c < BaseComponents; c++) if (Unsafe.Add(ref p, BaseLogits + c) > max) max = Unsafe.Add(ref p, BaseLogits + c);");
            w.Line($"{T} sum = 0;");
            w.Line("for (int c = 0; c < BaseComponents; c++) sum += Kernel.Exp(Unsafe.Add(ref p, BaseLogits + c) - max);");
            w.Line("return max + Kernel.Log(sum);");
            w.Close();
            w.Line();
            w.Line("/// <summary>log w_c = a_c − log Σ exp(a).</summary>");
            w.Line($"private static {T} BaseLogWeightOf(ref {T} p, int c, {T} normalizer) => Unsafe.Add(ref p, BaseLogits + c) - normalizer;");
        }
        w.Line();
        w.Lines($"/// <summary>log w_c − Σ_i log σ_ci − (Dim/2)·log 2π: component c's constant.</summary>");
        w.Open($"private static {T} BaseComponentConstant(ref {T} p, int c, {T} normalizer)");
        w.Line($"{T} constant = BaseLogWeightOf(ref p, c, normalizer) - HalfLogTwoPiTimesDim;");
        if (m.FlowGmm) w.Line($"constant -= ({T})Dim * Unsafe.Add(ref p, BaseLogScales);");
        else w.Line("for (int i = 0; i < Dim; i++) constant -= Unsafe.Add(ref p, BaseLogScales + c * Dim + i);");
        w.Line("return constant;");
        w.Close();
        w.Line();
        w.Line($"static {T} IFlowKernels<{T}>.BaseLogWeight(ref {T} p, int component) => BaseLogWeightOf(ref p, component, BaseLogitNormalizer(ref p));");
        w.Line();

        // one component's log joint
        w.Line("/// <summary>log(w_c·N(z; μ_c, diag σ_c²)) = constant_c − ½ Σ_i u_i², u_i = (z_i − μ_ci)·exp(−log σ_ci), for lane vector k of a tile.</summary>");
        w.Open($"private static {V} BaseComponentTile<TV>(ref {T} p, ref {V} x, int k, int c, {T} normalizer){Emit.Flavor.VectorConstraint}");
        w.Line("ReadOnlySpan<int> rows = FinalRows;");
        w.Line($"{V} sq = {V}.Zero;");
        w.Open("for (int i = 0; i < Dim; i++)");
        w.Line($"{V} u = ({BaseCode.TileZ} - TV.Create(Unsafe.Add(ref p, BaseMeans + c * Dim + i))) * TV.Create(Kernel.Exp(-Unsafe.Add(ref p, {scale})));");
        w.Line("sq = Kernel.Mac(u, u, sq);");
        w.Close();
        w.Line($"return Kernel.Mac(TV.Create(-{half}), sq, TV.Create(BaseComponentConstant(ref p, c, normalizer)));");
        w.Close();
        w.Line();
        w.Line("/// <summary>The same for one sample whose z_i is z[FinalRows[i]·stride].</summary>");
        w.Open($"private static {T} BaseComponentOne(ref {T} p, ref {T} z, int stride, int c, {T} normalizer)");
        w.Line("ReadOnlySpan<int> rows = FinalRows;");
        w.Line($"{T} sq = 0;");
        w.Open("for (int i = 0; i < Dim; i++)");
        w.Line($"{T} u = ({BaseCode.StridedZ} - Unsafe.Add(ref p, BaseMeans + c * Dim + i)) * Kernel.Exp(-Unsafe.Add(ref p, {scale}));");
        w.Line("sq = Kernel.Mac(u, u, sq);");
        w.Close();
        w.Line($"return Kernel.Mac(-{half}, sq, BaseComponentConstant(ref p, c, normalizer));");
        w.Close();
        w.Line();

        // log-density: log-sum-exp over the components, by the largest
        BaseCode.Open(w, plan, "void", "BaseLogDensityTile", $"ref {T} p, ref {V} x, ref {V} logDensity", "log p(z) = m + log Σ_c exp(j_c − m), j_c the components' log joints, m their largest (−∞ when every j_c is), for each lane vector of a tile.");
        w.Line($"{T} normalizer = BaseLogitNormalizer(ref p);");
        w.Open("for (int k = 0; k < Lanes; k++)");
        w.Line($"{V} max = TV.Create({ninf});");
        w.Open("for (int c = 0; c < BaseComponents; c++)");
        w.Line($"{V} j = BaseComponentTile(ref p, ref x, k, c, normalizer);");
        w.Line("max = Kernel.Select(Kernel.GreaterThan(j, max), j, max);");
        w.Close();
        w.Line($"{V} sum = {V}.Zero;");
        w.Line("for (int c = 0; c < BaseComponents; c++) sum += Kernel.Exp(BaseComponentTile(ref p, ref x, k, c, normalizer) - max);");
        w.Line($"Unsafe.Add(ref logDensity, k) = Kernel.Select(TV.Equal(max, TV.Create({ninf})), max, max + Kernel.Log(sum));");
        w.Close();
        w.Close();
        w.Line();

        BaseCode.Open(w, plan, T, "BaseLogDensityOne", $"ref {T} p, ref {T} x", "log p(z) of one sample (the tile's operations).");
        w.Line($"{T} normalizer = BaseLogitNormalizer(ref p);");
        w.Line($"{T} max = {ninf};");
        w.Open("for (int c = 0; c < BaseComponents; c++)");
        w.Line($"{T} j = BaseComponentOne(ref p, ref x, 1, c, normalizer);");
        w.Line("if (j > max) max = j;");
        w.Close();
        w.Line($"{T} sum = 0;");
        w.Line("for (int c = 0; c < BaseComponents; c++) sum += Kernel.Exp(BaseComponentOne(ref p, ref x, 1, c, normalizer) - max);");
        w.Line($"return max == {ninf} ? max : max + Kernel.Log(sum);");
        w.Close();
        w.Line();

        BaseCode.Open(w, plan, "void", "BaseComponentLogJointsOne", $"ref {T} p, ref {T} x, Span<{T}> joints", "log(w_c·p_c(z)) of every component, for one sample.");
        w.Line($"{T} normalizer = BaseLogitNormalizer(ref p);");
        w.Line("for (int c = 0; c < BaseComponents; c++) joints[c] = BaseComponentOne(ref p, ref x, 1, c, normalizer);");
        w.Close();
        w.Line();

        // the NLL's gradient
        BaseCode.Open(w, plan, T, "BaseNllGradientOne", $"ref {T} p, ref {T} gp, ref {T} z, ref {T} gz, int stride, {T} weight, int component",
            "−log p(z) (component < 0) or −log(w_c·p_c(z)) of one sample, with r_c the responsibilities (1 for the labelled component): ∂/∂z_i = Σ_c r_c·u_ci/σ_ci, ∂/∂μ_ci = −r_c·u_ci/σ_ci, ∂/∂log σ_ci = r_c·(1 − u_ci²), ∂/∂a_c = w_c − r_c.");
        w.Line("ReadOnlySpan<int> rows = FinalRows;");
        w.Line($"{T} normalizer = BaseLogitNormalizer(ref p);");
        w.Line($"Span<{T}> r = stackalloc {T}[BaseComponents];");
        w.Line($"{T} nll;");
        w.Open("if (component < 0)");
        w.Line($"{T} max = {ninf};");
        w.Open("for (int c = 0; c < BaseComponents; c++)");
        w.Line("r[c] = BaseComponentOne(ref p, ref z, stride, c, normalizer);");
        w.Line("if (r[c] > max) max = r[c];");
        w.Close();
        w.Line($"{T} sum = 0;");
        w.Line("for (int c = 0; c < BaseComponents; c++) sum += Kernel.Exp(r[c] - max);");
        w.Line($"{T} logDensity = max + Kernel.Log(sum);");
        w.Line("for (int c = 0; c < BaseComponents; c++) r[c] = Kernel.Exp(r[c] - logDensity);");
        w.Line("nll = -logDensity;");
        w.Close();
        w.Open("else");
        w.Line("r.Clear();");
        w.Line("r[component] = 1;");
        w.Line("nll = -BaseComponentOne(ref p, ref z, stride, component, normalizer);");
        w.Close();
        w.Line("for (int i = 0; i < Dim; i++) Unsafe.Add(ref gz, rows[i] * stride) = 0;");
        w.Open("for (int c = 0; c < BaseComponents; c++)");
        if (!m.FlowGmm) w.Line("Unsafe.Add(ref gp, BaseLogits + c) += weight * (Kernel.Exp(BaseLogWeightOf(ref p, c, normalizer)) - r[c]);");
        w.Line("if (r[c] == 0) continue;");
        w.Line($"{T} rho = weight * r[c];");
        w.Open("for (int i = 0; i < Dim; i++)");
        w.Line($"{T} inverseScale = Kernel.Exp(-Unsafe.Add(ref p, {scale}));");
        w.Line($"{T} u = ({BaseCode.StridedZ} - Unsafe.Add(ref p, BaseMeans + c * Dim + i)) * inverseScale;");
        w.Line($"{T} gu = rho * u * inverseScale;");
        w.Line("Unsafe.Add(ref gz, rows[i] * stride) += gu;");
        if (m.LearnableMeans) w.Line("Unsafe.Add(ref gp, BaseMeans + c * Dim + i) -= gu;");
        if (m.LearnableScales) w.Line($"Unsafe.Add(ref gp, {scale}) += rho * ({one} - u * u);");
        w.Close();
        w.Close();
        w.Line("return nll;");
        w.Close();
        w.Line();

        // sampling
        BaseCode.Open(w, plan, "void", "BaseSample", $"ref {T} p, Span<{T}> zs, int component, FlowRandom rng",
            "Row by row: the component (the given one, or drawn with probabilities w by BaseFunctions.Categorical), then z_i = μ_ci + σ_ci·ε_i, ε_i = rng.NextGaussian().");
        w.Line("Span<double> weights = stackalloc double[BaseComponents];");
        w.Line($"{T} normalizer = BaseLogitNormalizer(ref p);");
        w.Line("for (int c = 0; c < BaseComponents; c++) weights[c] = Math.Exp(BaseLogWeightOf(ref p, c, normalizer));");
        w.Open("for (int j = 0; j < zs.Length; j += Dim)");
        w.Line("int c = component >= 0 ? component : BaseFunctions.Categorical(rng, weights);");
        w.Line($"for (int i = 0; i < Dim; i++) zs[j + i] = Kernel.Mac(Kernel.Exp(Unsafe.Add(ref p, {scale})), ({T})rng.NextGaussian(), Unsafe.Add(ref p, BaseMeans + c * Dim + i));");
        w.Close();
        w.Close();
        w.Line();
    }
}
