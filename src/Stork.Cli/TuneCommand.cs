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
/// On a text-to-image model folder (<see cref="Stork.Pipelines.PipelineGridTuner"/>) the batches are (prompt, seed)
/// pairs, the reference the pipeline's converged run (<c>--reference</c>), and a folder lists grids under
/// <c>_stork_defaults.tuned_grids</c>. Resumable: the references and the search state are kept beside the output and a
/// rerun continues from them.
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
        var calibration = new Option<int?>("--calibration") { Description = "Samples of the calibration batch (seed --seed; default 32). Model folders: images per prompt (default 2)." };
        var validation = new Option<int?>("--validation") { Description = "Samples of the held-out batch (seed --seed + 1; default 32). Model folders: images per prompt, seeds after the calibration batch's (default 2)." };
        var prompts = new Option<string?>("--prompt-file", "--prompts") { Description = "Model folders: the prompts of both batches, one per non-empty line (default: the class names of --classifier, as stork bench prompted)." };
        var classifier = new Option<string?>("--classifier") { Description = "Model folders without --prompt-file: the classifier card whose class names are the prompts (default: the shipped models/fashion-classifier.json)." };
        var trueCfg = new Option<double?>("--true-cfg") { Description = "Model folders: " + Stork.Pipelines.PipelineHelp.TrueCfg };
        var guidance = new Option<double?>("--guidance") { Description = "Model folders: " + Stork.Pipelines.PipelineHelp.Guidance };
        var negative = new Option<string?>("--negative-prompt") { Description = "Model folders: " + Stork.Pipelines.PipelineHelp.NegativePrompt };
        var referenceRun = new Option<string>("--reference") { Description = "Model folders: the converged run, SOLVER:STEPS (as stork compare; the default is stork bench prompted's).", DefaultValueFactory = _ => "euler:200" };
        var seed = new Option<long>("--seed") { Description = "Seed of the calibration noise (the held-out batch uses seed + 1) and of the search order.", DefaultValueFactory = _ => 0 };
        var budget = new Option<int>("--budget") { Description = "Solver runs over the calibration batch the search may spend.", DefaultValueFactory = _ => 120 };
        var referenceTol = new Option<double>("--reference-tol") { Description = "rtol = atol of the RK45 reference solutions.", DefaultValueFactory = _ => 1e-6 };
        var output = new Option<string>("--out") { Description = "The grid file to write (JSON); FILE.state.json and FILE.reference.npy beside it make the run resumable.", Required = true };

        var command = new Command("tune", "Tune a solver's time steps for a model (card, mixture, or text-to-image folder with prompts) at one NFE: minimise the RMSE to the converged solution from the same noise on a calibration batch; write a grid file.");
        command.AddOptions(models.All.Concat(runtime.All), [solver, nfe, calibration, validation, seed, budget, referenceTol, output, prompts, classifier, trueCfg, guidance, negative, referenceRun]);

        command.SetAction((r, ct) =>
        {
            if (r.GetValue(models.Model) is { } m && Directory.Exists(ShippedModels.Resolve(m)))
            {
                if (r.GetResult(referenceTol) is { Implicit: false })
                {
                    throw new CliException("--reference-tol sets the RK45 reference of cards; a model folder's reference is --reference SOLVER:STEPS.");
                }

                var folder = new FolderTune(ShippedModels.Resolve(m), r.GetValue(solver)!, r.GetValue(nfe), r.GetValue(calibration) ?? 2, r.GetValue(validation) ?? 2,
                    r.GetValue(seed), r.GetValue(budget), r.GetValue(output)!, r.GetValue(prompts), r.GetValue(classifier), r.GetValue(referenceRun)!)
                {
                    Template = new Stork.Pipelines.GenerationRequest { Prompt = "", TrueCfgScale = r.GetValue(trueCfg), GuidanceScale = r.GetValue(guidance), NegativePrompt = r.GetValue(negative) },
                    Command = CommandLine(r),
                };
                return Task.FromResult(TuneFolder(folder, stdout, stderr, ct));
            }

            if (r.GetValue(prompts) is not null || r.GetValue(classifier) is not null || r.GetValue(trueCfg) is not null || r.GetValue(guidance) is not null
                || r.GetValue(negative) is not null || r.GetResult(referenceRun) is { Implicit: false })
            {
                throw new CliException("--prompt-file, --classifier, --true-cfg, --guidance, --negative-prompt and --reference apply to text-to-image model folders (--model FOLDER); cards take --reference-tol.");
            }

            int n = r.GetValue(nfe), nc = r.GetValue(calibration) ?? 32, nv = r.GetValue(validation) ?? 32, evaluations = r.GetValue(budget);
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
            var state = RunSearch(tuner.Search(calibrationNoise, calibrationReference, options.Chunk), options, statePath, key,
                $"tune {spec.Label} at NFE {n} on {DenoiserImages.Name(denoiser)}", stderr, ct);

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
            };
            WriteGrid(files, outPath, grid, details, state, defaultValidation, tunedValidation, tuner.DefaultTimes, CommandLine(r), ct);
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {outPath}: {spec.Label} at NFE {n} ({tuner.Steps} steps), RMSE to RK45: calibration {state.DefaultLoss:0.000e+0} -> {state.Loss:0.000e+0}, held-out {defaultValidation:0.000e+0} -> {tunedValidation:0.000e+0} ({state.Evaluations} solver runs)."));
            return Task.FromResult(0);
        });
        return command;
    }

    private sealed record FolderTune(string Folder, string Solver, int Steps, int Calibration, int Validation, long Seed, int Budget, string Out,
        string? PromptFile, string? Classifier, string Reference)
    {
        public required Stork.Pipelines.GenerationRequest Template { get; init; }

        public required string Command { get; init; }
    }

    // stork tune --model FOLDER: the pipeline's solver against its converged run (PipelineGridTuner), latents cached and the search resumable as on cards.
    private static int TuneFolder(FolderTune t, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        SolverOptionSet.CheckSteps(t.Steps, "--nfe");
        if (t.Calibration is < 1 or > 256 || t.Validation is < 1 or > 256 || t.Budget < 1)
        {
            throw new CliException($"model folders take 1 to 256 images per prompt in --calibration and --validation and --budget >= 1 (got {t.Calibration}, {t.Validation}, {t.Budget}).");
        }

        if (!t.Out.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliException($"--out must end in .json (got '{t.Out}').");
        }

        var (referenceName, referenceSteps) = Stork.Pipelines.SchedulerComparison.ParseReference(t.Reference);
        var spec = BenchOdeCommand(t.Solver);
        if (spec.IsAdaptive)
        {
            throw new CliException($"--solver: {spec.Name} chooses its own steps; pipelines take fixed-step solvers.");
        }

        IReadOnlyList<string> promptList;
        if (t.PromptFile is { } pf)
        {
            if (t.Classifier is not null)
            {
                throw new CliException("give --prompt-file or --classifier (whose class names are the prompts), not both.");
            }

            promptList = Stork.Pipelines.BatchFile.Prompts(InputFile.ReadAllText(pf, "prompt file", 1L << 20), $"prompt file '{pf}'");
        }
        else
        {
            string card = t.Classifier ?? ShippedModels.Find("fashion-classifier.json")
                ?? throw new CliException("no --prompt-file given and the shipped models/fashion-classifier.json (whose class names are the default prompts) was not found.");
            promptList = Stork.Pipelines.PromptedBench.ClassPrompts(ModelCard.Load(card));
        }

        var files = new OutputFiles();
        files.Output(t.Out, "--out");
        using var pipeline = Stork.Pipelines.TextToImage.Load(t.Folder, new Stork.Pipelines.PipelineOptions { KeepLoaded = true });
        var tuner = new Stork.Pipelines.PipelineGridTuner(pipeline, spec, t.Steps, t.Template, referenceName, referenceSteps);
        var calibrationBatch = new Stork.Pipelines.PromptBatch(promptList, t.Calibration, t.Seed);
        var validationBatch = new Stork.Pipelines.PromptBatch(promptList, t.Validation, calibrationBatch.NextSeed);
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(t.Folder));
        var g = tuner.Settings;
        string conditions = string.Create(CultureInfo.InvariantCulture,
            $"{name}|{g.Height}x{g.Width}|{g.MaxSequenceLength}|cfg {g.TrueCfgScale:R}|g {g.GuidanceScale:R}|neg {g.NegativePrompt}|mu {tuner.Mu:R}|{string.Join('\n', promptList)}");
        string referenceKey = string.Create(CultureInfo.InvariantCulture, $"{conditions}|{t.Calibration}|{t.Validation}|{t.Seed}|{referenceName}:{referenceSteps}");
        string key = string.Create(CultureInfo.InvariantCulture, $"{referenceKey}|{spec.Label}|{t.Steps}");
        string referencePath = t.Out + ".reference.npy", statePath = t.Out + ".state.json";
        int[] cShape = tuner.LatentShape(calibrationBatch), vShape = tuner.LatentShape(validationBatch);
        int[] shape = [cShape[0] + vShape[0], .. cShape[1..]];
        var reference = ReferenceCache.GetOrCompute(referencePath, referenceKey, shape, () =>
        {
            stderr.WriteLine($"computing the reference ({referenceName}, {referenceSteps} steps) of {calibrationBatch.Count} + {validationBatch.Count} images...");
            return [.. tuner.Reference(calibrationBatch, null, ct), .. tuner.Reference(validationBatch, null, ct)];
        }, w => stderr.WriteLine($"warning: {w}"), ct);
        int split = calibrationBatch.Count * cShape[1..].Aggregate(1, (a, b) => a * b);
        var calibrationReference = reference.AsSpan(0, split).ToArray();
        var validationReference = reference.AsSpan(split).ToArray();
        var options = new TuneOptions { Budget = t.Budget, Seed = t.Seed };
        var state = RunSearch(tuner.Search(calibrationBatch, calibrationReference), options, statePath, key, $"tune {spec.Label} at {t.Steps} steps on {name}", stderr, ct);

        var grid = tuner.Grid(state);
        double defaultValidation = tuner.Error(null, validationBatch, validationReference, ct);
        double tunedValidation = tuner.Error(grid.Times, validationBatch, validationReference, ct);
        var details = new Dictionary<string, object?>
        {
            ["model"] = name,
            ["settings"] = spec.Label,
            ["method"] = "coordinate search (seeded order, +/- step, step halved after a sweep without improvement) over the softmax logits of the grid's increments "
                + "in the pipeline's time (flow: sigma, absolute, under the recorded mu), from the solver's own pipeline grid; objective: RMSE of the final latents "
                + $"to {referenceName} at {referenceSteps} steps from the same noise, prompt and guidance",
            ["height"] = g.Height,
            ["width"] = g.Width,
            ["true_cfg_scale"] = g.TrueCfgScale,
            ["guidance_scale"] = g.GuidanceScale,
            ["negative_prompt"] = g.NegativePrompt,
            ["prompts"] = promptList,
            ["seed"] = t.Seed,
            ["calibration_per_prompt"] = t.Calibration,
            ["validation_per_prompt"] = t.Validation,
            ["reference"] = $"{referenceName}:{referenceSteps}",
        };
        WriteGrid(files, t.Out, grid, details, state, defaultValidation, tunedValidation, tuner.DefaultTimes, t.Command, ct);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {t.Out}: {spec.Label} at {t.Steps} steps on {name}{(tuner.Mu is { } mu ? $" (mu {mu:0.####})" : "")}, latent RMSE to {referenceName} x {referenceSteps}: calibration {state.DefaultLoss:0.000e+0} -> {state.Loss:0.000e+0}, held-out {defaultValidation:0.000e+0} -> {tunedValidation:0.000e+0} ({state.Evaluations} solver runs)."));
        return 0;
    }

    // The command as typed (its tokens start with the command's own name).
    private static string CommandLine(ParseResult r) => "stork " + string.Join(' ', r.Tokens.Select(t => t.Value));

    // The search from the state file when it belongs to this run (same key), else from the default grid; the state is saved
    // after every objective evaluation, so a rerun resumes.
    private static TuneState RunSearch(GridSearch search, TuneOptions options, string statePath, string key, string title, TextWriter stderr, CancellationToken ct)
    {
        var state = TuneStateFile.Load(statePath, key, search.Steps, out string? problem);
        if (state is not null || problem is not null)
        {
            stderr.WriteLine(state is not null ? $"resuming from '{statePath}' ({state.Evaluations} solver runs done)." : $"warning: '{statePath}' {problem}; starting afresh.");
        }

        state ??= search.Start(options, ct);
        ProgressDisplay.Run(stderr, title, options.Budget, progress =>
        {
            var sink = progress is null ? null : new Progress(progress);
            state = search.Search(options, state, s => AtomicFile.WriteAllText(statePath, TuneStateFile.ToJson(key, s)), sink, ct);
        });
        return state;
    }

    // The grid file: how it was tuned (details) and the errors before and after, written with the run's other outputs.
    private static void WriteGrid(OutputFiles files, string path, TunedGrid grid, Dictionary<string, object?> details, TuneState state, double defaultValidation,
        double tunedValidation, IReadOnlyList<double> defaultTimes, string command, CancellationToken ct)
    {
        details["objective_evaluations"] = state.Evaluations;
        details["calibration_rmse_default"] = state.DefaultLoss;
        details["calibration_rmse_tuned"] = state.Loss;
        details["validation_rmse_default"] = defaultValidation;
        details["validation_rmse_tuned"] = tunedValidation;
        details["default_times"] = defaultTimes;
        details["command"] = command;
        files.SetText(path, grid.ToJson(details));
        files.Commit(ct);
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
