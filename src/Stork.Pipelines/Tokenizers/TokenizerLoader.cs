using System.Text.Json;

namespace Stork.Pipelines.Tokenizers;

/// <summary>
/// Opens a diffusers model's tokenizer folder (<c>tokenizer/</c>, <c>tokenizer_2/</c>, ...) as the right
/// <see cref="ITextTokenizer"/>: Qwen2 when <c>tokenizer_config.json</c> names <c>Qwen2Tokenizer</c>[<c>Fast</c>], CLIP for
/// <c>vocab.json</c> + <c>merges.txt</c> with a CLIP configuration, T5 for
/// <c>spiece.model</c> or a <c>tokenizer.json</c> with a Unigram model.
/// </summary>
public static class TokenizerLoader
{
    /// <summary>Loads the tokenizer in <paramref name="folder"/>.</summary>
    /// <exception cref="InvalidDataException">
    /// The folder is missing, has no tokenizer files this library reads, or a file is malformed; the message names the
    /// folder and what is missing.
    /// </exception>
    public static ITextTokenizer Load(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder))
        {
            throw new InvalidDataException($"tokenizer folder {folder} does not exist");
        }

        var config = TokenizerConfig.Load(folder);
        string cls = config.TokenizerClass ?? "";
        bool hasVocab = File.Exists(Path.Combine(folder, "vocab.json"));
        bool hasMerges = File.Exists(Path.Combine(folder, "merges.txt"));
        bool hasSpiece = File.Exists(Path.Combine(folder, "spiece.model"));
        string tokenizerJson = Path.Combine(folder, "tokenizer.json");

        if (cls.StartsWith("Qwen2Tokenizer", StringComparison.Ordinal))
        {
            return Qwen2Tokenizer.FromFolder(folder);
        }

        if (cls.StartsWith("CLIPTokenizer", StringComparison.Ordinal) || (cls.Length == 0 && (hasVocab || hasMerges) && !hasSpiece))
        {
            return ClipTokenizer.FromFolder(folder);
        }

        if (File.Exists(tokenizerJson) && UnigramModelIn(tokenizerJson))
        {
            return T5Tokenizer.FromTokenizerJson(folder);
        }

        if (hasSpiece)
        {
            return T5Tokenizer.FromSentencePieceModel(folder);
        }

        if (cls.StartsWith("T5Tokenizer", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"T5 tokenizer folder {folder}: neither spiece.model nor a Unigram tokenizer.json is there");
        }

        throw new InvalidDataException(
            $"tokenizer folder {folder}: no tokenizer this library reads (CLIP or Qwen2: vocab.json + merges.txt; T5: spiece.model or "
            + $"tokenizer.json with a Unigram model){(cls.Length > 0 ? $"; tokenizer_class is {cls}" : "")}");
    }

    private static bool UnigramModelIn(string path)
    {
        using var doc = TokenizerConfig.ReadJson(path)!;
        return doc.RootElement.ValueKind == JsonValueKind.Object
            && doc.RootElement.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.Object
            && m.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "Unigram";
    }
}
