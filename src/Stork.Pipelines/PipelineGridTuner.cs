using Stork.Evaluation;
using Stork.Grids;
using Stork.Solvers.Catalog;
using Stork.Solvers.Standard;
using Stork.Tuning;

namespace Stork.Pipelines;

/// <summary>
/// Prompts and seeds of a tuning batch: prompt c's image k starts from the noise of seed <see cref="Seed"/> +
/// c * <see cref="PerPrompt"/> + k (as <see cref="PromptedBench"/> seeds its classes).
/// </summary>
public sealed record PromptBatch
{
    /// <summary>A batch of <paramref name="perPrompt"/> images of each prompt of <paramref name="prompts"/>, from <paramref name="seed"/> on.</summary>
    public PromptBatch(IReadOnlyList<string> prompts, int perPrompt, long seed)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        if (prompts.Count == 0 || prompts.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("a tuning batch needs at least one prompt, none of them empty.", nameof(prompts));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(perPrompt, 1);
        Prompts = prompts;
        PerPrompt = perPrompt;
        Seed = seed;
    }

    /// <summary>The prompts.</summary>
    public IReadOnlyList<string> Prompts { get; }

    /// <summary>Images per prompt.</summary>
    public int PerPrompt { get; }

    /// <summary>Seed of prompt 0's first image.</summary>
    public long Seed { get; }

    /// <summary>Images in the batch.</summary>
    public int Count => Prompts.Count * PerPrompt;

    /// <summary>The seed just past the batch (where a disjoint held-out batch may start).</summary>
    public long NextSeed => Seed + Count;
}

/// <summary>
/// <c>stork tune</c> on a text-to-image model folder: the evaluation times of one solver at one step count searched
/// (<see cref="GridSearch"/>) to minimise the RMSE between the solver's final latents and those of a converged run of the
/// same pipeline (<see cref="ReferenceScheduler"/> at <see cref="ReferenceSteps"/> steps, as <c>stork compare</c> and
/// <see cref="PromptedBench"/> measure against) from the same noise, prompt and guidance, over a calibration batch of
/// (prompt, seed) pairs. The error is taken in the latent space the solver integrates (before the VAE decoder, whose
/// nonlinearity and clamping to [0, 1] would hide part of it and cost a decode per image per trial). Flow pipelines'
/// grids are absolute sigmas under the run's dynamic shift, recorded as <see cref="TunedGrid.Mu"/>.
/// </summary>
public sealed class PipelineGridTuner
{
    private readonly ITextToImagePipeline _pipeline;
    private readonly GenerationRequest _template;

    /// <summary>
    /// A tuner of <paramref name="spec"/> at <paramref name="steps"/> steps on <paramref name="pipeline"/> (loaded by
    /// <see cref="TextToImage.Load"/>); <paramref name="template"/> gives the guidance, negative prompt, size and sequence
    /// length of every run (its prompt, seed, count, steps and scheduler are set per run).
    /// </summary>
    public PipelineGridTuner(ITextToImagePipeline pipeline, SolverSpec spec, int steps, GenerationRequest template, string referenceScheduler, int referenceSteps)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(referenceScheduler);
        if (pipeline is not TextToImagePipeline inner)
        {
            throw new ArgumentException("tuning needs a pipeline loaded by TextToImage.Load.", nameof(pipeline));
        }

        if (spec.IsAdaptive || SolverRegistry.IsAdaptive(referenceScheduler) || referenceSteps < 2)
        {
            throw new ArgumentException($"tune a fixed-step solver against a fixed-step reference of at least 2 steps (got {spec.Label}, {referenceScheduler}:{referenceSteps}).");
        }

        _pipeline = pipeline;
        _template = template with { Image = null, Mask = null, ControlImage = null, Latents = null, Stepwise = null };
        Spec = spec with { Settings = spec.Settings with { UseModelGrids = false, Times = null } };
        ReferenceScheduler = referenceScheduler;
        ReferenceSteps = referenceSteps;
        var (settings, scheduler) = inner.Resolve(Request("tune", 0, 1, steps, SchedulerChoice.Named(Spec.Name, Spec.Settings)));
        Settings = settings;
        var solver = scheduler.Solver;
        double[] nodes = solver is StandardSolver standard ? standard.Grid.Times : solver.Times.ToArray();
        if (nodes.Length != steps)
        {
            throw new ArgumentException($"{spec.Label} evaluates {nodes.Length} times in {steps} steps; tune a solver that walks one time per step.");
        }

        Steps = steps;
        Mu = scheduler.Mu;
        nodes[0] = scheduler.Model.Schedule.TMax;
        DefaultTimes = nodes;
        Parametrisation = new GridParametrisation(scheduler.Model.Schedule, steps);
        // The reference must run too (a name the pipeline takes at that step count).
        inner.Resolve(Request("tune", 0, 1, referenceSteps, ReferenceChoice));
    }

    /// <summary>The solver tuned (its settings without model grids or given times).</summary>
    public SolverSpec Spec { get; }

    /// <summary>num_inference_steps, one evaluation time per step.</summary>
    public int Steps { get; }

    /// <summary>The dynamic shift of the runs (flow pipelines with dynamic shifting), which the grid is tuned under.</summary>
    public double? Mu { get; }

    /// <summary>The runs' resolved guidance, size and sequence length.</summary>
    public ResolvedGeneration Settings { get; }

    /// <summary>The solver's own grid in the pipeline (its first time the schedule's largest).</summary>
    public IReadOnlyList<double> DefaultTimes { get; }

    /// <summary>The parametrisation searched (flow: sigma; noise: log-SNR).</summary>
    public GridParametrisation Parametrisation { get; }

    /// <summary>The solver of the converged run.</summary>
    public string ReferenceScheduler { get; }

    /// <summary>Steps of the converged run.</summary>
    public int ReferenceSteps { get; }

    private SchedulerChoice ReferenceChoice => SchedulerChoice.Named(ReferenceScheduler, new SolverSettings { UseModelGrids = false });

    /// <summary>The final latents of <paramref name="batch"/> under the solver on <paramref name="times"/> (null: its own grid), prompt after prompt.</summary>
    public float[] Latents(PromptBatch batch, IReadOnlyList<double>? times, IProgress<GenerationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Run(batch, Steps, SchedulerChoice.Named(Spec.Name, Spec.Settings with { Times = times }), progress, cancellationToken);

    /// <summary>The final latents of <paramref name="batch"/> under the converged run.</summary>
    public float[] Reference(PromptBatch batch, IProgress<GenerationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Run(batch, ReferenceSteps, ReferenceChoice, progress, cancellationToken);

    /// <summary>The shape of <paramref name="batch"/>'s latents: images, then one image's latent shape (as <see cref="GenerationResult.FinalLatentsShape"/>).</summary>
    public int[] LatentShape(PromptBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return [batch.Count, .. ((TextToImagePipeline)_pipeline).LatentShape(Settings)];
    }

    /// <summary>
    /// RMSE of the solver's latents on <paramref name="times"/> (null: its own grid) against <paramref name="reference"/>
    /// over <paramref name="batch"/>; infinity when the solver refuses the grid or diverges.
    /// </summary>
    public double Error(IReadOnlyList<double>? times, PromptBatch batch, ReadOnlySpan<float> reference, CancellationToken cancellationToken = default)
    {
        float[] x;
        try
        {
            x = Latents(batch, times, null, cancellationToken);
        }
        catch (ArgumentException)
        {
            return double.PositiveInfinity;
        }
        catch (InvalidDataException)
        {
            // A non-finite step (the pipeline's finite check).
            return double.PositiveInfinity;
        }

        double rmse = OdeError.Rmse(x, reference);
        return double.IsFinite(rmse) ? rmse : double.PositiveInfinity;
    }

    /// <summary>The search over <paramref name="batch"/> against its <paramref name="reference"/> latents.</summary>
    public GridSearch Search(PromptBatch batch, ReadOnlySpan<float> reference)
    {
        ArgumentNullException.ThrowIfNull(batch);
        float[] y = reference.ToArray();
        return new GridSearch(Parametrisation, DefaultTimes, (times, ct) => Error(times, batch, y, ct));
    }

    /// <summary>The grid of a state, with the dynamic shift it was tuned under.</summary>
    public TunedGrid Grid(TuneState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return new TunedGrid(Spec.Name, Steps, Parametrisation.Times(state.Logits)) { Mu = Mu };
    }

    private float[] Run(PromptBatch batch, int steps, SchedulerChoice scheduler, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var parts = new List<float[]>();
        for (int c = 0; c < batch.Prompts.Count; c++)
        {
            var result = _pipeline.Generate(Request(batch.Prompts[c], batch.Seed + ((long)c * batch.PerPrompt), batch.PerPrompt, steps, scheduler), progress, cancellationToken);
            parts.Add(result.FinalLatents);
        }

        return [.. parts.SelectMany(p => p)];
    }

    private GenerationRequest Request(string prompt, long seed, int count, int steps, SchedulerChoice scheduler) =>
        _template with { Prompt = prompt, Seed = seed, Count = count, Steps = steps, Scheduler = scheduler };
}
