using System.CommandLine;
using System.Globalization;
using System.Text;
using Stork.Evaluation;
using Stork.Imaging;
using Stork.IO;
using Stork.Sampling;
using Stork.Solvers;
using Stork.Solvers.Catalog;

namespace Stork.Cli.Bench;

/// <summary>
/// <c>stork bench ode</c>: RMSE against an exact solution for a list of solvers and NFEs, as a table, CSV and markdown.
/// </summary>
internal static class BenchOdeCommand
{
    public static Command Create(TextWriter stdout)
    {
        var models = new ModelOptionSet();
        var solverDefaults = new SolverOptionSet();
        var solvers = new Option<string>("--solvers")
        {
            Description = "Comma-separated solvers, each optionally with options: name[variant=corrected,s=10,d=3,order=3]. Keys: the solver options' names (as the flags, without --) and variant, s, d, order, eps, base, taylor, clip.",
            DefaultValueFactory = _ => "euler,stork-4",
        };
        var nfes = new Option<string>("--nfe") { Description = "Comma-separated numbers of model evaluations.", DefaultValueFactory = _ => "10,20,50" };
        var noise = new Option<string?>("--noise") { Description = "Initial noise .npy [batch, ...] (default: seeded, --seed/--batch)." };
        var seed = new Option<long?>("--seed") { Description = "Seed of the noise when --noise is not given (default 0)." };
        var batch = new Option<int?>("--batch") { Description = "Batch when --noise is not given (default 4)." };
        var exact = new Option<string?>("--exact") { Description = "Exact final samples .npy, same shape as the noise (default: rk45 at rtol = atol = 1e-9)." };
        var outDir = new Option<string?>("--out-dir") { Description = "Write ode.csv, ode.md and the log-log plot ode.png here." };
        var title = new Option<string?>("--title") { Description = "Title of the markdown table and plot." };

        var command = new Command("ode", "Exact-ODE error (RMSE) of solvers against NFE on one model and one noise batch.");
        command.AddOptions(models.All.Concat(solverDefaults.Settings), [solvers, nfes, noise, seed, batch, exact, outDir, title]);

        command.SetAction((r, ct) =>
        {
            var files = new OutputFiles();
            string? dir = r.GetValue(outDir);
            if (dir is not null)
            {
                foreach (string f in new[] { "ode.md", "ode.csv", "ode.png" })
                {
                    files.Output(Path.Combine(dir, f), "--out-dir", createFolder: true);
                }
            }

            files.Input(r.GetValue(noise));
            files.Input(r.GetValue(exact));
            models.DeclareInputs(r, files);
            var defaults = solverDefaults.Read(r);
            var specs = ParseSolvers(r.GetValue(solvers)!, defaults);
            int[] counts = ParseInts(r.GetValue(nfes)!, "--nfe");
            var denoiser = models.Load(r);
            using var disposeModel = denoiser as IDisposable;
            solverDefaults.Check(r, specs.Select(s => s.Name).Distinct().ToList(), ModelSpec.Of(denoiser));
            ModelOptionSet.DeclareInputs(denoiser, files);
            var shape = denoiser.SampleShape.ToArray();
            float[] x0 = NoiseInput.Load(r.GetValue(noise), r.GetValue(seed), r.GetValue(batch), shape, out int batchSize,
                Sampler.SampleSize(denoiser) * (double)MemoryBudget.SolverBytesPerFloat);
            float[] reference = ExactSolution(r.GetValue(exact), denoiser, x0, batchSize, shape, defaults, ct);

            var results = new List<OdeErrorResult>();
            foreach (var spec in specs)
            {
                foreach (int n in counts)
                {
                    results.Add(OdeError.Measure(denoiser, spec, n, x0, reference, ct));
                }
            }

            string md = OdeError.Markdown(results, counts, r.GetValue(title));
            if (dir is not null)
            {
                files.SetText(Path.Combine(dir, "ode.md"), md);
                files.SetText(Path.Combine(dir, "ode.csv"), OdeError.Csv(results));
                files.Set(Path.Combine(dir, "ode.png"), QualityCharts.OdePlot(results, r.GetValue(title) ?? "exact-ODE error"));
                files.Commit(ct);
            }

            stdout.WriteLine(md);
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>A non-empty list of distinct solver specs (<see cref="SolverSpec.ParseList"/>).</summary>
    internal static IReadOnlyList<SolverSpec> ParseSolvers(string text, SolverSettings defaults)
    {
        var specs = SolverSpec.ParseList(text, defaults);
        if (specs.Count == 0)
        {
            throw new CliException($"--solvers must name at least one solver (got '{text}').");
        }

        if (specs.GroupBy(s => s.Label, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new CliException($"--solvers lists '{twice.Key}' twice.");
        }

        return specs;
    }

    private static float[] ExactSolution(string? path, Models.IDenoiser denoiser, float[] noise, int batch, int[] shape, SolverSettings defaults, CancellationToken ct) =>
        path is not null ? OdeError.ReadExact(path, batch, shape) : OdeError.ReferenceSolution(denoiser, noise, 1e-9, defaults, cancellationToken: ct);

    internal static int[] ParseInts(string text, string option)
    {
        try
        {
            var r = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture)).ToArray();
            if (r.Length == 0 || r.Any(v => v < 1))
            {
                throw new FormatException();
            }

            foreach (int v in r)
            {
                SolverOptionSet.CheckSteps(v, option);
            }

            if (r.Distinct().Count() != r.Length)
            {
                throw new CliException($"{option} lists a value twice ('{text}').");
            }

            return r;
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new CliException($"{option} must be a comma-separated list of positive integers up to {SolverOptionSet.MaxSteps} (got '{text}').");
        }
    }
}
