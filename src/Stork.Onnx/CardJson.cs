using System.Text.Json;

namespace Stork.Onnx;

/// <summary>Reads typed values from a model card's JSON with one-line errors that name the card and the key.</summary>
internal sealed class CardJson(string cardPath)
{
    public string CardPath { get; } = cardPath;

    public InvalidDataException Error(string message) => new($"model card '{CardPath}': {message}");

    public JsonElement Required(JsonElement parent, string key, string prefix = "")
    {
        if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            throw Error($"missing key '{prefix}{key}'.");
        }

        return v;
    }

    public static JsonElement? Optional(JsonElement parent, string key) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public string String(JsonElement parent, string key, string prefix = "")
    {
        var v = Required(parent, key, prefix);
        if (v.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(v.GetString()))
        {
            throw Error($"'{prefix}{key}' must be a non-empty string.");
        }

        return v.GetString()!;
    }

    public string? OptionalString(JsonElement parent, string key, string prefix = "")
    {
        if (Optional(parent, key) is not { } v)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Error($"'{prefix}{key}' must be a string.");
    }

    public double Number(JsonElement parent, string key, string prefix = "")
    {
        var v = Required(parent, key, prefix);
        return NumberOf(v, prefix + key);
    }

    public double OptionalNumber(JsonElement parent, string key, double fallback, string prefix = "") =>
        Optional(parent, key) is { } v ? NumberOf(v, prefix + key) : fallback;

    public int Integer(JsonElement parent, string key, string prefix = "")
    {
        var v = Required(parent, key, prefix);
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i))
        {
            throw Error($"'{prefix}{key}' must be an integer.");
        }

        return i;
    }

    public int[] IntArray(JsonElement parent, string key)
    {
        var v = Required(parent, key);
        if (v.ValueKind != JsonValueKind.Array)
        {
            throw Error($"'{key}' must be an array of positive integers.");
        }

        var r = new List<int>();
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int i) || i < 1)
            {
                throw Error($"'{key}' must be an array of positive integers.");
            }

            r.Add(i);
        }

        return r.Count > 0 ? r.ToArray() : throw Error($"'{key}' must not be empty.");
    }

    public double[] NumberArray(JsonElement parent, string key, int length)
    {
        var v = Required(parent, key);
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != length)
        {
            throw Error($"'{key}' must be an array of {length} numbers.");
        }

        return v.EnumerateArray().Select(e => NumberOf(e, key)).ToArray();
    }

    private double NumberOf(JsonElement v, string key)
    {
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !double.IsFinite(d))
        {
            throw Error($"'{key}' must be a finite number.");
        }

        return d;
    }
}
