using System.CommandLine;
using System.Globalization;
using Stork.Imaging;
using Stork.IO;
using Stork.Models;
using Stork.Onnx;
using Stork.Sampling;
using Stork.Solvers;
using Stork.Solvers.Catalog;

namespace Stork.Cli;

/// <summary><c>stork sample</c>: run one solver on a model from given or seeded noise and write the samples.</summary>
internal static class SampleCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var models = new ModelOptionSet();
        var solvers = new SolverOptionSet();
        var runtime = new RuntimeOptionSet();
        var noise = new Option<string?>("--noise") { Description = "Initial noise: a .npy file (float32 or float64, C order), shape [batch, ...sample shape]." };
        var seed = new Option<long?>("--seed") { Description = "Seed of the initial noise when --noise is not given (default 0)." };
        var batch = new Option<int?>("--batch") { Description = "Number of samples when --noise is not given (default 4)." };
        var output = new Option<string>("--out")
        {
            Description = "Output file, by extension: .png (the batch as a grid, data range mapped to 0-255) or .npy (raw samples [batch, ...sample shape] in the model's data range).",
            DefaultValueFactory = _ => "samples.png",
        };
        var scale = new Option<int>("--scale") { Description = "PNG: pixels per sample pixel.", DefaultValueFactory = _ => 4 };
        var columns = new Option<int?>("--columns") { Description = "PNG: samples per grid row (default: a square grid)." };
        var dtype = new Option<string>("--out-dtype") { Description = "Element type of a .npy output: float32 or float64.", DefaultValueFactory = _ => "float32" };
        var timesOut = new Option<string?>("--times-out") { Description = "Also write the model-evaluation times as JSON (times in schedule units and model timesteps)." };

        var command = new Command("sample", "Sample from a model with one solver and write the result (default: the shipped Fashion-MNIST flow model, STORK-4, 10 steps, samples.png).");
        command.AddOptions(models.All.Concat(solvers.All).Concat(runtime.All), [noise, seed, batch, output, dtype, scale, columns, timesOut]);

        command.SetAction((r, ct) =>
        {
            string outPath = r.GetValue(output)!;
            string outType = r.GetValue(dtype)!;
            if (outType is not ("float32" or "float64"))
            {
                throw new CliException($"--out-dtype must be float32 or float64 (got '{outType}').");
            }

            bool png = outPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase);
            if (!png && !outPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            {
                throw new CliException($"--out must end in .png or .npy (got '{outPath}').");
            }

            int pixelScale = r.GetValue(scale);
            int? gridColumns = r.GetValue(columns);
            if (pixelScale is < 1 or > 64 || gridColumns is < 1)
            {
                throw new CliException($"--scale must be 1 to 64 and --columns at least 1 (got {pixelScale}, {gridColumns}).");
            }

            int steps = SolverOptionSet.CheckSteps(r.GetValue(solvers.Steps), "--steps");
            var files = new OutputFiles();
            files.Output(outPath, "--out");
            if (r.GetValue(timesOut) is { } tp)
            {
                files.Output(tp, "--times-out");
            }

            files.Input(r.GetValue(noise));
            files.Input(r.GetValue(solvers.SchedulerConfig));
            models.DeclareInputs(r, files);

            var (name, settings, config) = solvers.Resolve(r);
            var denoiser = models.Load(r, DenoiserHints.For(name, config), runtime.Read(r));
            using var disposeModel = denoiser as IDisposable;
            ModelOptionSet.DeclareInputs(denoiser, files);
            var range = png ? ModelImages.RequireImage(denoiser, outPath) : default;
            var shape = denoiser.SampleShape.ToArray();
            long size = shape.Aggregate(1L, (a, b) => a * b);
            // Per sample beyond the solver: the output encoding (a float64 copy and its bytes) or the PNG raster and its encoding.
            double perSample = png ? 2.0 * size * pixelScale * pixelScale * 3 : size * 16.0;
            float[] x = NoiseInput.Load(r.GetValue(noise), r.GetValue(seed), r.GetValue(batch), shape, out int batchSize, perSample);
            solvers.Check(r, [name], ModelSpec.Of(denoiser));
            // Without a scheduler configuration, the diffusers solvers take the discrete model's own training timesteps.
            settings = config is null ? settings.WithTrainingTimestepsOf(denoiser.Schedule) : settings;
            if (SolverRegistry.IsAdaptive(name) && r.GetResult(solvers.Steps) is { Implicit: false })
            {
                throw new CliException($"--steps does not apply to {name}: it chooses its own steps (set --rtol and --atol).");
            }

            var run = SamplingRun.Create(denoiser, name, steps, settings);
            ProgressDisplay.Run(stderr, $"{name} on {DenoiserImages.Name(denoiser)}", run.PlannedEvaluations, progress => run.Run(x, progress, ct));
            var evaluated = run.Times;

            if (x.Any(v => !float.IsFinite(v)))
            {
                throw new CliException("the sampler produced non-finite values; nothing was written.");
            }

            int[] outShape = [batchSize, .. shape];
            files.Set(outPath, png ? PngFile.Encode(SampleImage.RenderBatch(x, shape, range, pixelScale, gridColumns))
                : outType == "float64" ? NpyFile.Encode(outShape, x.Select(v => (double)v).ToArray())
                : NpyFile.Encode(outShape, x));
            if (r.GetValue(timesOut) is { } times)
            {
                files.SetText(times, run.TimesJson());
            }

            files.Commit(ct);
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {outPath}: {batchSize} samples, {evaluated.Count} model evaluations ({name})."));
            return Task.FromResult(0);
        });
        return command;
    }
}
