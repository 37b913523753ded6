using System.Globalization;
using System.Text;
using Stork.Evaluation;
using Stork.Onnx;

namespace Stork.Pipelines;

/// <summary>One cell of a prompted bench: a solver at a step count and true-CFG scale, with its <see cref="PromptedScore"/> scores.</summary>
public sealed record PromptedCell(string Solver, int Nfe, double Guidance, double Adherence, double Fd, double Rmse);

/// <summary>
/// Solvers under classifier-free guidance on a class-conditional text-to-image model (<see cref="PromptedScore"/>): for
/// every true-CFG scale, solver and step count, <see cref="PerClass"/> images per class prompted with the classifier's
/// class names, scored for prompt adherence, Frechet distance to the test features, and RMSE against a converged
/// reference (Euler, <see cref="ReferenceSteps"/> steps) of the same guided ODE from the same noise.
/// </summary>
public sealed class PromptedBench
{
    /// <summary>A bench of <paramref name="pipeline"/> scored by <paramref name="classifier"/> (its classes are the prompts).</summary>
    public PromptedBench(ITextToImagePipeline pipeline, OnnxClassifier classifier, int perClass, int referenceSteps, long seed)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentOutOfRangeException.ThrowIfLessThan(perClass, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(referenceSteps, 1);
        Prompts = ClassPrompts(classifier.Card);

        Pipeline = pipeline;
        Classifier = classifier;
        PerClass = perClass;
        ReferenceSteps = referenceSteps;
        Seed = seed;
    }

    /// <summary>
    /// The prompts of a class-conditional model scored by the classifier <paramref name="card"/>: its class names in
    /// lower case ("/" read as "or"), one per class (also <c>stork tune</c>'s default prompts on a model folder).
    /// </summary>
    public static IReadOnlyList<string> ClassPrompts(ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        string[] prompts = card.ClassNames.Select(c => c.ToLowerInvariant().Replace("/", " or ", StringComparison.Ordinal)).ToArray();
        return prompts.Length > 0 ? prompts : throw new InvalidDataException($"classifier card '{card.CardPath}' names no classes.");
    }

    /// <summary>The model.</summary>
    public ITextToImagePipeline Pipeline { get; }

    /// <summary>The classifier.</summary>
    public OnnxClassifier Classifier { get; }

    /// <summary>The prompts, one per class: the class names in lower case ("/" read as "or").</summary>
    public IReadOnlyList<string> Prompts { get; }

    /// <summary>Images per class and cell.</summary>
    public int PerClass { get; }

    /// <summary>Euler steps of the reference.</summary>
    public int ReferenceSteps { get; }

    /// <summary>Seed of class 0's first image; class c image k uses seed + c * <see cref="PerClass"/> + k.</summary>
    public long Seed { get; }

    /// <summary>Every cell: scales outermost, then solvers, then step counts.</summary>
    public IReadOnlyList<PromptedCell> Run(IReadOnlyList<SolverSpec> specs, IReadOnlyList<int> counts, IReadOnlyList<double> scales, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(scales);
        var (refMean, refCov) = ClassifierFeatures.TestStatistics(Classifier.Card);
        var rows = new List<PromptedCell>();
        foreach (double g in scales)
        {
            var reference = Images(SchedulerChoice.Named("euler"), ReferenceSteps, g, cancellationToken);
            foreach (var spec in specs)
            {
                foreach (int steps in counts)
                {
                    var images = Images(SchedulerChoice.Named(spec.Name, spec.Settings), steps, g, cancellationToken);
                    var (adherence, fd) = PromptedScore.Score(Classifier, images, refMean, refCov);
                    rows.Add(new PromptedCell(spec.Label, steps, g, adherence, fd, PromptedScore.Rmse(images, reference)));
                }
            }
        }

        return rows;
    }

    /// <summary>One markdown table per scale: solvers by step counts, each cell adherence / Frechet distance / RMSE.</summary>
    public string Markdown(IReadOnlyList<PromptedCell> rows, IReadOnlyList<int> counts, IReadOnlyList<double> scales)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(scales);
        int images = PerClass * Prompts.Count;
        var sb = new StringBuilder();
        foreach (double g in scales)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\nTrue CFG {g}: adherence / Frechet distance / RMSE to Euler x {ReferenceSteps}, {images} images per cell\n\n");
            sb.Append("| solver | ").Append(string.Join(" | ", counts.Select(c => $"NFE {c}"))).Append(" |\n|---|");
            sb.Append(string.Concat(Enumerable.Repeat("---|", counts.Count))).Append('\n');
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

    /// <summary>The cells as CSV (solver, nfe, guidance, adherence, fd, rmse).</summary>
    public static string Csv(IReadOnlyList<PromptedCell> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var csv = new StringBuilder("solver,nfe,guidance,adherence,fd,rmse\n");
        foreach (var x in rows)
        {
            csv.Append(CultureInfo.InvariantCulture, $"\"{x.Solver}\",{x.Nfe},{x.Guidance},{x.Adherence:R},{x.Fd:R},{x.Rmse:R}\n");
        }

        return csv.ToString();
    }

    private GeneratedImages[] Images(SchedulerChoice scheduler, int steps, double g, CancellationToken cancellationToken) =>
        Prompts.Select((p, c) => Pipeline.Generate(new GenerationRequest
        {
            Prompt = p,
            NegativePrompt = "",
            TrueCfgScale = g,
            Steps = steps,
            Count = PerClass,
            Seed = Seed + ((long)c * PerClass),
            Scheduler = scheduler,
        }, null, cancellationToken).Images).ToArray();
}
