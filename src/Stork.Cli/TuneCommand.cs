using System.CommandLine;
using System.Globalization;
using Stork.Evaluation;
using Stork.Grids;
using Stork.IO;
using Stork.Models;
using Stork.Onnx;
using Stork.Sampling;
using Stork.Tuning;

namespace Stork.Cli;

/// <summary>
/// <c>stork tune</c>: the evaluation times of one solver at one NFE tuned for one model (<see cref="GridTuner"/>) against
/// the converged RK45 solution from the same noise on a calibration batch, checked on a held-out batch, written as a grid
/// file any solver takes (<c>--grid-file</c>, spec key <c>grid-file=</c>) and a model card can list (<c>tuned_grids</c>).
/// Resumable: the references and the search state are kept beside the output and a rerun continues from them.
/// </summary>
internal static class TuneCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var models = new ModelOptionSet();
        var defaults = new SolverOptionSet();
        var runtime = new RuntimeOptionSet();
        var solver = new Option<string>("--solver") { Description = "The solver to tune, with options in brackets, e.g. stork-4 or unipc[order=3].", DefaultValueFactory = _ => "stork-4" };
        var nfe = new Option<int>("--nfe") { Description = "Model evaluations the grid is for.", DefaultValueFactory = _ => 10 };
        var calibration = new Option<int>("--calibration") { Description = "Samples of the calibration batch (seed --seed).", DefaultValueFactory = _ => 32 };
        var validation = new Option<int>("--validation") { Description = "Samples of the held-out batch (seed --seed + 1).", DefaultValueFactory = _ => 32 };
        var seed = new Option<long>("--seed") { Description = "Seed of the calibration noise (the held-out batch uses seed + 1) and of the search order.", DefaultValueFactory = _ => 0 };
        var budget = new Option<int>("--budget") { Description = "Solver runs over the calibration batch the search may spend.", DefaultValueFactory = _ => 120 };
        var referenceTol = new Option<double>("--reference-tol") { Description = "rtol = atol of the RK45 reference solutions.", DefaultValueFactory = _ => 1e-6 };
        var output = new Option<string>("--out") { Description = "The grid file to write (JSON); FILE.state.json and FILE.reference.npy beside it make the run resumable.", Required = true };

        var command = new Command("tune", "Tune a solver's time steps for a model at one NFE: minimise the RMSE to the converged ODE solution from the same noise on a calibration batch; write a grid file.");
        command.AddOptions(models.All.Concat(runtime.All), [solver, nfe, calibration, validation, seed, budget, referenceTol, output]);

        command.SetAction((r, ct) =>
        {
            int n = r.GetValue(nfe), nc = r.GetValue(calibration), nv = r.GetValue(validation), evaluations = r.GetValue(budget);
            double tol = r.GetValue(referenceTol);
            SolverOptionSet.CheckSteps(n, "--nfe");
            if (nc < 1 || nv < 1 || evaluations < 1 || nc > 4096 || nv > 4096)
            {
                throw new CliException($"need 1 to 4096 --calibration and --validation samples and --budget >= 1 (got {nc}, {nv}, {evaluations}).");
            }

            if (!(tol is > 0 and < 1))
            {
                throw new CliException($"--reference-tol must be between 0 and 1 (got {tol}).");
            }

            string outPath = r.GetValue(output)!;
            if (!outPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                throw new CliException($"--out must end in .json (got '{outPath}').");
            }

            var files = new OutputFiles();
            files.Output(outPath, "--out");
            models.DeclareInputs(r, files);
            var spec = BenchOdeCommand(r.GetValue(solver)!);
            var denoiser = models.Load(r, new Stork.Onnx.DenoiserHints { DiscreteNoise = false }, runtime.Read(r));
            using var disposeModel = denoiser as IDisposable;
            var tuner = new GridTuner(denoiser, spec, n);
            int size = Sampler.SampleSize(denoiser);
            string key = string.Create(CultureInfo.InvariantCulture,
                $"{DenoiserImages.Name(denoiser)}|{spec.Label}|{n}|{nc}|{nv}|{r.GetValue(seed)}|{tol:R}|{tuner.Steps}");
            var calibrationNoise = GaussianNoise.Create(nc * size, r.GetValue(seed));
            var validationNoise = GaussianNoise.Create(nv * size, r.GetValue(seed) + 1);
            string referencePath = outPath + ".reference.npy", statePath = outPath + ".state.json";
            // The references depend on the model, the noise and the tolerance only: another solver's cached file serves.
            // A solver that stops early (stopping-eps on a noise model) is measured against the solution that stops there.
            double end = tuner.Parametrisation.EndTime;
            string referenceKey = string.Create(CultureInfo.InvariantCulture, $"{DenoiserImages.Name(denoiser)}|{nc}|{nv}|{r.GetValue(seed)}|{tol:R}")
                + (spec.Settings.StoppingEps is not null ? string.Create(CultureInfo.InvariantCulture, $"|end {end:R}") : "");
            var referenceSettings = new Solvers.Catalog.SolverSettings { StoppingEps = denoiser.Schedule.IsFlowMatching ? null : spec.Settings.StoppingEps };
            var reference = ReferenceCache.GetOrSolve(referencePath, referenceKey, denoiser, [.. calibrationNoise, .. validationNoise], tol, referenceSettings, 64,
                m => stderr.WriteLine($"warning: {m}"), ct);
            var calibrationReference = reference.AsSpan(0, nc * size).ToArray();
            var validationReference = reference.AsSpan(nc * size).ToArray();
            var options = new TuneOptions { Budget = evaluations, Seed = r.GetValue(seed) };
            var state = TuneStateFile.Load(statePath, key, tuner.Steps, out string? problem);
            if (state is not null || problem is not null)
            {
                stderr.WriteLine(state is not null ? $"resuming from '{statePath}' ({state.Evaluations} solver runs done)." : $"warning: '{statePath}' {problem}; starting afresh.");
            }

            state ??= tuner.Start(calibrationNoise, calibrationReference, options, ct);
            ProgressDisplay.Run(stderr, $"tune {spec.Label} at NFE {n} on {DenoiserImages.Name(denoiser)}", evaluations, progress =>
            {
                var sink = progress is null ? null : new Progress(progress);
                state = tuner.Search(calibrationNoise, calibrationReference, options, state, s => AtomicFile.WriteAllText(statePath, TuneStateFile.ToJson(key, s)), sink, ct);
            });

            var grid = tuner.Grid(state);
            double defaultValidation = tuner.Error(null, validationNoise, validationReference, cancellationToken: ct);
            double tunedValidation = tuner.Error(grid.Times, validationNoise, validationReference, cancellationToken: ct);
            var details = new Dictionary<string, object?>
            {
                ["model"] = DenoiserImages.Name(denoiser),
                ["settings"] = spec.Label,
                ["method"] = "coordinate search (seeded order, +/- step, step halved after a sweep without improvement) over the softmax logits of the grid's increments "
                    + (denoiser.Schedule.IsFlowMatching ? "in sigma" : "in log-SNR") + ", from the solver's default grid; objective: RMSE to RK45 from the same noise",
                ["seed"] = r.GetValue(seed),
                ["calibration_samples"] = nc,
                ["validation_samples"] = nv,
                ["reference_tol"] = tol,
                ["reference_end"] = denoiser.Schedule.IsFlowMatching ? null : end,
                ["objective_evaluations"] = state.Evaluations,
                ["calibration_rmse_default"] = state.DefaultLoss,
                ["calibration_rmse_tuned"] = state.Loss,
                ["validation_rmse_default"] = defaultValidation,
                ["validation_rmse_tuned"] = tunedValidation,
                ["default_times"] = tuner.DefaultTimes,
                ["command"] = "stork tune " + string.Join(' ', r.Tokens.Select(t => t.Value)),
            };
            files.SetText(outPath, grid.ToJson(details));
            files.Commit(ct);
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {outPath}: {spec.Label} at NFE {n} ({tuner.Steps} steps), RMSE to RK45: calibration {state.DefaultLoss:0.000e+0} -> {state.Loss:0.000e+0}, held-out {defaultValidation:0.000e+0} -> {tunedValidation:0.000e+0} ({state.Evaluations} solver runs)."));
            return Task.FromResult(0);
        });
        return command;
    }

    private static SolverSpec BenchOdeCommand(string text)
    {
        var specs = Bench.BenchOdeCommand.ParseSolvers(text, new Solvers.Catalog.SolverSettings());
        return specs.Count == 1 ? specs[0] : throw new CliException($"--solver names one solver (got '{text}').");
    }

    private sealed class Progress(IProgress<StepInfo> inner) : IProgress<TuneProgress>
    {
        public void Report(TuneProgress value) => inner.Report(new StepInfo(value.Evaluations, value.Budget, value.BestLoss));
    }
}
