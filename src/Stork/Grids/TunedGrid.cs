using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Stork.IO;
using Stork.Schedules;

namespace Stork.Grids;

/// <summary>
/// A time grid tuned for one model, solver and number of model evaluations (<c>stork tune</c>): the evaluation times, in
/// the schedule's units, one per step, strictly decreasing from the schedule's largest time. Every solver takes it
/// (<see cref="Solvers.Catalog.SolverSettings.Times"/>): it evaluates the model at these times and its last step goes to
/// the clean end (flow: sigma 0; noise models: the data prediction at the last time).
/// </summary>
public sealed record TunedGrid(string Solver, int Nfe, IReadOnlyList<double> Times)
{
    /// <summary>
    /// The dynamic shift <c>mu</c> of the flow pipeline the grid was tuned under (FLUX.1: from the image size), in the
    /// file as <c>mu</c>; null when none (a model card, a pipeline without dynamic shifting). The times are absolute
    /// sigmas, so a pipeline run under another <c>mu</c> refuses the grid (and a folder's grid is not its default there).
    /// </summary>
    public double? Mu { get; init; }

    /// <summary>The <c>format</c> value of a grid file.</summary>
    public const string Format = "stork-grid/1";

    /// <summary>
    /// Reads a grid file: a JSON object with <c>format</c> (<see cref="Format"/>), <c>solver</c>, <c>nfe</c> and
    /// <c>times</c>; other keys (how it was tuned, its measured errors) are informative. Invalid files raise
    /// <see cref="InvalidDataException"/> naming the file.
    /// </summary>
    public static TunedGrid Load(string path)
    {
        string text = InputFile.ReadAllText(path, "grid file");
        try
        {
            var root = JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException("not a JSON object");
            if ((string?)root["format"] != Format)
            {
                throw new InvalidDataException($"format must be \"{Format}\"");
            }

            string solver = (string?)root["solver"] ?? throw new InvalidDataException("no solver");
            int nfe = (int?)root["nfe"] ?? throw new InvalidDataException("no nfe");
            var times = (root["times"] as JsonArray ?? throw new InvalidDataException("no times array")).Select(n => (double?)n ?? double.NaN).ToArray();
            if (times.Length < 1 || !times.All(double.IsFinite))
            {
                throw new InvalidDataException("times must be a non-empty array of finite numbers");
            }

            for (int i = 1; i < times.Length; i++)
            {
                if (!(times[i] < times[i - 1]))
                {
                    throw new InvalidDataException($"times must decrease strictly (times[{i}] = {times[i]} after {times[i - 1]})");
                }
            }

            double? mu = root["mu"] is { } m ? (double)m : null;
            if (mu is { } value && !double.IsFinite(value))
            {
                throw new InvalidDataException("mu must be a finite number");
            }

            return new TunedGrid(solver, nfe, times) { Mu = mu };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"grid file '{path}': {e.Message}", e);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith("grid file", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"grid file '{path}': {e.Message}.", e);
        }
    }

    /// <summary>
    /// What identifies the grid's content (solver, NFE, every time to the last bit), e.g. for cache keys: equal for equal
    /// grids, different when any time changes.
    /// </summary>
    public string Key => $"{Solver}|{Nfe.ToString(CultureInfo.InvariantCulture)}|{TimesKey(Times)}";

    /// <summary>Evaluation times written exactly (round-trip format, comma-separated), e.g. for cache keys; empty for null.</summary>
    public static string TimesKey(IReadOnlyList<double>? times) =>
        times is null ? "" : string.Join(",", times.Select(t => t.ToString("R", CultureInfo.InvariantCulture)));

    /// <summary>The grid as a file's JSON text, with <paramref name="details"/> (how it was tuned, errors) beside the times.</summary>
    public string ToJson(IReadOnlyDictionary<string, object?>? details = null)
    {
        var root = new JsonObject { ["format"] = Format, ["solver"] = Solver, ["nfe"] = Nfe };
        if (Mu is { } mu)
        {
            root["mu"] = mu;
        }

        foreach (var (key, value) in details ?? new Dictionary<string, object?>())
        {
            root[key] = JsonSerializer.SerializeToNode(value);
        }

        root["times"] = new JsonArray(Times.Select(t => (JsonNode)JsonValue.Create(t)).ToArray());
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    /// <summary>
    /// Checks given evaluation times against a solver of <paramref name="steps"/> steps on <paramref name="schedule"/>:
    /// one per step, finite, strictly decreasing, inside [TMin, TMax], the first at TMax (the noise the sampler starts
    /// from). Returns a copy; raises <see cref="ArgumentException"/> otherwise.
    /// </summary>
    public static double[] Check(IReadOnlyList<double> times, int steps, NoiseSchedule schedule, bool upstream)
    {
        ArgumentNullException.ThrowIfNull(times);
        ArgumentNullException.ThrowIfNull(schedule);
        if (upstream)
        {
            throw new ArgumentException("a given (tuned) grid applies to the corrected variant; upstream STORK uses its own grid.");
        }

        if (times.Count != steps)
        {
            throw new ArgumentException($"the given grid has {times.Count} times (one per step); the solver was asked for {steps} steps.");
        }

        var t = times.ToArray();
        double slack = 1e-9 * (schedule.TMax - schedule.TMin);
        for (int i = 0; i < t.Length; i++)
        {
            if (!double.IsFinite(t[i]) || t[i] < schedule.TMin - slack || t[i] > schedule.TMax + slack)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"given grid time {i} ({t[i]}) lies outside the model's time range [{schedule.TMin}, {schedule.TMax}]."));
            }

            if (i > 0 && !(t[i] < t[i - 1]))
            {
                throw new ArgumentException($"given grid times must decrease strictly (time {i} is {t[i]} after {t[i - 1]}).");
            }
        }

        if (Math.Abs(t[0] - schedule.TMax) > slack)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"a given grid starts at the schedule's largest time {schedule.TMax} (got {t[0]})."));
        }

        return t;
    }
}
