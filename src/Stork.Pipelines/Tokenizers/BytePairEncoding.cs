namespace Stork.Pipelines.Tokenizers;

/// <summary>
/// A BPE model as Hugging Face's <c>BPE</c> runs it: a vocabulary, merges ranked by their line order, an optional
/// end-of-word suffix on a word's last symbol, and a cache of the ids of words already seen.
/// </summary>
internal sealed class BytePairEncoding
{
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<(string, string), int> _ranks;
    private readonly string _endOfWordSuffix;
    private readonly int _unkId;
    private readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly Lock _cacheLock = new();

    public BytePairEncoding(Dictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges, string endOfWordSuffix, int unkId)
    {
        _vocab = vocab;
        _endOfWordSuffix = endOfWordSuffix;
        _unkId = unkId;
        _ranks = new Dictionary<(string, string), int>(merges.Count);
        for (int i = 0; i < merges.Count; i++)
        {
            _ranks.TryAdd(merges[i], i);
        }
    }

    /// <summary>
    /// Byte-level BPE of a whole text as CLIP and Qwen2 run it: the added tokens split out first, each plain run
    /// normalised and pre-tokenised, each word mapped to the byte alphabet and merged.
    /// </summary>
    public List<int> EncodeByteLevel(AddedTokenSplitter added, string text, Func<string, string> normalize,
        Func<string, List<(int Start, int Length)>> preTokenize)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        foreach (var (part, id, _) in added.Split(text))
        {
            if (id >= 0)
            {
                ids.Add(id);
                continue;
            }

            string normalized = normalize(part);
            foreach (var (start, length) in preTokenize(normalized))
            {
                foreach (int t in EncodeWord(ByteLevelAlphabet.Map(normalized.AsSpan(start, length))))
                {
                    ids.Add(t >= 0 ? t : throw new InvalidDataException("the vocabulary lacks a byte symbol; vocab.json is incomplete"));
                }
            }
        }

        return ids;
    }

    /// <summary>The ids of one pre-tokenized word (already mapped to the vocabulary's alphabet).</summary>
    public int[] EncodeWord(string word)
    {
        lock (_cacheLock)
        {
            if (_cache.TryGetValue(word, out int[]? cached))
            {
                return cached;
            }
        }

        int[] ids = Merge(word);
        lock (_cacheLock)
        {
            if (_cache.Count < 100_000)
            {
                _cache[word] = ids;
            }
        }

        return ids;
    }

    private int[] Merge(string word)
    {
        var symbols = new List<string>(word.Length);
        for (int i = 0; i < word.Length; i++)
        {
            int len = char.IsHighSurrogate(word[i]) && i + 1 < word.Length ? 2 : 1;
            symbols.Add(word.Substring(i, len));
            i += len - 1;
        }

        if (symbols.Count == 0)
        {
            return [];
        }

        symbols[^1] += _endOfWordSuffix;
        while (symbols.Count > 1)
        {
            int best = -1, bestRank = int.MaxValue;
            for (int i = 0; i + 1 < symbols.Count; i++)
            {
                if (_ranks.TryGetValue((symbols[i], symbols[i + 1]), out int rank) && rank < bestRank)
                {
                    bestRank = rank;
                    best = i;
                }
            }

            if (best < 0)
            {
                break;
            }

            // Merge every occurrence of the best pair, left to right (same result as Hugging Face's rank/position queue).
            string left = symbols[best], right = symbols[best + 1];
            var merged = new List<string>(symbols.Count);
            for (int i = 0; i < symbols.Count; i++)
            {
                if (i + 1 < symbols.Count && symbols[i] == left && symbols[i + 1] == right)
                {
                    merged.Add(left + right);
                    i++;
                }
                else
                {
                    merged.Add(symbols[i]);
                }
            }

            symbols = merged;
        }

        var ids = new int[symbols.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = _vocab.TryGetValue(symbols[i], out int id) ? id : _unkId;
        }

        return ids;
    }
}
