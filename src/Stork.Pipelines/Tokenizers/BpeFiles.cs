using System.Text.Json;
using Stork.IO;

namespace Stork.Pipelines.Tokenizers;

/// <summary>The two files of a byte-pair-encoding tokenizer (CLIP, Qwen2): <c>vocab.json</c> and <c>merges.txt</c> by rank.</summary>
internal static class BpeFiles
{
    private const long MaxBytes = 256L << 20;

    /// <exception cref="InvalidDataException">A file is missing or malformed.</exception>
    public static (Dictionary<string, int> Vocab, List<(string Left, string Right)> Merges) Load(string folder, string kind)
    {
        string vocabPath = Path.Combine(folder, "vocab.json");
        string mergesPath = Path.Combine(folder, "merges.txt");
        foreach (string p in new[] { vocabPath, mergesPath })
        {
            if (!File.Exists(p))
            {
                throw new InvalidDataException($"{kind} tokenizer folder {folder}: {Path.GetFileName(p)} is missing");
            }
        }

        Dictionary<string, int> vocab;
        try
        {
            vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(InputFile.ReadAllBytes(vocabPath, "tokenizer file", MaxBytes))
                ?? throw new InvalidDataException($"{vocabPath}: empty vocabulary");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{vocabPath}: malformed JSON ({ex.Message})", ex);
        }

        var merges = new List<(string, string)>();
        foreach (string line in InputFile.ReadAllText(mergesPath, "tokenizer file", MaxBytes).Split(['\r', '\n']))
        {
            if (line.StartsWith("#version", StringComparison.Ordinal) || line.Length == 0)
            {
                continue;
            }

            int space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0 || space == line.Length - 1)
            {
                throw new InvalidDataException($"{mergesPath}: malformed merge line '{line}'");
            }

            merges.Add((line[..space], line[(space + 1)..]));
        }

        return (vocab, merges);
    }
}
