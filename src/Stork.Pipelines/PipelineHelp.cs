using System.Globalization;
using Stork.Solvers.Catalog;

namespace Stork.Pipelines;

/// <summary>
/// One text-to-image family as help texts describe it: diffusers' defaults before a folder's <c>_stork_defaults</c>.
/// A test loads a folder of each family and fails when an entry differs from what the family's code uses.
/// </summary>
/// <param name="Name">Its name in help (<c>FLUX.1-dev</c>, <c>SD1.5/2.x</c>, ...).</param>
/// <param name="Steps">Default num_inference_steps.</param>
/// <param name="GuidanceScale">Default guidance_scale (null: the family has no guidance scale).</param>
/// <param name="TrueCfgScale">Default true CFG scale with a negative prompt (null: off).</param>
/// <param name="MaxSequenceLength">Default max_sequence_length (77 for CLIP only).</param>
/// <param name="MaxSequenceLimit">The longest max_sequence_length (null: CLIP only, 77 fixed).</param>
/// <param name="SizeMultiple">Height and width are multiples of this with the family's standard VAE.</param>
/// <param name="FlowModel">Whether the denoiser is a flow model (else a noise-predicting UNet).</param>
public sealed record FamilyInfo(string Name, int Steps, double? GuidanceScale, double? TrueCfgScale, int MaxSequenceLength, int? MaxSequenceLimit,
    int SizeMultiple, bool FlowModel);

/// <summary>
/// Help texts of the text-to-image options, built from the data the code uses: the family table
/// (<see cref="Families"/>), the solver registry (which solvers pipelines take, the defaults pipelines apply) and the
/// solver options' own descriptions. <c>stork generate --help</c> shows them; nothing here is written by hand twice.
/// </summary>
public static class PipelineHelp
{
    /// <summary>The families, in the order help lists them.</summary>
    public static IReadOnlyList<FamilyInfo> Families { get; } =
    [
        new("FLUX.1-dev", 28, 3.5, null, 512, 512, 16, true),
        new("FLUX.1-schnell", 4, null, null, 256, 512, 16, true),
        new("SD3/3.5", 28, 7.0, null, 256, 512, 16, true),
        new("SD1.5/2.x", 50, 7.5, null, 77, null, 8, false),
        new("SDXL", 50, 5.0, null, 77, null, 8, false),
        new("Qwen-Image", 50, null, QwenImage.QwenImageFamily.DefaultTrueCfgScale, QwenImage.QwenImagePrompt.DefaultMaxSequenceLength, 1024, 16, true),
    ];

    /// <summary>The solvers a pipeline takes (every fixed-step solver of the registry; adaptive integrators choose their own times).</summary>
    public static IReadOnlyList<string> Schedulers => [.. SolverRegistry.Names.Where(n => !SolverRegistry.IsAdaptive(n))];

    /// <summary>The families' names: <c>FLUX.1-dev, FLUX.1-schnell, SD3/3.5, SD1.5/2.x, SDXL or Qwen-Image</c>.</summary>
    public static string FamilyNames => List(Families.Select(f => f.Name), "or");

    /// <summary><c>--steps</c>.</summary>
    public static string Steps => $"Denoising steps (num_inference_steps; default per family: {Per(f => f.Steps.ToString(CultureInfo.InvariantCulture))}, "
        + "or the folder's _stork_defaults).";

    /// <summary><c>--guidance</c>.</summary>
    public static string Guidance
    {
        get
        {
            string batched = string.Join(", ", Families.Where(f => f.Name is not ("FLUX.1-dev" or "FLUX.1-schnell" or "Qwen-Image") && f.GuidanceScale is not null)
                .Select(f => $"{f.Name} {Num(f.GuidanceScale!.Value)}"));
            var dev = Families.First(f => f.Name == "FLUX.1-dev");
            string none = List(Families.Where(f => f.GuidanceScale is null).Select(f => f.Name), "and");
            return $"guidance_scale: classifier-free guidance, off at 1 or below, for {batched} (defaults); FLUX.1-dev: embedded guidance, "
                + $"default {Num(dev.GuidanceScale!.Value)}; {none} have none (true CFG with a negative prompt guides them).";
        }
    }

    /// <summary><c>--true-cfg</c>.</summary>
    public static string TrueCfg => "true_cfg_scale of FLUX.1 and Qwen-Image: with a negative prompt and a value above 1, classifier-free guidance with two "
        + $"passes per step (default: {Per(f => f.TrueCfgScale is { } t ? Num(t) : "off", f => f.Name is "FLUX.1-dev" or "FLUX.1-schnell" or "Qwen-Image")}, "
        + "or the folder's _stork_defaults; 1 turns it off).";

    /// <summary><c>--negative-prompt</c>.</summary>
    public static string NegativePrompt => "Negative prompt (SD3/3.5, SD1.5/2.x, SDXL: used with a guidance scale above 1; FLUX.1 and Qwen-Image: with a true CFG scale above 1).";

    /// <summary><c>--height</c>.</summary>
    public static string Height => $"Image height in pixels, a multiple of the VAE factor times the patch size ({Per(f => f.SizeMultiple.ToString(CultureInfo.InvariantCulture))} "
        + "with the standard VAEs; the error names the folder's own); default: the family's (1024, or 512/768 for SD1.5/2.x), the folder's "
        + "_stork_defaults, or from the given latents.";

    /// <summary><c>--max-sequence-length</c>.</summary>
    public static string MaxSequenceLength
    {
        get
        {
            var longer = Families.Where(f => f.MaxSequenceLimit is not null).ToList();
            string clip = List(Families.Where(f => f.MaxSequenceLimit is null).Select(f => f.Name), "and");
            return $"Text tokens of the T5 or language-model encoder (default: {string.Join(", ", longer.Select(f => $"{f.Name} {f.MaxSequenceLength}"))}, or the "
                + $"folder's _stork_defaults; at most {string.Join(", ", longer.Select(f => $"{f.Name} {f.MaxSequenceLimit}"))}); {clip} (CLIP only) take 77.";
        }
    }

    /// <summary><c>--scheduler</c> in pipelines.</summary>
    public static string Scheduler => $"Solver in place of the model's scheduler_config.json: {string.Join(", ", Schedulers)}; it reads the model's "
        + "scheduler_config.json as diffusers' from_config does (flow models: the pipeline's sigmas). Pipelines take fixed-step solvers only.";

    /// <summary>A solver option's help in pipelines: its own description, with the defaults pipelines apply (<see cref="SolverRegistry.WithPipelineDefaults"/>).</summary>
    public static string SolverOption(SolverOption option)
    {
        ArgumentNullException.ThrowIfNull(option);
        string flows = List(Families.Where(f => f.FlowModel).Select(f => f.Name), "and");
        string noise = List(Families.Where(f => !f.FlowModel).Select(f => f.Name), "and");
        if (option == Solvers.Catalog.SolverOption.DerivativeOrder)
        {
            int Order(bool flow) => SolverRegistry.WithPipelineDefaults("stork-4", new SolverSettings(), flow).ToStorkOptions(4).DerivativeOrder;
            return "STORK: Taylor derivative order of the virtual evaluations, 1 to 3 (upstream: 1 or 2). Default in pipelines (corrected): "
                + $"{Order(true)} on flow models ({flows}), {Order(false)} on noise models ({noise}); upstream 1.";
        }

        if (option == Solvers.Catalog.SolverOption.Corrector)
        {
            var flow = SolverRegistry.WithPipelineDefaults("stork-4", new SolverSettings(), true).ToStorkOptions(4);
            string Mode(Solvers.Stabilized.CorrectorMode m) => m.ToString().ToLowerInvariant();
            return "STORK (corrected, derivative order 1 or 2): re-integrate each step with the next model output (UniC-style, no extra evaluation; "
                + $"raises the order by one): on, off or auto. Default in pipelines: {Mode(flow.Corrector)} (bench prompted measures it under guidance; see README).";
        }

        return option.Description;
    }

    private static string Per(Func<FamilyInfo, string> value, Func<FamilyInfo, bool>? which = null) =>
        string.Join(", ", Families.Where(which ?? (_ => true)).Select(f => $"{f.Name} {value(f)}"));

    private static string Num(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string List(IEnumerable<string> names, string last)
    {
        var all = names.ToList();
        return all.Count <= 1 ? string.Concat(all) : $"{string.Join(", ", all[..^1])} {last} {all[^1]}";
    }
}
