using System.Text;

namespace Stork.Pipelines.Tokenizers;

/// <summary>
/// SentencePiece's Unigram encoder: its normaliser (precompiled charsmap, extra whitespace removal, dummy prefix,
/// spaces to U+2581), then the Viterbi best segmentation over the pieces' scores, consecutive unknown characters
/// fused into one <c>&lt;unk&gt;</c>.
/// </summary>
/// <remarks>
/// Follows <c>normalizer.cc</c> (<c>Normalize</c>, <c>NormalizePrefix</c>) and <c>unigram_model.cc</c>
/// (<c>EncodeOptimized</c>: float path scores, unknown characters scored <c>min_score - 10</c>, user-defined pieces
/// <c>length * max_score - 0.1</c>) and <c>sentencepiece_processor.cc</c>'s merge of consecutive unknown pieces.
/// </remarks>
internal sealed class SentencePieceUnigram
{
    private const string SpaceSymbol = "\u2581";
    private const float UnkPenalty = 10f;

    private readonly Dictionary<string, int> _pieces = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly float[] _scores;
    private readonly bool[] _userDefined;
    private readonly byte[][] _userDefinedBytes;
    private readonly int _maxPieceChars;
    private readonly float _minScore = float.MaxValue, _maxScore = float.MinValue;
    private readonly PrecompiledCharsMap _charsMap;
    private readonly bool _addDummyPrefix, _removeExtraWhitespaces, _escapeWhitespaces;

    public SentencePieceUnigram(
        IReadOnlyList<(string Piece, float Score, PieceType Type)> pieces, int unkId, byte[] charsMap,
        bool addDummyPrefix, bool removeExtraWhitespaces, bool escapeWhitespaces)
    {
        UnkId = unkId;
        _scores = new float[pieces.Count];
        _userDefined = new bool[pieces.Count];
        var userDefined = new List<byte[]>();
        for (int id = 0; id < pieces.Count; id++)
        {
            var (piece, score, type) = pieces[id];
            _scores[id] = score;
            if (type == PieceType.Normal)
            {
                _minScore = Math.Min(_minScore, score);
                _maxScore = Math.Max(_maxScore, score);
            }

            if (type is PieceType.Normal or PieceType.UserDefined && piece.Length > 0)
            {
                _pieces.TryAdd(piece, id);
                _maxPieceChars = Math.Max(_maxPieceChars, piece.Length);
            }

            if (type == PieceType.UserDefined)
            {
                _userDefined[id] = true;
                userDefined.Add(Encoding.UTF8.GetBytes(piece));
            }
        }

        _lookup = _pieces.GetAlternateLookup<ReadOnlySpan<char>>();
        _userDefinedBytes = [.. userDefined.OrderByDescending(b => b.Length)];
        _charsMap = new PrecompiledCharsMap(charsMap);
        _addDummyPrefix = addDummyPrefix;
        _removeExtraWhitespaces = removeExtraWhitespaces;
        _escapeWhitespaces = escapeWhitespaces;
    }

    /// <summary>The id of <c>&lt;unk&gt;</c>.</summary>
    public int UnkId { get; }

    /// <summary>The piece ids of <paramref name="text"/>.</summary>
    /// <param name="text">The text (no special tokens in it).</param>
    /// <param name="addDummyPrefix">Whether the dummy-prefix rule applies (SentencePiece: always; false for text that
    /// follows a special token, as Hugging Face's Metaspace <c>prepend_scheme: first</c> does).</param>
    public List<int> Encode(string text, bool addDummyPrefix = true) => Viterbi(Normalize(text, addDummyPrefix && _addDummyPrefix));

    /// <summary>SentencePiece's <c>Normalizer::Normalize</c> (without the offset bookkeeping).</summary>
    internal string Normalize(string text, bool addDummyPrefix)
    {
        ReadOnlyMemory<byte> input = Encoding.UTF8.GetBytes(ClipTokenizer.SanitizeSurrogates(text));
        var output = new List<byte>(input.Length + 8);
        byte[] space = Encoding.UTF8.GetBytes(SpaceSymbol);
        if (_removeExtraWhitespaces)
        {
            while (!input.IsEmpty)
            {
                var (piece, consumed) = NormalizePrefix(input);
                if (!(piece.Length == 1 && piece.Span[0] == (byte)' '))
                {
                    break;
                }

                input = input[consumed..];
            }
        }

        if (input.IsEmpty)
        {
            return "";
        }

        if (addDummyPrefix)
        {
            output.AddRange(_escapeWhitespaces ? space : [(byte)' ']);
        }

        bool isPrevSpace = _removeExtraWhitespaces;
        while (!input.IsEmpty)
        {
            var (piece, consumed) = NormalizePrefix(input);
            var sp = piece.Span;
            while (isPrevSpace && sp.Length > 0 && sp[0] == (byte)' ')
            {
                sp = sp[1..];
            }

            if (sp.Length > 0)
            {
                foreach (byte b in sp)
                {
                    if (_escapeWhitespaces && b == (byte)' ')
                    {
                        output.AddRange(space);
                    }
                    else
                    {
                        output.Add(b);
                    }
                }

                isPrevSpace = sp[^1] == (byte)' ';
            }

            input = input[consumed..];
            if (!_removeExtraWhitespaces)
            {
                isPrevSpace = false;
            }
        }

        if (_removeExtraWhitespaces)
        {
            byte[] tail = _escapeWhitespaces ? space : [(byte)' '];
            while (output.Count >= tail.Length && output.Skip(output.Count - tail.Length).SequenceEqual(tail))
            {
                output.RemoveRange(output.Count - tail.Length, tail.Length);
            }
        }

        return Encoding.UTF8.GetString([.. output]);
    }

    private (ReadOnlyMemory<byte> Output, int Consumed) NormalizePrefix(ReadOnlyMemory<byte> input)
    {
        foreach (byte[] user in _userDefinedBytes)
        {
            if (input.Span.StartsWith(user))
            {
                return (input[..user.Length], user.Length);
            }
        }

        return _charsMap.NormalizePrefix(input);
    }

    private List<int> Viterbi(string normalized)
    {
        int size = normalized.Length;
        var ids = new List<int>();
        if (size == 0)
        {
            return ids;
        }

        float unkScore = _minScore - UnkPenalty;
        var bestScore = new float[size + 1];
        var bestStart = new int[size + 1];
        var bestId = new int[size + 1];
        Array.Fill(bestStart, -1);
        var span = normalized.AsSpan();
        int startsAt = 0;
        while (startsAt < size)
        {
            float scoreTillHere = bestScore[startsAt];
            int charLen = char.IsHighSurrogate(span[startsAt]) && startsAt + 1 < size ? 2 : 1;
            bool hasSingleNode = false;
            int maxLen = Math.Min(_maxPieceChars, size - startsAt);
            for (int len = 1; len <= maxLen; len++)
            {
                if (!_lookup.TryGetValue(span.Slice(startsAt, len), out int id))
                {
                    continue;
                }

                int end = startsAt + len;
                double candidate = _userDefined[id]
                    ? ((Encoding.UTF8.GetByteCount(span.Slice(startsAt, len)) * (double)_maxScore) - 0.1) + scoreTillHere
                    : _scores[id] + scoreTillHere;
                if (bestStart[end] == -1 || candidate > bestScore[end])
                {
                    bestScore[end] = (float)candidate;
                    bestStart[end] = startsAt;
                    bestId[end] = id;
                }

                if (len == charLen)
                {
                    hasSingleNode = true;
                }
            }

            if (!hasSingleNode)
            {
                int end = startsAt + charLen;
                float candidate = unkScore + scoreTillHere;
                if (bestStart[end] == -1 || candidate > bestScore[end])
                {
                    bestScore[end] = candidate;
                    bestStart[end] = startsAt;
                    bestId[end] = UnkId;
                }
            }

            startsAt += charLen;
        }

        for (int endsAt = size; endsAt > 0; endsAt = bestStart[endsAt])
        {
            ids.Add(bestId[endsAt]);
        }

        ids.Reverse();

        // SentencePiece merges runs of unknown pieces into one.
        var fused = new List<int>(ids.Count);
        foreach (int id in ids)
        {
            if (id == UnkId && fused.Count > 0 && fused[^1] == UnkId)
            {
                continue;
            }

            fused.Add(id);
        }

        return fused;
    }
}
