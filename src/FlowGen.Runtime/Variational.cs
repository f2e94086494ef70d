using System;
using System.Numerics;
using System.Threading;

namespace FlowGen;

/// <summary>
/// An unnormalised target density p̃(x) (or p̃(x | c)) for variational inference (<see cref="FlowTrainer.FitTarget{T}(ICouplingFlow{T}, IFlowTarget{T}, TrainingOptions?, IProgress{TrainingProgress}?, CancellationToken)"/>)
/// and importance sampling (<see cref="FlowImportance"/>): a Bayesian posterior up to its evidence, a Boltzmann density
/// exp(−E(x)/kT), …
/// </summary>
/// <remarks>
/// Called concurrently from several threads (the trainer's shards), each call with its own spans: keep no mutable state.
/// Return −∞ where p̃ is zero; NaN or +∞ make the trainer skip the step.
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public interface IFlowTarget<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Number of coordinates of x (must equal the flow's Dim).</summary>
    int Dim { get; }

    /// <summary>
    /// True when <see cref="Evaluate"/> fills the gradients ∇ₓ log p̃(x). <c>FitTarget</c> needs them (its estimator is the
    /// reparameterised one); <see cref="FlowImportance"/> does not.
    /// </summary>
    bool ProvidesGradient { get; }

    /// <summary>
    /// log p̃ of each row of <paramref name="xs"/> into <paramref name="logDensities"/> and, when <paramref name="gradients"/>
    /// is not empty, ∇ₓ log p̃ of each row into it (row-major, like xs).
    /// </summary>
    /// <param name="xs">Points, row-major [n, Dim].</param>
    /// <param name="contexts">The rows' contexts, [n, ContextDim] (amortised inference), or empty.</param>
    /// <param name="logDensities">Receives log p̃(xᵢ) (n values), in double.</param>
    /// <param name="gradients">Receives ∇ₓ log p̃(xᵢ) ([n, Dim]); empty when not wanted.</param>
    void Evaluate(ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<double> logDensities, Span<T> gradients);
}

/// <summary>
/// The reverse Kullback–Leibler objective of variational inference (docs/model.md §12): for latent noise zᵢ ~ N(0, I) and
/// xᵢ = f⁻¹(zᵢ; c) the per-row loss is log q(xᵢ) − log p̃(xᵢ), with log q(x) = log N(z) − log|det ∂x/∂z| from the same
/// <see cref="ICouplingFlow{T}.Inverse(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T})"/> pass, and the reparameterised
/// gradient through <see cref="ICouplingFlow{T}.InverseVjp"/> with ∂L/∂x = −∇ₓ log p̃(x) and ∂L/∂log|det ∂x/∂z| = −1.
/// Its mean is KL(q ‖ p) − log Z ≥ −log Z. What <c>FlowTrainer.FitTarget</c> runs.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class ReverseKlObjective<T> : IFlowObjective<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IFlowTarget<T> _target;

    // per-thread scratch (the trainer evaluates shards on several threads at once), grown to the largest batch seen; and the
    // flow whose base was last checked (a flow's StackSpec never changes, so the search runs once per flow, not per step)
    private readonly ThreadLocal<Scratch> _scratch = new(() => new Scratch());
    private ICouplingFlow<T>? _checkedFlow;

    private sealed class Scratch
    {
        public T[] Zs = [], Xs = [], LogDets = [], GradXs = [], GradLogDets = [];
        public double[] LogTarget = [];

        public void Ensure(int n, int d)
        {
            if (LogDets.Length < n)
            {
                LogDets = new T[n];
                GradLogDets = new T[n];
                LogTarget = new double[n];
            }
            if (Zs.Length < n * d)
            {
                Zs = new T[n * d];
                Xs = new T[n * d];
                GradXs = new T[n * d];
            }
        }
    }

    /// <summary>The reverse KL to <paramref name="target"/>, which must provide ∇ₓ log p̃.</summary>
    /// <exception cref="ArgumentException">The target provides no gradient.</exception>
    public ReverseKlObjective(IFlowTarget<T> target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!target.ProvidesGradient)
        {
            throw new ArgumentException(
                "The target provides no gradient (ProvidesGradient is false): FitTarget's reverse-KL estimator is the reparameterised one, " +
                "which needs ∇ₓ log p̃(x). Implement the gradient (e.g. by hand or by finite differences in Evaluate); a score-function estimator is not offered.",
                nameof(target));
        }
        _target = target;
    }

    /// <summary>The target.</summary>
    public IFlowTarget<T> Target => _target;

    /// <summary>False: the flow's inputs are not data, ActNorm layers keep their initial identity.</summary>
    public bool UsesDataInitialization => false;

    /// <summary>
    /// Draws the batch's latent noise (<see cref="FlowBatch{T}.CreateRandom"/>: Count × Dim standard normals), maps it through
    /// the inverse with its log-determinant, and evaluates log q and log p̃ (and ∇ₓ log p̃ when <paramref name="gradients"/> is
    /// not empty). Returns Σᵢ (log q(xᵢ) − log p̃(xᵢ)).
    /// </summary>
    private double Draw(ICouplingFlow<T> flow, FlowBatch<T> batch, Span<T> zs, Span<T> xs, Span<T> logDets, Span<double> logTarget, Span<T> gradients)
    {
        int n = batch.Count, d = flow.Dim;
        FillGaussian(batch.CreateRandom(), zs);
        flow.Inverse(zs, batch.Contexts, xs, logDets);
        _target.Evaluate(xs, batch.Contexts, logTarget, gradients);
        double half = 0.5 * d * Math.Log(2 * Math.PI), loss = 0;
        for (int i = 0; i < n; i++)
        {
            double sq = 0;
            for (int j = 0; j < d; j++)
            {
                double z = double.CreateTruncating(zs[i * d + j]);
                sq += z * z;
            }
            double logQ = -0.5 * sq - half - double.CreateTruncating(logDets[i]);
            loss += logQ - logTarget[i];
        }
        return loss;
    }

    /// <inheritdoc/>
    public double LossAndGradient(ICouplingFlow<T> flow, FlowBatch<T> batch, Span<T> gradParameters, T weight)
    {
        int n = batch.Count, d = flow.Dim;
        CheckDim(flow);
        Scratch s = _scratch.Value!;
        s.Ensure(n, d);
        Span<T> zs = s.Zs.AsSpan(0, n * d), gradXs = s.GradXs.AsSpan(0, n * d), gradLogDets = s.GradLogDets.AsSpan(0, n);
        double loss = Draw(flow, batch, zs, s.Xs.AsSpan(0, n * d), s.LogDets.AsSpan(0, n), s.LogTarget.AsSpan(0, n), gradXs);
        // L = Σ log N(z) − log|det ∂x/∂z| − log p̃(x(θ)): ∂L/∂x = −∇ₓ log p̃, ∂L/∂log|det| = −1 (each times weight)
        for (int i = 0; i < gradXs.Length; i++) gradXs[i] = -weight * gradXs[i];
        gradLogDets.Fill(-weight);
        flow.InverseVjp(zs, batch.Contexts, gradXs, gradLogDets, gradParameters, default, default);
        return loss;
    }

    /// <inheritdoc/>
    public double Loss(ICouplingFlow<T> flow, FlowBatch<T> batch)
    {
        int n = batch.Count, d = flow.Dim;
        CheckDim(flow);
        Scratch s = _scratch.Value!;
        s.Ensure(n, d);
        return Draw(flow, batch, s.Zs.AsSpan(0, n * d), s.Xs.AsSpan(0, n * d), s.LogDets.AsSpan(0, n), s.LogTarget.AsSpan(0, n), default);
    }

    private void CheckDim(ICouplingFlow<T> flow)
    {
        if (_target.Dim != flow.Dim) throw new ArgumentException($"The target's Dim ({_target.Dim}) must equal the flow's Dim ({flow.Dim}).", "target");
        if (ReferenceEquals(Volatile.Read(ref _checkedFlow), flow)) return;
        RequireStandardNormalBase(flow);
        Volatile.Write(ref _checkedFlow, flow);
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless the flow has the standard-normal base (no base attribute).</summary>
    internal static void RequireStandardNormalBase(ICouplingFlow<T> flow)
    {
        if (!flow.StackSpec.Contains(StandardNormalBaseSpec, StringComparison.Ordinal))
            throw new ArgumentException(
                $"{flow.ModelName} has a declared base distribution: the reverse-KL objective draws z ~ N(0, I) and adds log N(z; 0, I) " +
                "(docs/model.md §12), so it needs the standard-normal base. Importance sampling (FlowImportance) works with every base.", "flow");
    }

    /// <summary>The "base" object of a standard-normal flow's <see cref="ICouplingFlow{T}.StackSpec"/> (docs/model.md §8).</summary>
    private const string StandardNormalBaseSpec = "\"base\":{\"kind\":\"standard_normal\"}";

    internal static void FillGaussian(FlowRandom rng, Span<T> values)
    {
        if (typeof(T) == typeof(double)) rng.FillGaussian(System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(values));
        else if (typeof(T) == typeof(float)) rng.FillGaussian(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(values));
        else for (int i = 0; i < values.Length; i++) values[i] = T.CreateChecked(rng.NextGaussian());
    }
}

public static partial class FlowTrainer
{
    /// <summary>
    /// Variational inference: fits the flow's distribution q to the unnormalised target p̃ by minimising the reverse KL,
    /// E_{z∼N(0,I)}[log q(x) − log p̃(x)] with x = f⁻¹(z) (<see cref="ReverseKlObjective{T}"/>; docs/model.md §12), on
    /// <see cref="TrainingOptions.BatchSize"/> fresh latent draws per step; validation on <see cref="TrainingOptions.ValidationSamples"/>
    /// fixed draws. The reported losses are estimates of KL(q ‖ p) − log Z. The flow's base must be the standard normal.
    /// </summary>
    /// <param name="flow">The flow (unconditional); its parameters are trained in place.</param>
    /// <param name="target">log p̃ and ∇ₓ log p̃ (<see cref="IFlowTarget{T}.ProvidesGradient"/> must be true).</param>
    /// <param name="options">Options (defaults when null).</param>
    /// <param name="progress">Receives a report every <see cref="TrainingOptions.EvaluateEvery"/> steps and at every event.</param>
    /// <param name="cancellationToken">Stops the run between steps.</param>
    /// <returns>How the run went.</returns>
    /// <exception cref="ArgumentException">The target gives no gradient, or its Dim differs from the flow's.</exception>
    public static TrainingResult FitTarget<T>(ICouplingFlow<T> flow, IFlowTarget<T> target, TrainingOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(flow);
        var objective = new ReverseKlObjective<T>(target);
        if (target.Dim != flow.Dim) throw new ArgumentException($"target.Dim ({target.Dim}) must equal the flow's Dim ({flow.Dim}).", nameof(target));
        ReverseKlObjective<T>.RequireStandardNormalBase(flow);
        if (flow.ContextDim != 0) throw new ArgumentException($"The flow is conditional (ContextDim {flow.ContextDim}): give the contexts (FitTarget(flow, target, contexts, options)).", nameof(flow));
        return Fit(flow, objective, options, progress, cancellationToken);
    }

    /// <summary>
    /// Amortised variational inference for a conditional flow: the rows of <paramref name="contexts"/> are the data (shuffled
    /// into batches, a random <see cref="TrainingOptions.ValidationFraction"/> held out); for every context row one latent
    /// z ~ N(0, I) is drawn and the reverse KL of q(· | c) to p̃(· | c) is minimised, averaged over the rows.
    /// </summary>
    /// <param name="flow">The conditional flow; its parameters are trained in place.</param>
    /// <param name="target">log p̃(x | c) and its gradient in x.</param>
    /// <param name="contexts">Context rows, row-major [n, ContextDim], n ≥ 2.</param>
    /// <param name="options">Options (defaults when null).</param>
    /// <param name="progress">Receives a report every <see cref="TrainingOptions.EvaluateEvery"/> steps and at every event.</param>
    /// <param name="cancellationToken">Stops the run between steps.</param>
    /// <returns>How the run went.</returns>
    public static TrainingResult FitTarget<T>(ICouplingFlow<T> flow, IFlowTarget<T> target, ReadOnlySpan<T> contexts, TrainingOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(flow);
        var objective = new ReverseKlObjective<T>(target);
        if (target.Dim != flow.Dim) throw new ArgumentException($"target.Dim ({target.Dim}) must equal the flow's Dim ({flow.Dim}).", nameof(target));
        ReverseKlObjective<T>.RequireStandardNormalBase(flow);
        if (flow.ContextDim == 0) return FitTarget(flow, target, options, progress, cancellationToken);
        options ??= new TrainingOptions();
        var set = DataSet<T>.Create(flow, options,
            new Rows<T>(default, contexts, default, nameof(contexts), nameof(contexts), nameof(contexts), nameof(contexts)), hasInputs: false);
        return Run(flow, set, objective, options, progress, cancellationToken);
    }
}
