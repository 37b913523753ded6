using System.CommandLine;
using Stork.Solvers;
using Stork.Solvers.Catalog;

namespace Stork.Cli;

/// <summary>
/// Which solver setting each solver flag sets. A flag the user gave must be read by the chosen solver
/// (<see cref="SolverRegistry.Reads"/>, data on each registry entry) and mean something for the model
/// (<see cref="SolverRegistry.AppliesTo"/>); otherwise it is an error rather than silently ignored. A new solver option is
/// one line here and the setting in the entries of the solvers that read it.
/// </summary>
internal static class SolverFlags
{
    private static readonly Dictionary<string, SolverSetting> Settings = new(StringComparer.Ordinal)
    {
        ["--substeps"] = SolverSetting.Substeps,
        ["--derivative-order"] = SolverSetting.DerivativeOrder,
        ["--stork-variant"] = SolverSetting.StorkVariant,
        ["--stopping-eps"] = SolverSetting.StoppingEps,
        ["--solver-order"] = SolverSetting.SolverOrder,
        ["--unipc-variant"] = SolverSetting.UniPcVariant,
        ["--rtol"] = SolverSetting.RelativeTolerance,
        ["--atol"] = SolverSetting.AbsoluteTolerance,
        ["--grid"] = SolverSetting.Grid,
        ["--grid-file"] = SolverSetting.Grid,
        ["--shift"] = SolverSetting.FlowGrid,
        ["--mu"] = SolverSetting.FlowGrid,
        ["--time-shift"] = SolverSetting.FlowGrid,
        ["--shift-terminal"] = SolverSetting.FlowGrid,
        ["--sigmas"] = SolverSetting.FlowGrid,
        ["--corrector"] = SolverSetting.Corrector,
        ["--base-sigmas"] = SolverSetting.BaseSigmas,
    };

    /// <summary>
    /// Refuses every solver flag among <paramref name="options"/> given on the command line that none of
    /// <paramref name="solvers"/> reads, or that does not apply to <paramref name="model"/> (when known).
    /// </summary>
    public static void Check(ParseResult result, IEnumerable<Option> options, IReadOnlyCollection<string> solvers, ModelSpec? model)
    {
        foreach (var option in options)
        {
            if (!Settings.TryGetValue(option.Name, out var setting) || result.GetResult(option) is not { Implicit: false })
            {
                continue;
            }

            if (!solvers.Any(s => SolverRegistry.Reads(s).Contains(setting)))
            {
                var readers = SolverRegistry.Names.Where(s => SolverRegistry.Reads(s).Contains(setting));
                throw new CliException($"{option.Name} does not apply to {string.Join(", ", solvers)}: only {string.Join(", ", readers)} read it.");
            }

            if (model is not null && !SolverRegistry.AppliesTo(setting, model))
            {
                (string kind, string other) = model.Schedule.IsFlowMatching ? ("flow", "noise") : ("noise", "flow");
                throw new CliException($"{option.Name} does not apply to {kind} models: it is for {other} models.");
            }
        }
    }
}
