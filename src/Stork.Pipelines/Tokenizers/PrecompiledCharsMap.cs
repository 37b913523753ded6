namespace Stork.Pipelines.Tokenizers;

/// <summary>
/// SentencePiece's precompiled normalisation rules (<c>precompiled_charsmap</c>, e.g. <c>nmt_nfkc</c>): a Darts
/// double-array trie from UTF-8 byte prefixes to offsets of NUL-terminated replacement strings.
/// </summary>
/// <remarks>
/// Blob layout: a little-endian uint32 trie size in bytes, the trie's uint32 units, then the replacement strings.
/// <see cref="NormalizePrefix"/> is SentencePiece's <c>Normalizer::NormalizePrefix</c>: the longest rule that
/// matches, otherwise one UTF-8 character copied (a malformed byte becomes U+FFFD).
/// </remarks>
internal sealed class PrecompiledCharsMap
{
    private static readonly byte[] Replacement = [0xEF, 0xBF, 0xBD];
    private readonly uint[] _units;
    private readonly byte[] _normalized;

    public PrecompiledCharsMap(byte[] blob)
    {
        if (blob.Length == 0)
        {
            _units = [];
            _normalized = [];
            return;
        }

        if (blob.Length < 4)
        {
            throw new InvalidDataException("precompiled charsmap too short");
        }

        uint trieSize = BitConverter.ToUInt32(blob, 0);
        if (trieSize % 4 != 0 || trieSize > blob.Length - 4)
        {
            throw new InvalidDataException("precompiled charsmap: bad trie size");
        }

        _units = new uint[trieSize / 4];
        Buffer.BlockCopy(blob, 4, _units, 0, (int)trieSize);
        _normalized = blob[(4 + (int)trieSize)..];
    }

    /// <summary>
    /// Normalises the start of <paramref name="input"/>: returns the replacement bytes and how many input bytes they
    /// replace.
    /// </summary>
    public (ReadOnlyMemory<byte> Output, int Consumed) NormalizePrefix(ReadOnlyMemory<byte> input)
    {
        var span = input.Span;
        int longestLength = 0, longestValue = 0;
        if (_units.Length > 0)
        {
            // Darts-clone commonPrefixSearch.
            int nodePos = 0;
            uint unit = _units[0];
            nodePos ^= Offset(unit);
            for (int i = 0; i < span.Length; i++)
            {
                nodePos ^= span[i];
                if ((uint)nodePos >= (uint)_units.Length)
                {
                    break;
                }

                unit = _units[nodePos];
                if (Label(unit) != span[i])
                {
                    break;
                }

                nodePos ^= Offset(unit);
                if (HasLeaf(unit) && (uint)nodePos < (uint)_units.Length)
                {
                    longestLength = i + 1;
                    longestValue = (int)(_units[nodePos] & 0x7FFFFFFFu);
                }
            }
        }

        if (longestLength > 0 && longestValue < _normalized.Length)
        {
            int end = Array.IndexOf(_normalized, (byte)0, longestValue);
            if (end < 0)
            {
                end = _normalized.Length;
            }

            return (_normalized.AsMemory(longestValue, end - longestValue), longestLength);
        }

        int length = Utf8CharLength(span);
        return length > 0 ? (input[..length], length) : (Replacement, 1);
    }

    /// <summary>The length of the valid UTF-8 character at the start of <paramref name="s"/>, or 0 when malformed.</summary>
    internal static int Utf8CharLength(ReadOnlySpan<byte> s)
    {
        return System.Text.Rune.DecodeFromUtf8(s, out _, out int consumed) == System.Buffers.OperationStatus.Done ? consumed : 0;
    }

    private static int Offset(uint unit) => (int)((unit >> 10) << (int)((unit & (1u << 9)) >> 6));

    private static uint Label(uint unit) => unit & ((1u << 31) | 0xFFu);

    private static bool HasLeaf(uint unit) => ((unit >> 8) & 1) == 1;
}
