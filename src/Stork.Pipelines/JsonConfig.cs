using System.Text.Json;

namespace Stork.Pipelines;

/// <summary>
/// A component's <c>config.json</c> (or <c>model_index.json</c>) read with clear errors: the file and the key are named
/// when a value is missing or of the wrong kind.
/// </summary>
public sealed class JsonConfig
{
    private readonly JsonElement _root;

    private JsonConfig(string path, JsonElement root)
    {
        Path = path;
        _root = root;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>The top-level keys.</summary>
    public IEnumerable<string> Keys => _root.EnumerateObject().Select(p => p.Name);

    /// <summary>Reads <paramref name="path"/>; a missing file or malformed JSON is an <see cref="InvalidDataException"/>.</summary>
    public static JsonConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"'{path}' does not exist.", path);
        }

        return Parse(Stork.IO.InputFile.ReadAllText(path, "configuration file", 16L << 20), path);
    }

    /// <summary>Parses <paramref name="text"/> read from <paramref name="path"/>; malformed JSON is an <see cref="InvalidDataException"/>.</summary>
    public static JsonConfig Parse(string text, string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"'{path}' must hold a JSON object.");
            }

            return new JsonConfig(path, doc.RootElement.Clone());
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}");
        }
    }

    /// <summary>Whether <paramref name="key"/> is present and not null.</summary>
    public bool Has(string key) => _root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>The raw element of <paramref name="key"/>, if present and not null.</summary>
    public JsonElement? Element(string key) => _root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>
    /// A nested object <paramref name="key"/> as a configuration of its own (its errors name <c>file:key</c>); null
    /// when absent or null, an <see cref="InvalidDataException"/> when not an object.
    /// </summary>
    public JsonConfig? Section(string key)
    {
        if (Element(key) is not { } v)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.Object ? new JsonConfig($"{Path}:{key}", v.Clone()) : throw Wrong(key, "an object", v);
    }

    /// <summary>The integer at <paramref name="key"/>; absent or of another kind is an <see cref="InvalidDataException"/>.</summary>
    public int Int(string key) => IntOrNull(key) ?? throw Missing(key, "an integer");

    /// <summary>The integer at <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    public int Int(string key, int fallback) => IntOrNull(key) ?? fallback;

    /// <summary>The integer at <paramref name="key"/>, or null when absent; another kind of value is an <see cref="InvalidDataException"/>.</summary>
    public int? IntOrNull(string key)
    {
        if (Element(key) is not { } v)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i))
        {
            throw Wrong(key, "an integer", v);
        }

        return i;
    }

    /// <summary>The number at <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    public double Number(string key, double fallback) => NumberOrNull(key) ?? fallback;

    /// <summary>The number at <paramref name="key"/>, or null when absent; another kind of value is an <see cref="InvalidDataException"/>.</summary>
    public double? NumberOrNull(string key)
    {
        if (Element(key) is not { } v)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Number || !double.IsFinite(v.GetDouble()))
        {
            throw Wrong(key, "a finite number", v);
        }

        return v.GetDouble();
    }

    /// <summary>The boolean at <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    public bool Bool(string key, bool fallback)
    {
        if (Element(key) is not { } v)
        {
            return fallback;
        }

        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Wrong(key, "true or false", v),
        };
    }

    /// <summary>The string at <paramref name="key"/>, or null when absent; another kind of value is an <see cref="InvalidDataException"/>.</summary>
    public string? String(string key)
    {
        if (Element(key) is not { } v)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(key, "a string", v);
    }

    /// <summary>The list of integers at <paramref name="key"/>; absent or of another kind is an <see cref="InvalidDataException"/>.</summary>
    public int[] IntArray(string key)
    {
        if (Element(key) is not { } v)
        {
            throw Missing(key, "a list of integers");
        }

        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out _)))
        {
            throw Wrong(key, "a list of integers", v);
        }

        return v.EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    /// <summary>The list of numbers at <paramref name="key"/>, or null when absent; another kind of value is an <see cref="InvalidDataException"/>.</summary>
    public double[]? NumberArrayOrNull(string key)
    {
        if (Element(key) is not { } v)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number))
        {
            throw Wrong(key, "a list of numbers", v);
        }

        return v.EnumerateArray().Select(e => e.GetDouble()).ToArray();
    }

    private InvalidDataException Missing(string key, string what) => new($"'{Path}': '{key}' ({what}) is missing.");

    private InvalidDataException Wrong(string key, string what, JsonElement v)
    {
        string raw = v.GetRawText();
        return new InvalidDataException($"'{Path}': '{key}' must be {what} (got {(raw.Length > 40 ? raw[..40] + "..." : raw)}).");
    }
}
