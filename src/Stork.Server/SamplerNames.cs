using Stork.Solvers.Catalog;

namespace Stork.Server;

/// <summary>
/// The solvers a request may name: every fixed-step <see cref="SolverRegistry"/> name (ours, e.g. <c>stork-4</c>,
/// <c>dpm++2m</c>), and Automatic1111's names for the same methods as aliases (<c>Euler</c>, <c>DPM++ 2M</c>, ...).
/// Names are matched without regard to case.
/// </summary>
public static class SamplerNames
{
    /// <summary>Automatic1111 sampler name to ours: only samplers that are the same deterministic method.</summary>
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Euler"] = "euler",
        ["Heun"] = "heun",
        ["DDIM"] = "ddim",
        ["DPM++ 2M"] = "dpm++2m",
        ["DPM++ 3M"] = "dpm++3m",
        ["UniPC"] = "unipc",
        ["DEIS"] = "deis",
    };

    /// <summary>Our fixed-step solver names (adaptive integrators take no step count and are not served).</summary>
    public static IReadOnlyList<string> Solvers { get; } = [.. SolverRegistry.Names.Where(n => !SolverRegistry.IsAdaptive(n))];

    /// <summary>Automatic1111's name for solver <paramref name="name"/>, or null when it has none.</summary>
    public static string? A1111Name(string name) => Aliases.FirstOrDefault(a => a.Value == name).Key;

    /// <summary>Every name a request may use, ours first.</summary>
    public static IEnumerable<string> All => Solvers.Concat(Aliases.Keys);

    /// <summary>Our name for <paramref name="name"/>; a <see cref="RequestException"/> listing the choices when it is unknown.</summary>
    public static string Resolve(string name)
    {
        string trimmed = name.Trim();
        if (Aliases.TryGetValue(trimmed, out string? ours))
        {
            return ours;
        }

        return Solvers.FirstOrDefault(s => s.Equals(trimmed, StringComparison.OrdinalIgnoreCase))
            ?? throw new RequestException($"unknown sampler '{Shorten(name)}' (expected one of: {string.Join(", ", All)}).");
    }

    internal static string Shorten(string s) => s.Length <= 64 ? s : s[..64] + "...";
}
