using System.Text.Json;
using Stork.Solvers.Catalog;

namespace Stork.Pipelines;

/// <summary>One line of a <see cref="BatchFile"/>: its number, the request and the output file it names (null: the caller's numbering).</summary>
public sealed record BatchItem(int Line, GenerationRequest Request, string? Output);

/// <summary>
/// A JSONL batch: one JSON object per non-empty line with per-line settings, diffusers' names or the command line's:
/// <c>prompt</c> (required), <c>negative_prompt</c>, <c>seed</c>, <c>steps</c> (<c>num_inference_steps</c>),
/// <c>scheduler</c>, <c>height</c>, <c>width</c>, <c>guidance</c> (<c>guidance_scale</c>), <c>true_cfg</c>
/// (<c>true_cfg_scale</c>), <c>count</c> (<c>num_images_per_prompt</c>), <c>max_sequence_length</c> and <c>out</c>
/// (a <c>.png</c> path). Every line is read and checked before any is run: a bad line raises one
/// <see cref="InvalidDataException"/> naming its number.
/// </summary>
public static class BatchFile
{
    /// <summary>The most lines a batch may hold.</summary>
    public const int MaxLines = 100_000;

    private static readonly Dictionary<string, string> Names = new(StringComparer.Ordinal)
    {
        ["prompt"] = "prompt",
        ["negative_prompt"] = "negative_prompt",
        ["seed"] = "seed",
        ["steps"] = "steps",
        ["num_inference_steps"] = "steps",
        ["scheduler"] = "scheduler",
        ["height"] = "height",
        ["width"] = "width",
        ["guidance"] = "guidance",
        ["guidance_scale"] = "guidance",
        ["true_cfg"] = "true_cfg",
        ["true_cfg_scale"] = "true_cfg",
        ["count"] = "count",
        ["num_images_per_prompt"] = "count",
        ["max_sequence_length"] = "max_sequence_length",
        ["out"] = "out",
        ["output"] = "out",
    };

    /// <summary>
    /// A plain prompt list: one prompt per non-empty line of <paramref name="text"/> (trimmed), 1 to
    /// <see cref="MaxLines"/> of them (an <see cref="InvalidDataException"/> naming <paramref name="source"/> otherwise).
    /// </summary>
    public static IReadOnlyList<string> Prompts(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split(['\r', '\n']).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        return lines.Count is 0 or > MaxLines
            ? throw new InvalidDataException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{source} must hold 1 to {MaxLines} non-empty lines (has {lines.Count})."))
            : lines;
    }

    /// <summary>
    /// The batch in <paramref name="text"/> (named <paramref name="source"/> in messages), each line's settings over
    /// <paramref name="defaults"/> (whose prompt is replaced).
    /// </summary>
    public static IReadOnlyList<BatchItem> Parse(string text, string source, GenerationRequest defaults)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(defaults);
        var items = new List<BatchItem>();
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim().TrimStart('\uFEFF');
            if (line.Length == 0)
            {
                continue;
            }

            if (items.Count == MaxLines)
            {
                throw new InvalidDataException($"{source}: more than {MaxLines} lines.");
            }

            try
            {
                items.Add(ParseLine(line, i + 1, defaults));
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException)
            {
                throw new InvalidDataException($"{source} line {i + 1}: {Plain(e)}", e);
            }
        }

        return items.Count == 0 ? throw new InvalidDataException($"{source} holds no lines.") : items;
    }

    private static string Plain(Exception e) => e switch
    {
        JsonException j => "not a JSON object (" + j.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0].TrimEnd('.') + ").",
        InvalidOperationException => "a value has the wrong type (" + e.Message + ").",
        _ => e.Message,
    };

    private static BatchItem ParseLine(string line, int number, GenerationRequest defaults)
    {
        using var doc = JsonDocument.Parse(line);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("each line must be a JSON object such as {\"prompt\": \"a cat\", \"seed\": 1}.");
        }

        var r = defaults;
        string? output = null;
        bool prompt = false;
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (!Names.TryGetValue(p.Name, out string? key))
            {
                throw new FormatException($"unknown key '{p.Name}' (expected {string.Join(", ", Names.Keys)}).");
            }

            var v = p.Value;
            switch (key)
            {
                case "prompt":
                    r = r with { Prompt = NonEmpty(v, p.Name) };
                    prompt = true;
                    break;
                case "negative_prompt":
                    r = r with { NegativePrompt = v.GetString() };
                    break;
                case "seed":
                    r = r with { Seed = v.GetInt64() };
                    break;
                case "steps":
                    r = r with { Steps = v.GetInt32() };
                    break;
                case "scheduler":
                    string name = NonEmpty(v, p.Name);
                    r = r with
                    {
                        Scheduler = SolverRegistry.Contains(name)
                            ? SchedulerChoice.Named(name)
                            : throw new FormatException($"unknown scheduler '{name}' (expected one of: {string.Join(", ", SolverRegistry.Names)})."),
                    };
                    break;
                case "height":
                    r = r with { Height = v.GetInt32() };
                    break;
                case "width":
                    r = r with { Width = v.GetInt32() };
                    break;
                case "guidance":
                    r = r with { GuidanceScale = v.GetDouble() };
                    break;
                case "true_cfg":
                    r = r with { TrueCfgScale = v.GetDouble() };
                    break;
                case "count":
                    r = r with { Count = v.GetInt32() };
                    break;
                case "max_sequence_length":
                    r = r with { MaxSequenceLength = v.GetInt32() };
                    break;
                default:
                    output = NonEmpty(v, p.Name);
                    if (!ImageFiles.IsPng(output))
                    {
                        throw new FormatException($"{p.Name} must name a .png file (got '{output}').");
                    }

                    break;
            }
        }

        return prompt ? new BatchItem(number, r, output) : throw new FormatException("the line has no \"prompt\".");
    }

    private static string NonEmpty(JsonElement v, string key) =>
        v.GetString() is { } s && !string.IsNullOrWhiteSpace(s) ? s : throw new FormatException($"\"{key}\" must be a non-empty string.");
}
