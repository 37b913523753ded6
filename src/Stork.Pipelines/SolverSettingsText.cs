using System.Globalization;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Stabilized;
using Stork.Solvers.Standard;

namespace Stork.Pipelines;

/// <summary>
/// A pipeline's solver settings as text, keyed by <see cref="SolverOption.Key"/> with values that
/// <see cref="SolverOption.Apply"/> reads back: what a request asked for (<see cref="Requested"/>, the non-default
/// settings, so that <see cref="Settings"/> rebuilds them exactly) and what ran (<see cref="Resolved"/>, every option the
/// solver reads with the pipeline's defaults applied).
/// </summary>
internal static class SolverSettingsText
{
    private static readonly SolverSettings Default = new();

    /// <summary>The settings that differ from <see cref="SolverSettings"/>' defaults (the flow grid aside: pipelines take the folder's).</summary>
    public static Dictionary<string, string> Requested(SolverSettings s)
    {
        var o = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var option in SolverOption.All.Except(SolverOption.FlowGrid))
        {
            if (option.Format(s) is { } text && text != option.Format(Default))
            {
                o[option.Key] = text;
            }
        }

        return o;
    }

    /// <summary>Settings from <see cref="Requested"/>'s text (and given evaluation times), for <paramref name="solver"/>.</summary>
    public static SolverSettings Settings(string solver, IReadOnlyDictionary<string, string> options, IReadOnlyList<double>? times)
    {
        var settings = new SolverSettings();
        foreach (var (key, value) in options)
        {
            var option = SolverOption.Find(key, solver) ?? throw new InvalidDataException($"unknown solver option '{key}'.");
            settings = option.Apply(settings, value);
        }

        return times is null ? settings : settings with { Times = times };
    }

    /// <summary>Every option <paramref name="name"/> reads that matters for <paramref name="model"/>, as the run resolved it.</summary>
    public static Dictionary<string, string> Resolved(string name, SolverSettings s, ModelSpec model, int steps, ISolver solver)
    {
        var reads = SolverRegistry.Reads(name);
        bool flow = model.Schedule.IsFlowMatching;
        var o = new Dictionary<string, string>(StringComparer.Ordinal);
        if (reads.Contains(SolverOption.StorkVariant))
        {
            var stork = s.ToStorkOptions(name.EndsWith('2') ? 2 : 4);
            o[SolverOption.StorkVariant.Key] = SolverOption.StorkVariant.Format(s with { StorkVariant = stork.Variant })!;
            o[SolverOption.Substeps.Key] = Int(stork.Substeps);
            o[SolverOption.DerivativeOrder.Key] = Int(stork.DerivativeOrder);
            o[SolverOption.Corrector.Key] = stork.CorrectsAt(steps, flow) ? "on" : "off";
            if (!flow)
            {
                o[SolverOption.StoppingEps.Key] = Num(stork.StoppingEpsAt(steps));
                o[SolverOption.Taylor.Key] = SolverOption.Taylor.Format(s with { TaylorVariable = stork.TaylorVariable })!;
            }
        }

        if (reads.Contains(SolverOption.SolverOrder))
        {
            int? order = solver switch
            {
                DpmSolverPlusPlus dpm => dpm.Order,
                UniPcSolver unipc => unipc.Order,
                DeisSolver deis => deis.Order,
                _ => s.SolverOrder,
            };
            if (order is { } n)
            {
                o[SolverOption.SolverOrder.Key] = Int(n);
            }
        }

        if (reads.Contains(SolverOption.UniPcVariant))
        {
            o[SolverOption.UniPcVariant.Key] = SolverOption.UniPcVariant.Format(s)!;
        }

        if (reads.Contains(SolverOption.Clip))
        {
            o[SolverOption.Clip.Key] = SolverOption.Clip.Format(s)!;
        }

        if (s.Times is { } times)
        {
            // A tuned grid (a grid file or the model card's): its times are the run's, recorded in full beside.
            o[SolverOption.Grid.Key] = "given";
            o[SolverOption.GridFile.Key] = "sha256:" + Sha256(string.Join(",", times.Select(Num)));
        }
        else if (reads.Contains(SolverOption.Grid))
        {
            o[SolverOption.Grid.Key] = SolverOption.Grid.Format(s)!;
        }

        if (flow)
        {
            var g = s.FlowGrid;
            o[SolverOption.Shift.Key] = SolverOption.Shift.Format(s)!;
            o[SolverOption.TimeShift.Key] = SolverOption.TimeShift.Format(s)!;
            o[SolverOption.Sigmas.Key] = SolverOption.Sigmas.Format(s)!;
            if (g.ShiftTerminal is { } terminal)
            {
                o[SolverOption.ShiftTerminal.Key] = Num(terminal);
            }
        }

        return o;
    }

    /// <summary>A solver and its options as one line: <c>stork-4[substeps=50,derivative-order=1]</c>.</summary>
    public static string Line(string name, IReadOnlyDictionary<string, string> options) =>
        options.Count == 0 ? name : $"{name}[{string.Join(",", options.Select(kv => $"{kv.Key}={kv.Value}"))}]";

    /// <summary>Lower-case sha256 of UTF-8 text.</summary>
    public static string Sha256(string text) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    private static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
