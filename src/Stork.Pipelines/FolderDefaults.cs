using Stork.IO;

namespace Stork.Pipelines;

/// <summary>
/// A folder's own defaults: the optional object <c>_stork_defaults</c> of <c>model_index.json</c> (diffusers ignores
/// keys that start with an underscore), for models far from their family's size, such as <c>models/fashion-flux</c>.
/// Any subset of: <c>num_inference_steps</c>, <c>height</c>, <c>width</c>, <c>max_sequence_length</c>,
/// <c>guidance_scale</c> (a model that takes one only), <c>negative_prompt</c> and <c>true_cfg_scale</c> (each the
/// fallback of a request that leaves it null). Example: <c>"_stork_defaults": {"num_inference_steps": 20, "height": 32,
/// "width": 32, "max_sequence_length": 32, "negative_prompt": "", "true_cfg_scale": 4.0}</c>. Also <c>tuned_grids</c>:
/// grid files (<c>stork tune --model FOLDER</c>, paths relative to the folder), each the default grid of its solver at its
/// step count on this folder, as a model card's <c>tuned_grids</c> (<see cref="TunedGrids"/>).
/// </summary>
internal static class FolderDefaults
{
    /// <summary>The key of <c>model_index.json</c> that holds a folder's own defaults.</summary>
    public const string Key = "_stork_defaults";

    private static readonly string[] Known = ["num_inference_steps", "height", "width", "max_sequence_length", "guidance_scale", "negative_prompt", "true_cfg_scale", "tuned_grids"];

    /// <summary><paramref name="family"/>'s defaults overridden by the folder's, checked.</summary>
    /// <param name="family">The family's defaults.</param>
    /// <param name="index">The folder's <c>model_index.json</c>.</param>
    /// <param name="takesGuidanceScale">Whether the model takes a guidance scale (embedded or classifier-free).</param>
    /// <param name="maxSequenceLimit">The longest max_sequence_length the family takes.</param>
    public static GenerationDefaults Apply(GenerationDefaults family, JsonConfig index, bool takesGuidanceScale, int maxSequenceLimit)
    {
        ArgumentNullException.ThrowIfNull(family);
        ArgumentNullException.ThrowIfNull(index);
        if (index.Section(Key) is not { } d)
        {
            return family;
        }

        if (d.Keys.FirstOrDefault(k => !Known.Contains(k)) is { } unknown)
        {
            throw d.Error($"unknown key '{Key}.{unknown}' (known: {string.Join(", ", Known)}).");
        }

        int steps = d.Int("num_inference_steps", family.Steps);
        int height = d.Int("height", family.Height), width = d.Int("width", family.Width);
        int length = d.Int("max_sequence_length", family.MaxSequenceLength);
        double? guidance = d.NumberOrNull("guidance_scale") ?? family.GuidanceScale;
        double? trueCfg = d.NumberOrNull("true_cfg_scale") ?? family.TrueCfgScale;
        string? negative = d.Has("negative_prompt") ? d.String("negative_prompt") : family.NegativePrompt;
        if (steps is < 1 or > 1000 || height < 1 || width < 1 || length < 1 || length > maxSequenceLimit || trueCfg is < 0 || (!takesGuidanceScale && d.Has("guidance_scale")))
        {
            throw d.Error(
                $"'{Key}' out of range (steps 1-1000, positive height and width, max_sequence_length 1-{maxSequenceLimit}, true_cfg_scale >= 0, guidance_scale only for a model that takes one).");
        }

        return family with
        {
            Steps = steps,
            Height = height,
            Width = width,
            MaxSequenceLength = length,
            GuidanceScale = guidance,
            NegativePrompt = negative,
            TrueCfgScale = trueCfg,
        };
    }

    internal static GenerationDefaults Apply(GenerationDefaults defaults, JsonConfig index, Family family) =>
        Apply(defaults, index, family.EmbedsGuidance || family.Guidance == Denoising.GuidanceKind.BatchedCfg, family.MaxSequenceLimit ?? defaults.MaxSequenceLength);

    /// <summary>
    /// The folder's tuned grids: the files <c>_stork_defaults.tuned_grids</c> lists, relative to <paramref name="root"/>.
    /// A missing or invalid file, or two grids for one solver, step count and dynamic shift, is a folder error.
    /// </summary>
    public static IReadOnlyList<Grids.TunedGrid> TunedGrids(JsonConfig index, string root)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(root);
        if (index.Section(Key) is not { } d || !d.Has("tuned_grids"))
        {
            return [];
        }

        var grids = new List<Grids.TunedGrid>();
        foreach (string item in d.StringArray("tuned_grids"))
        {
            string path = Path.IsPathRooted(item) ? item : Path.Combine(root, item);
            try
            {
                var grid = Grids.TunedGrid.Load(path);
                if (grids.Any(g => string.Equals(g.Solver, grid.Solver, StringComparison.OrdinalIgnoreCase) && g.Times.Count == grid.Times.Count && g.Mu == grid.Mu))
                {
                    throw new InvalidDataException($"two tuned grids for {grid.Solver} at {grid.Times.Count} steps");
                }

                grids.Add(grid);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                throw d.Error($"tuned grid '{item}': {e.Message}");
            }
        }

        return grids;
    }
}
