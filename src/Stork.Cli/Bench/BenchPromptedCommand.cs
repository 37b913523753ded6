using System.CommandLine;
using System.Globalization;
using System.Text;
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
                throw new CliException($"--solvers: {e.Message}");
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
            var (refMean, refCov) = ClassifierFeatures.TestStatistics(net.Card);
            string[] prompts = net.Card.ClassNames.Select(c => c.ToLowerInvariant().Replace("/", " or ", StringComparison.Ordinal)).ToArray();
            if (prompts.Length == 0)
            {
                throw new CliException($"classifier card '{cardPath}' names no classes.");
            }

            using var pipeline = TextToImage.Load(folder, new PipelineOptions { KeepLoaded = true });
            long seed0 = r.GetValue(seed);
            GeneratedImages[] Run(SchedulerChoice scheduler, int steps, double g) => prompts.Select((p, c) => pipeline.Generate(new GenerationRequest
            {
                Prompt = p,
                NegativePrompt = "",
                TrueCfgScale = g,
                Steps = steps,
                Count = n,
                Seed = seed0 + ((long)c * n),
                Scheduler = scheduler,
            }, null, ct).Images).ToArray();

            var rows = new List<(string Solver, int Nfe, double Guidance, double Adherence, double Fd, double Rmse)>();
            foreach (double g in scales)
            {
                var reference = Run(SchedulerChoice.Named("euler"), refSteps, g);
                foreach (var spec in specs)
                {
                    foreach (int steps in counts)
                    {
                        var images = Run(SchedulerChoice.Named(spec.Name, spec.Settings), steps, g);
                        var (adherence, fd) = PromptedScore.Score(net, images, refMean, refCov);
                        rows.Add((spec.Label, steps, g, adherence, fd, PromptedScore.Rmse(images, reference)));
                    }
                }
            }

            string md = Markdown(rows, counts, scales, n * prompts.Length, refSteps);
            stdout.Write(md);
            if (dir is not null)
            {
                var csv = new StringBuilder("solver,nfe,guidance,adherence,fd,rmse\n");
                foreach (var x in rows)
                {
                    csv.Append(CultureInfo.InvariantCulture, $"\"{x.Solver}\",{x.Nfe},{x.Guidance},{x.Adherence:R},{x.Fd:R},{x.Rmse:R}\n");
                }

                files.SetText(Path.Combine(dir, "prompted.csv"), csv.ToString());
                files.SetText(Path.Combine(dir, "prompted.md"), md);
                files.Commit(ct);
            }

            return Task.FromResult(0);
        });
        return command;
    }

    private static string Markdown(List<(string Solver, int Nfe, double Guidance, double Adherence, double Fd, double Rmse)> rows, int[] counts,
        double[] scales, int images, int refSteps)
    {
        var sb = new StringBuilder();
        foreach (double g in scales)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\nTrue CFG {g}: adherence / Frechet distance / RMSE to Euler x {refSteps}, {images} images per cell\n\n");
            sb.Append("| solver | ").Append(string.Join(" | ", counts.Select(c => $"NFE {c}"))).Append(" |\n|---|");
            sb.Append(string.Concat(Enumerable.Repeat("---|", counts.Length))).Append('\n');
            foreach (var solver in rows.Where(x => x.Guidance == g).Select(x => x.Solver).Distinct())
            {
                sb.Append("| ").Append(solver).Append(" | ");
                sb.Append(string.Join(" | ", counts.Select(c => rows.First(x => x.Guidance == g && x.Solver == solver && x.Nfe == c))
                    .Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Adherence:P0} / {x.Fd:0.0} / {x.Rmse:0.00e0}"))));
                sb.Append(" |\n");
            }
        }

        return sb.ToString();
    }
}
