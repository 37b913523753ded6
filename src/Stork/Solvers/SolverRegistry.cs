using Stork.Solvers.Stork;

namespace Stork.Solvers;

/// <summary>Solver names as users write them (<c>stork-4</c>, <c>dpm++2m</c>, ...) and how each is built.</summary>
public static class SolverRegistry
{
    private static readonly Dictionary<string, (string Description, Func<ModelSpec, int, SolverSettings, ISolver> Create)> Entries =
        new(StringComparer.OrdinalIgnoreCase)
        {
            ["stork-2"] = ("STORK-2: RKG2 stages with virtual (Taylor) model evaluations, one real evaluation per step",
                (m, n, s) => new Stork2(m, n, s.ToStorkOptions(2), s.FlowGrid)),
            ["stork-4"] = ("STORK-4: ROCK4 stages with virtual (Taylor) model evaluations, one real evaluation per step",
                (m, n, s) => new Stork4(m, n, s.ToStorkOptions(4), s.FlowGrid)),
        };

    /// <summary>The registered names.</summary>
    public static IReadOnlyCollection<string> Names => Entries.Keys;

    /// <summary>One line describing a solver.</summary>
    public static string Describe(string name) => Entries.TryGetValue(name, out var e) ? e.Description : "";

    public static bool Contains(string name) => Entries.ContainsKey(name);

    /// <summary>Builds a solver; unknown names and invalid settings raise <see cref="ArgumentException"/>.</summary>
    public static ISolver Create(string name, ModelSpec model, int steps, SolverSettings settings)
    {
        if (!Entries.TryGetValue(name, out var entry))
        {
            throw new ArgumentException($"unknown scheduler '{name}' (expected one of: {string.Join(", ", Names)}).");
        }

        if (steps < 1)
        {
            throw new ArgumentException($"--steps must be at least 1 (got {steps}).");
        }

        return entry.Create(model, steps, settings);
    }
}
