using System.Text.Json;

namespace Stork.Pipelines.Tokenizers;

/// <summary>
/// What a Hugging Face tokenizer folder's <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c> say: the
/// class, the maximum length, the named special tokens and the added tokens (id to content).
/// </summary>
internal sealed class TokenizerConfig
{
    public string? TokenizerClass { get; private init; }

    public int? ModelMaxLength { get; private init; }

    public string? BosToken { get; private set; }

    public string? EosToken { get; private set; }

    public string? UnkToken { get; private set; }

    public string? PadToken { get; private set; }

    /// <summary>Added tokens of <c>added_tokens_decoder</c>, id to content.</summary>
    public Dictionary<int, string> AddedTokens { get; } = [];

    /// <summary><c>additional_special_tokens</c>.</summary>
    public List<string> AdditionalSpecialTokens { get; } = [];

    /// <summary>Reads the folder's configuration files; either may be missing (then the result is empty).</summary>
    public static TokenizerConfig Load(string folder)
    {
        string configPath = Path.Combine(folder, "tokenizer_config.json");
        string mapPath = Path.Combine(folder, "special_tokens_map.json");
        using var config = ReadJson(configPath);
        using var map = ReadJson(mapPath);
        var root = config?.RootElement;
        int? maxLength = null;
        if (root is { } r && r.TryGetProperty("model_max_length", out var ml) && ml.ValueKind == JsonValueKind.Number
            && ml.GetDouble() is > 0 and <= int.MaxValue)
        {
            maxLength = (int)ml.GetDouble();
        }

        var result = new TokenizerConfig
        {
            TokenizerClass = root is { } c && c.TryGetProperty("tokenizer_class", out var tc) && tc.ValueKind == JsonValueKind.String
                ? tc.GetString()
                : null,
            ModelMaxLength = maxLength,
        };
        foreach (var doc in new[] { config, map })
        {
            if (doc is null)
            {
                continue;
            }

            var e = doc.RootElement;
            if (e.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{(doc == config ? configPath : mapPath)}: expected a JSON object");
            }

            result.BosToken = TokenContent(e, "bos_token") ?? result.BosToken;
            result.EosToken = TokenContent(e, "eos_token") ?? result.EosToken;
            result.UnkToken = TokenContent(e, "unk_token") ?? result.UnkToken;
            result.PadToken = TokenContent(e, "pad_token") ?? result.PadToken;
            if (e.TryGetProperty("additional_special_tokens", out var extra) && extra.ValueKind == JsonValueKind.Array)
            {
                foreach (var t in extra.EnumerateArray())
                {
                    if (Content(t) is { } s && !result.AdditionalSpecialTokens.Contains(s))
                    {
                        result.AdditionalSpecialTokens.Add(s);
                    }
                }
            }

            if (e.TryGetProperty("added_tokens_decoder", out var added) && added.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in added.EnumerateObject())
                {
                    if (int.TryParse(p.Name, System.Globalization.CultureInfo.InvariantCulture, out int id) && Content(p.Value) is { } s)
                    {
                        result.AddedTokens[id] = s;
                    }
                }
            }
        }

        return result;
    }

    /// <summary>Parses a JSON file, or null when it does not exist; malformed JSON is an <see cref="InvalidDataException"/>.</summary>
    public static JsonDocument? ReadJson(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonDocument.Parse(Stork.IO.InputFile.ReadAllBytes(path, "tokenizer file", 256L << 20));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: malformed JSON ({ex.Message})", ex);
        }
    }

    private static string? TokenContent(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? Content(v) : null;

    private static string? Content(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Object when v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
        _ => null,
    };
}
