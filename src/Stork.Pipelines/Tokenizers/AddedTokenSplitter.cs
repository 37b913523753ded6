namespace Stork.Pipelines.Tokenizers;

/// <summary>
/// Splits added (special) tokens out of a text before normalisation, as Hugging Face's <c>AddedVocabulary</c> does:
/// leftmost match, the longest token when several start at the same place.
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly Dictionary<char, (string Content, int Id)[]> _byFirstChar;

    /// <summary>Builds a splitter for <paramref name="tokens"/> (content to id); empty contents are ignored.</summary>
    public AddedTokenSplitter(IReadOnlyDictionary<string, int> tokens)
    {
        Tokens = tokens;
        _byFirstChar = tokens.Where(kv => kv.Key.Length > 0)
            .GroupBy(kv => kv.Key[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(kv => kv.Key.Length).Select(kv => (kv.Key, kv.Value)).ToArray());
    }

    /// <summary>The added tokens, content to id.</summary>
    public IReadOnlyDictionary<string, int> Tokens { get; }

    /// <summary>
    /// The pieces of <paramref name="text"/> in order: an added token (Id set, Text its content) or a run of plain
    /// text (Id -1) with its start offset in the original text.
    /// </summary>
    public List<(string Text, int Id, int Offset)> Split(string text)
    {
        var parts = new List<(string, int, int)>();
        int plainStart = 0;
        int i = 0;
        while (i < text.Length)
        {
            if (_byFirstChar.TryGetValue(text[i], out var candidates))
            {
                int matched = -1;
                foreach (var (content, id) in candidates)
                {
                    if (string.CompareOrdinal(text, i, content, 0, content.Length) == 0)
                    {
                        if (i > plainStart)
                        {
                            parts.Add((text[plainStart..i], -1, plainStart));
                        }

                        parts.Add((content, id, i));
                        matched = content.Length;
                        break;
                    }
                }

                if (matched > 0)
                {
                    i += matched;
                    plainStart = i;
                    continue;
                }
            }

            i++;
        }

        if (plainStart < text.Length)
        {
            parts.Add((text[plainStart..], -1, plainStart));
        }

        return parts;
    }
}
