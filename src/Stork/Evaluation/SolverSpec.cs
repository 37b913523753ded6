using Stork.Models;
using Stork.Sampling;
using Stork.Solvers;
using Stork.Solvers.Catalog;

namespace Stork.Evaluation;

/// <summary>
/// A solver with its own options, written <c>name[key=value,...]</c>, e.g. <c>stork-4[variant=corrected,s=10,d=3]</c>
/// or <c>unipc[order=3,variant=bh1]</c>. The keys and their values are those of <see cref="SolverOption"/> (with its
/// aliases: variant, s, d, order, eps, base; grid-file: a tuned grid file, <see cref="Grids.TunedGrid"/>; tuned=false:
/// ignore the model's tuned grids); an option the solver does not read is an error.
/// </summary>
public sealed record SolverSpec(string Name, SolverSettings Settings, string Label)
{
    /// <summary>Parses a comma-separated list, brackets protecting their own commas.</summary>
    public static IReadOnlyList<SolverSpec> ParseList(string text, SolverSettings defaults)
    {
        var items = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            depth += text[i] == '[' ? 1 : text[i] == ']' ? -1 : 0;
            if (text[i] == ',' && depth == 0)
            {
                items.Add(text[start..i]);
                start = i + 1;
            }
        }

        items.Add(text[start..]);
        return items.Select(s => s.Trim()).Where(s => s.Length > 0).Select(s => Parse(s, defaults)).ToList();
    }

    /// <summary>Parses one specification, <c>name</c> or <c>name:key=value,...</c>, on top of <paramref name="defaults"/>.</summary>
    public static SolverSpec Parse(string text, SolverSettings defaults)
    {
        string name = text, args = "";
        int open = text.IndexOf('[');
        if (open >= 0)
        {
            if (!text.EndsWith(']'))
            {
                throw new ArgumentException($"solver '{text}': options must be written name[key=value,...].");
            }

            name = text[..open];
            args = text[(open + 1)..^1];
        }

        SolverRegistry.Require(name);
        var s = SolverOption.ApplyAll(name, args, defaults, text);
        return new SolverSpec(name.ToLowerInvariant(), s, text.Trim());
    }

    /// <summary>Whether this is an adaptive integrator (rk45): it chooses its own evaluations and ignores an NFE budget.</summary>
    public bool IsAdaptive => SolverRegistry.IsAdaptive(Name);

    /// <summary>
    /// The resolved settings (defaults included) as a short hash: what, with <see cref="Label"/>, tells two cells of a
    /// quality run apart (<see cref="QualityRow.Settings"/>).
    /// </summary>
    public string SettingsKey => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
        $"{Name}|{Settings}|{Settings.FlowGrid}|{Settings.Diffusers}|{string.Join(",", Settings.Diffusers.DisableCorrector)}|{Grids.TunedGrid.TimesKey(Settings.Times)}")))[..16];

    /// <summary>
    /// Samples in place from the noise in <paramref name="sample"/>: a fixed-step solver built for <paramref name="nfe"/>
    /// evaluations (<see cref="CreateForNfe"/>), or the adaptive integrator, which ignores <paramref name="nfe"/>.
    /// </summary>
    public void Sample(IDenoiser denoiser, int nfe, Span<float> sample, IProgress<StepInfo>? progress = null, CancellationToken cancellationToken = default)
    {
        var model = ModelSpec.Of(denoiser);
        if (IsAdaptive)
        {
            Sampler.Integrate(denoiser, SolverRegistry.CreateIntegrator(Name, model, Settings), sample, progress, cancellationToken);
        }
        else
        {
            Sampler.Run(denoiser, CreateForNfe(model, nfe), sample, progress, cancellationToken);
        }
    }

    /// <summary>
    /// Samples in place in blocks of <paramref name="chunk"/> samples (each block one batch, as a sharded run solves it)
    /// and returns the model evaluations of one block (the last one's: an adaptive integrator's count varies).
    /// </summary>
    public int SampleInChunks(IDenoiser denoiser, int nfe, Span<float> samples, int chunk, IProgress<StepInfo>? progress = null, CancellationToken cancellationToken = default)
    {
        int size = Sampler.SampleSize(denoiser), n = samples.Length / size, used = 0;
        for (int start = 0; start < n; start += chunk)
        {
            int count = Math.Min(chunk, n - start);
            var counter = new CountingDenoiser(denoiser);
            Sample(counter, nfe, samples.Slice(start * size, count * size), progress, cancellationToken);
            used = counter.Evaluations;
        }

        return used;
    }

    /// <summary>The model evaluations <see cref="Sample"/> makes at <paramref name="nfe"/>, when known in advance (0 for an adaptive integrator).</summary>
    public int PlannedEvaluations(ModelSpec model, int nfe) => IsAdaptive ? 0 : CreateForNfe(model, nfe).Times.Count;

    /// <summary>
    /// Builds the fixed-step solver with the largest step count whose evaluations do not exceed <paramref name="nfe"/>;
    /// an adaptive integrator (<see cref="IsAdaptive"/>) raises <see cref="ArgumentException"/>.
    /// </summary>
    public ISolver CreateForNfe(ModelSpec model, int nfe)
    {
        // Evaluations grow with the step count (about linearly): jump down to the proportional count until one fits, then
        // bisect between it and the smallest count known not to fit: a few solver builds, not one per step.
        if (Settings.Times is { } given)
        {
            var solver = SolverRegistry.Create(Name, model, given.Count, Settings);
            return solver.Times.Count <= nfe
                ? solver
                : throw new ArgumentException($"{Label}: the given grid of {given.Count} steps takes {solver.Times.Count} model evaluations, more than {nfe}.");
        }

        ISolver? best = null;
        int fits = 0, fails = nfe + 1, steps = nfe;
        while (steps >= 1 && best is null)
        {
            var solver = SolverRegistry.Create(Name, model, steps, Settings);
            int count = solver.Times.Count;
            if (count <= nfe)
            {
                (best, fits) = (solver, steps);
            }
            else
            {
                fails = steps;
                steps = Math.Min(steps - 1, (int)Math.Floor((double)steps * nfe / count));
            }
        }

        while (best is not null && fails - fits > 1)
        {
            int mid = fits + ((fails - fits) / 2);
            var solver = SolverRegistry.Create(Name, model, mid, Settings);
            if (solver.Times.Count <= nfe)
            {
                (best, fits) = (solver, mid);
            }
            else
            {
                fails = mid;
            }
        }

        if (best is not null)
        {
            return best;
        }

        throw new ArgumentException($"{Label} cannot run with {nfe} model evaluations.");
    }
}
