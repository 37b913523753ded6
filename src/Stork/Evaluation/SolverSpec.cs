using System.Globalization;
using Stork.Models;
using Stork.Sampling;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Stabilized;
using Stork.Solvers.Standard;

namespace Stork.Evaluation;

/// <summary>
/// A solver with its own options, written <c>name[key=value,...]</c>, e.g. <c>stork-4[variant=corrected,s=10,d=3]</c>
/// or <c>unipc[order=3,variant=bh1]</c>. Keys: variant (STORK: upstream|corrected; UniPC: bh1|bh2), s (substeps),
/// d (derivative order), order (solver order), rtol, atol, shift, grid, clip (DDIM's clip_sample), grid-file (alias sigmas: a
/// tuned grid file, <see cref="Grids.TunedGrid"/>), tuned (false: ignore the model's tuned grids).
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

        if (!SolverRegistry.Contains(name))
        {
            throw new ArgumentException($"unknown scheduler '{name}' (expected one of: {string.Join(", ", SolverRegistry.Names)}).");
        }

        var s = defaults;
        foreach (string pair in args.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0)
            {
                throw new ArgumentException($"solver '{text}': '{pair}' is not key=value.");
            }

            string key = pair[..eq].Trim().ToLowerInvariant(), value = pair[(eq + 1)..].Trim();
            s = key switch
            {
                "variant" when name.StartsWith("stork", StringComparison.OrdinalIgnoreCase) => s with { StorkVariant = ParseVariant(value) },
                "variant" => s with { UniPcVariant = GridKindNames.ParseUniPcVariant(value) },
                "s" or "substeps" => s with { Substeps = Int(key, value) },
                "d" or "derivative-order" => s with { DerivativeOrder = Int(key, value) },
                "order" => s with { SolverOrder = Int(key, value) },
                "rtol" => s with { RelativeTolerance = Double(key, value) },
                "atol" => s with { AbsoluteTolerance = Double(key, value) },
                "shift" => s with { FlowGrid = s.FlowGrid with { Shift = Double(key, value) } },
                "grid" => s with { Grid = GridKindNames.Parse(value) },
                "corrector" => s with { Corrector = ParseCorrector(value) },
                "eps" or "stopping-eps" => s with { StoppingEps = Double(key, value) },
                "taylor" => s with
                {
                    TaylorVariable = value.ToLowerInvariant() switch
                    {
                        "time" or "t" => TaylorVariable.Time,
                        "logsnr" or "lambda" => TaylorVariable.LogSnr,
                        _ => throw new ArgumentException($"taylor must be time or logsnr (got '{value}')."),
                    }
                },
                "base" => s with { FlowSigmas = ParseFlowSigmas(value) },
                "clip" => s with { Diffusers = s.Diffusers with { ClipSample = Bool(key, value) } },
                "grid-file" or "sigmas" => s with { Times = LoadGrid(value) },
                "tuned" => s with { UseModelGrids = Bool(key, value) },
                _ => throw new ArgumentException($"solver '{text}': unknown option '{key}' (variant, s, d, order, rtol, atol, shift, grid, corrector, eps, base, taylor, clip, grid-file, tuned)."),
            };
        }

        return new SolverSpec(name.ToLowerInvariant(), s, text.Trim());
    }

    private static IReadOnlyList<double> LoadGrid(string path)
    {
        try
        {
            return Grids.TunedGrid.Load(path).Times;
        }
        catch (InvalidDataException e)
        {
            throw new ArgumentException(e.Message, e);
        }
    }

    private static StorkVariant ParseVariant(string v) => v.ToLowerInvariant() switch
    {
        "upstream" => StorkVariant.Upstream,
        "corrected" => StorkVariant.Corrected,
        _ => throw new ArgumentException($"STORK variant must be upstream or corrected (got '{v}')."),
    };

    /// <summary>Corrector mode: on, off or auto (true / false accepted).</summary>
    public static CorrectorMode ParseCorrector(string v) => v.ToLowerInvariant() switch
    {
        "on" or "true" => CorrectorMode.On,
        "off" or "false" => CorrectorMode.Off,
        "auto" => CorrectorMode.Auto,
        _ => throw new ArgumentException($"corrector must be on, off or auto (got '{v}')."),
    };

    /// <summary>STORK's flow base sigmas: step (linspace(1, 1/N, N)) or training (linspace(1, 1/T, N)).</summary>
    public static FlowSigmaBase ParseFlowSigmas(string v) => v.ToLowerInvariant() switch
    {
        "step" or "steps" => FlowSigmaBase.StepSigmas,
        "training" or "train" => FlowSigmaBase.TrainingSigmas,
        _ => throw new ArgumentException($"base must be step (linspace(1, 1/N, N)) or training (linspace(1, 1/T, N)) (got '{v}')."),
    };

    private static int Int(string key, string v) =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int r) ? r : throw new ArgumentException($"{key} must be an integer (got '{v}').");

    private static bool Bool(string key, string v) =>
        bool.TryParse(v, out bool r) ? r : throw new ArgumentException($"{key} must be true or false (got '{v}').");

    private static double Double(string key, string v) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) ? r : throw new ArgumentException($"{key} must be a number (got '{v}').");

    /// <summary>Whether this is an adaptive integrator (rk45): it chooses its own evaluations and ignores an NFE budget.</summary>
    public bool IsAdaptive => SolverRegistry.IsAdaptive(Name);

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
