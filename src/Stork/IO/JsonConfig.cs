using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Stork.IO;

/// <summary>
/// The one typed-JSON reader: a JSON object (a diffusers <c>config.json</c> or <c>model_index.json</c>, a model card,
/// a scheduler configuration) read with typed getters whose errors are one line naming the file and the key
/// (<c>'{file}': 'schedule.t_min' must be a finite number (got "x").</c>). Python's <c>json</c> writes <c>NaN</c> and
/// <c>Infinity</c> bare; they are read as those strings, which <see cref="NumberOrNull(string, bool)"/> accepts.
/// </summary>
public sealed partial class JsonConfig
{
    private readonly Scope _scope;
    private readonly JsonElement _root;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private JsonConfig(Scope scope, JsonElement root) => (_scope, _root) = (scope, root);

    /// <summary>The file read.</summary>
    public string Path => _scope.Path;

    /// <summary>What every error starts with: the quoted file by default, or a caller's label (<c>model card 'x.json'</c>).</summary>
    public string Label => _scope.Label;

    /// <summary>The top-level keys (of this section).</summary>
    public IEnumerable<string> Keys => _root.EnumerateObject().Select(p => p.Name);

    /// <summary>The keys no getter has asked for yet (for "unsupported option" checks).</summary>
    public IEnumerable<string> UnreadKeys => Keys.Where(k => !_read.Contains(k));

    /// <summary>Reads <paramref name="path"/>; a missing file or malformed JSON is an <see cref="InvalidDataException"/>.</summary>
    public static JsonConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"'{path}' does not exist.", path);
        }

        return Parse(InputFile.ReadAllText(path, "configuration file", 16L << 20), path);
    }

    /// <summary>Parses <paramref name="text"/> read from <paramref name="path"/>; malformed JSON is an <see cref="InvalidDataException"/>.</summary>
    public static JsonConfig Parse(string text, string path) => Parse(text, path, $"'{path}'", m => new InvalidDataException(m));

    /// <summary>
    /// Parses <paramref name="text"/> read from <paramref name="path"/>; every error is <paramref name="error"/> of a
    /// message that starts with <paramref name="label"/>.
    /// </summary>
    public static JsonConfig Parse(string text, string path, string label, Func<string, Exception> error)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(error);
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(BareLiteral().Replace(text, "$1\"$2\""), new JsonDocumentOptions { AllowTrailingCommas = true });
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw error($"{label} is not valid JSON: {e.Message}");
        }

        return root.ValueKind == JsonValueKind.Object
            ? new JsonConfig(new Scope(path, label, "", error), root)
            : throw error($"{label} must hold a JSON object.");
    }

    /// <summary>The same object with another label (errors then start with <paramref name="label"/>).</summary>
    public JsonConfig WithLabel(string label) => new(_scope with { Label = label }, _root);

    /// <summary>Marks <paramref name="keys"/> as read (options a reader accepts and ignores).</summary>
    internal void Accept(params string[] keys)
    {
        foreach (string k in keys)
        {
            _read.Add(k);
        }
    }

    /// <summary>An error about this object: <c>{label}: {message}</c>, of the kind this reader throws.</summary>
    public Exception Error(string message) => _scope.Error($"{Label}: {message}");

    /// <summary>Whether <paramref name="key"/> is present and not null.</summary>
    public bool Has(string key) => Element(key) is not null;

    /// <summary>The raw element of <paramref name="key"/>, if present and not null.</summary>
    public JsonElement? Element(string key)
    {
        _read.Add(key);
        return _root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;
    }

    /// <summary>
    /// A nested object <paramref name="key"/> as a configuration of its own (its errors name <c>key.inner</c>); null
    /// when absent or null, an error when not an object.
    /// </summary>
    public JsonConfig? Section(string key)
    {
        if (Element(key) is not { } v)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.Object ? new JsonConfig(_scope with { Prefix = $"{_scope.Prefix}{key}." }, v) : throw Wrong(key, "an object", v);
    }

    /// <summary>The nested object <paramref name="key"/>; absent or of another kind is an error.</summary>
    public JsonConfig RequiredSection(string key) => Section(key) ?? throw Missing(key, "an object");

    /// <summary>The integer at <paramref name="key"/>; absent or of another kind is an error.</summary>
    public int Int(string key) => IntOrNull(key) ?? throw Missing(key, "an integer");

    /// <summary>The integer at <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    public int Int(string key, int fallback) => IntOrNull(key) ?? fallback;

    /// <summary>The integer at <paramref name="key"/>, or null when absent; another kind of value is an error.</summary>
    public int? IntOrNull(string key)
    {
        if (Element(key) is not { } v)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw Wrong(key, "an integer", v);
    }

    /// <summary>The finite number at <paramref name="key"/>; absent or of another kind is an error.</summary>
    public double Number(string key) => NumberOrNull(key) ?? throw Missing(key, "a finite number");

    /// <summary>The finite number at <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    public double Number(string key, double fallback) => NumberOrNull(key) ?? fallback;

    /// <summary>The finite number at <paramref name="key"/>, or null when absent; another kind of value is an error.</summary>
    public double? NumberOrNull(string key) => NumberOrNull(key, allowInfinite: false);

    /// <summary>
    /// The number at <paramref name="key"/>, or null when absent. With <paramref name="allowInfinite"/>, also a string
    /// holding a number (Python's bare <c>-Infinity</c>, <c>Infinity</c>, <c>NaN</c>) and non-finite values.
    /// </summary>
    public double? NumberOrNull(string key, bool allowInfinite)
    {
        if (Element(key) is not { } v)
        {
            return null;
        }

        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && double.IsFinite(d))
        {
            return d;
        }

        if (allowInfinite && v.ValueKind == JsonValueKind.String
            && double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double s))
        {
            return s;
        }

        throw Wrong(key, allowInfinite ? "a number" : "a finite number", v);
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

    /// <summary>The string at <paramref name="key"/>, or null when absent; another kind of value is an error.</summary>
    public string? String(string key)
    {
        if (Element(key) is not { } v)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(key, "a string", v);
    }

    /// <summary>The non-empty string at <paramref name="key"/>; absent, blank or of another kind is an error.</summary>
    public string RequiredString(string key)
    {
        string? s = String(key) ?? throw Missing(key, "a non-empty string");
        return string.IsNullOrWhiteSpace(s) ? throw Wrong(key, "a non-empty string", _root.GetProperty(key)) : s;
    }

    /// <summary>
    /// The string at <paramref name="key"/>, one of <paramref name="allowed"/>, or <paramref name="fallback"/> when absent.
    /// </summary>
    public string Choice(string key, string fallback, params string[] allowed)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        string? s = String(key);
        return s is null ? fallback
            : allowed.Contains(s, StringComparer.Ordinal) ? s
            : throw Error($"'{_scope.Prefix}{key}' '{s}' is not supported (expected {string.Join(" or ", allowed)}).");
    }

    /// <summary>The list of integers at <paramref name="key"/>; absent or of another kind is an error.</summary>
    public int[] IntArray(string key) => IntArrayOrNull(key) ?? throw Missing(key, "a list of integers");

    /// <summary>The list of integers at <paramref name="key"/>, or null when absent; another kind of value is an error.</summary>
    public int[]? IntArrayOrNull(string key)
    {
        if (Element(key) is not { } v)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out _)))
        {
            throw Wrong(key, "a list of integers", v);
        }

        return v.EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    /// <summary>The list of finite numbers at <paramref name="key"/>; absent or of another kind is an error.</summary>
    public double[] NumberArray(string key) => NumberArrayOrNull(key) ?? throw Missing(key, "a list of numbers");

    /// <summary>The list of exactly <paramref name="length"/> finite numbers at <paramref name="key"/>; anything else is an error.</summary>
    public double[] NumberArray(string key, int length)
    {
        double[] r = NumberArrayOrNull(key) ?? throw Missing(key, $"a list of {length} numbers");
        return r.Length == length ? r : throw Wrong(key, $"a list of {length} numbers", _root.GetProperty(key));
    }

    /// <summary>The list of finite numbers at <paramref name="key"/>, or null when absent; another kind of value is an error.</summary>
    public double[]? NumberArrayOrNull(string key)
    {
        if (Element(key) is not { } v)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Array
            || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out double d) || !double.IsFinite(d)))
        {
            throw Wrong(key, "a list of finite numbers", v);
        }

        return v.EnumerateArray().Select(e => e.GetDouble()).ToArray();
    }

    /// <summary>The list of lists of finite numbers at <paramref name="key"/>; absent or of another kind is an error.</summary>
    public double[][] NumberMatrix(string key)
    {
        if (Element(key) is not { } v)
        {
            throw Missing(key, "a list of lists of numbers");
        }

        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.Array
            || r.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out double d) || !double.IsFinite(d))))
        {
            throw Wrong(key, "a list of lists of finite numbers", v);
        }

        return v.EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetDouble()).ToArray()).ToArray();
    }

    /// <summary>This object as names to non-empty strings; a value of another kind is an error.</summary>
    public Dictionary<string, string> Strings() => Keys.ToDictionary(k => k, RequiredString, StringComparer.Ordinal);

    /// <summary>The list of non-empty strings at <paramref name="key"/>; empty when absent, an error otherwise.</summary>
    public string[] StringArray(string key)
    {
        if (Element(key) is not { } v)
        {
            return [];
        }

        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(e.GetString())))
        {
            throw Wrong(key, "a list of non-empty strings", v);
        }

        return v.EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    /// <summary>The error for a required <paramref name="key"/> that is absent: <c>missing key 'key' (what)</c>.</summary>
    public Exception Missing(string key, string what) => Error($"missing key '{_scope.Prefix}{key}' ({what}).");

    private Exception Wrong(string key, string what, JsonElement v)
    {
        string raw = v.GetRawText();
        return Error($"'{_scope.Prefix}{key}' must be {what} (got {(raw.Length > 40 ? raw[..40] + "..." : raw)}).");
    }

    /// <summary>The list of objects at <paramref name="key"/>, each a section named <c>key[i]</c>; empty when absent, an error otherwise.</summary>
    public IReadOnlyList<JsonConfig> Sections(string key)
    {
        if (Element(key) is not { } v)
        {
            return [];
        }

        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Object))
        {
            throw Wrong(key, "a list of objects", v);
        }

        return v.EnumerateArray().Select((e, i) => new JsonConfig(_scope with { Prefix = $"{_scope.Prefix}{key}[{i}]." }, e)).ToList();
    }

    private sealed record Scope(string Path, string Label, string Prefix, Func<string, Exception> Error);

    // Python's json writes -Infinity / Infinity / NaN bare (diffusers' lambda_min_clipped); read them as strings.
    [GeneratedRegex(@"([:\[,]\s*)(-?Infinity|NaN)(?=\s*[,}\]])")]
    private static partial Regex BareLiteral();
}
