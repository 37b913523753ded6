using System.CommandLine;
using System.Globalization;
using Stork.Evaluation;
using Stork.IO;
using Stork.Onnx;
using Stork.Pipelines;
using Stork.Solvers;
using Stork.Solvers.Catalog;

namespace Stork.Cli.Bench;

/// <summary>
/// <c>stork bench prompted</c>: solvers under classifier-free guidance on a class-conditional text-to-image model
/// (default: the shipped fashion-flux). For every solver, NFE and true-CFG scale: prompt adherence (the share of images
/// the classifier assigns to the prompted class), the Frechet distance of the classifier's features to the test set,
/// and the image RMSE against a converged reference (Euler, many steps) of the same guided ODE from the same noise.
/// </summary>
internal static class BenchPromptedCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = new Option<string?>("--model") { Description = "Text-to-image model folder whose images are 32 x 32 Fashion-MNIST in a 2-pixel frame (default: the shipped models/fashion-flux)." };
        var classifier = new Option<string?>("--classifier") { Description = "Classifier card with class names and test-set feature statistics (default: the shipped models/fashion-classifier.json)." };
        var solvers = new Option<string>("--solvers")
        {
            Description = "Comma-separated fixed-step solvers with optional options in brackets, e.g. unipc,stork-4,stork-4[corrector=on,d=2]; unset options keep the pipeline's defaults.",
            DefaultValueFactory = _ => "euler,dpm++2m,unipc,stork-2,stork-4",
        };
        var nfes = new Option<string>("--nfe") { Description = "Comma-separated step counts.", DefaultValueFactory = _ => "5,10,20" };
        var guidance = new Option<string>("--guidance") { Description = "Comma-separated true-CFG scales (1: no guidance).", DefaultValueFactory = _ => "1,2,4,7" };
        var perClass = new Option<int>("--per-class") { Description = "Images per class and cell (at least 13, so that the feature covariance of all classes has full rank).", DefaultValueFactory = _ => 20 };
        var referenceSteps = new Option<int>("--reference-steps") { Description = "Euler steps of the reference solution.", DefaultValueFactory = _ => 200 };
        var seed = new Option<long>("--seed") { Description = "Seed of class 0's first image; class c image k uses seed + c * per-class + k.", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string?>("--out-dir") { Description = "Write prompted.csv and prompted.md here." };
        var command = new Command("prompted", "Solvers under classifier-free guidance on a class-conditional text-to-image model: prompt adherence, Frechet distance, RMSE against a converged reference.")
        {
            model, classifier, solvers, nfes, guidance, perClass, referenceSteps, seed, outDir,
        };
        command.SetAction((r, ct) =>
        {
            IReadOnlyList<SolverSpec> specs;
            try
            {
                specs = BenchOdeCommand.ParseSolvers(r.GetValue(solvers)!, new SolverSettings());
            }
            catch (ArgumentException e)
            {
                throw new CliException($"--solvers: {CliApp.Sentence(e)}");
            }

            if (specs.FirstOrDefault(s => SolverRegistry.IsAdaptive(s.Name)) is { } adaptive)
            {
                throw new CliException($"--solvers: {adaptive.Name} chooses its own steps; pipelines take fixed-step solvers of: {string.Join(", ", SolverRegistry.Names.Where(n => !SolverRegistry.IsAdaptive(n)))}.");
            }

            int[] counts = BenchOdeCommand.ParseInts(r.GetValue(nfes)!, "--nfe");
            double[] scales = r.GetValue(guidance)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double g) && g >= 1 && g <= 50 ? g
                    : throw new CliException($"--guidance must be a comma-separated list of scales from 1 to 50 (got '{s}').")).ToArray();
            int n = r.GetValue(perClass);
            int refSteps = r.GetValue(referenceSteps);
            if (n is < 13 or > 500 || refSteps is < 10 or > 2000 || scales.Length == 0)
            {
                throw new CliException("--per-class must be 13 to 500, --reference-steps 10 to 2000, and --guidance non-empty.");
            }

            var files = new OutputFiles();
            string? dir = r.GetValue(outDir);
            if (dir is not null)
            {
                files.Output(Path.Combine(dir, "prompted.csv"), "--out-dir", createFolder: true);
                files.Output(Path.Combine(dir, "prompted.md"), "--out-dir", createFolder: true);
            }

            string folder = (r.GetValue(model) is { } named ? ShippedModels.Resolve(named) : null) ?? Path.GetDirectoryName(ShippedModels.Find(Path.Combine("fashion-flux", "model_index.json"))
                ?? throw new CliException("no --model given and the shipped models/fashion-flux was not found; pass --model."))!;
            string cardPath = r.GetValue(classifier) ?? ShippedModels.Find("fashion-classifier.json")
                ?? throw new CliException("no --classifier given and the shipped models/fashion-classifier.json was not found.");
            using var net = OnnxClassifier.Load(cardPath);
            using var pipeline = TextToImage.Load(folder, new PipelineOptions { KeepLoaded = true });
            var bench = new PromptedBench(pipeline, net, n, refSteps, r.GetValue(seed));
            var rows = bench.Run(specs, counts, scales, ct);
            string md = bench.Markdown(rows, counts, scales);
            stdout.Write(md);
            if (dir is not null)
            {
                files.SetText(Path.Combine(dir, "prompted.csv"), PromptedBench.Csv(rows));
                files.SetText(Path.Combine(dir, "prompted.md"), md);
                files.Commit(ct);
            }

            return Task.FromResult(0);
        });
        return command;
    }
}
