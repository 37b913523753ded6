using System.Text.Json;
using Stork.IO;

namespace Stork.Tests;

/// <summary>Reads the golden cases copied into Data/golden (see Data/PROVENANCE.md) in one place.</summary>
internal static class Golden
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Data", "golden");

    public static string PathOf(string group, string file) => Path.Combine(Root, group, file);

    public static IEnumerable<string> CaseNames(string group)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(PathOf(group, "cases.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => c.GetProperty("name").GetString()!).ToList();
    }

    public static GoldenCase Load(string group, string name)
    {
        var json = JsonDocument.Parse(File.ReadAllText(PathOf(group, name + ".json"))).RootElement.Clone();
        var noise = NpyFile.Read(PathOf(group, name + ".noise.npy"));
        var final = NpyFile.Read(PathOf(group, name + ".final.npy"));
        string traj = PathOf(group, name + ".trajectory.npy");
        return new GoldenCase(name, group, json, noise, final, File.Exists(traj) ? NpyFile.Read(traj) : null);
    }

    public static double RelativeL2(ReadOnlySpan<float> a, ReadOnlySpan<double> reference)
    {
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = a[i] - reference[i];
            num += d * d;
            den += reference[i] * reference[i];
        }

        return Math.Sqrt(num / den);
    }
}

internal sealed record GoldenCase(string Name, string Group, JsonElement Json, NpyArray Noise, NpyArray Final, NpyArray? Trajectory)
{
    public JsonElement Scheduler => Json.GetProperty("scheduler");

    public string ModelPath => Golden.PathOf(Group, Json.GetProperty("model").GetString()!);

    public double[] Timesteps => Json.GetProperty("timesteps").EnumerateArray().Select(e => e.GetDouble()).ToArray();

    public double Get(string key, double fallback) =>
        Scheduler.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;

    public bool Flag(string key) => Scheduler.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.True;
}
