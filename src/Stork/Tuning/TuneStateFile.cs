using System.Text.Json;
using Stork.IO;

namespace Stork.Tuning;

/// <summary>
/// The state of an interrupted <see cref="GridTuner"/> search as JSON (<c>FILE.state.json</c> beside a grid file), with
/// the key of the run it belongs to, so that <c>stork tune</c> resumes where it stopped.
/// </summary>
public static class TuneStateFile
{
    /// <summary>The file's text: the run's key and the state.</summary>
    public static string ToJson(string key, TuneState state) => JsonSerializer.Serialize(new StateFile(key, state));

    /// <summary>
    /// The state saved at <paramref name="path"/> for the run <paramref name="key"/> with <paramref name="steps"/> logits;
    /// null when there is none (<paramref name="problem"/> null) or it belongs to another run or is damaged (<paramref name="problem"/> says so).
    /// </summary>
    public static TuneState? Load(string path, string key, int steps, out string? problem)
    {
        problem = null;
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var file = JsonSerializer.Deserialize<StateFile>(InputFile.ReadAllText(path, "tune state"));
            if (file?.State is { } s && file.Key == key && s.Logits.Length == steps && s.Logits.All(double.IsFinite))
            {
                return s;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or NotSupportedException)
        {
        }

        problem = "belongs to another run or is damaged";
        return null;
    }

    private sealed record StateFile(string Key, TuneState State);
}
