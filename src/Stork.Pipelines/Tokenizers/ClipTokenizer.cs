using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Stork.Pipelines.Tokenizers;

/// <summary>
/// CLIP's byte-level BPE tokenizer (CLIP-L, CLIP-G) with the behaviour of Hugging Face's fast <c>CLIPTokenizer</c>:
/// added/special tokens split out first, NFC, whitespace runs to one space, lowercase, CLIP's pre-tokenizer regex,
/// GPT-2's byte alphabet, BPE with <c>&lt;/w&gt;</c> on each word's last symbol, then
/// <c>&lt;|startoftext|&gt;</c> + tokens + <c>&lt;|endoftext|&gt;</c>.
/// </summary>
/// <remarks>
/// Written here rather than on Microsoft.ML.Tokenizers: its <c>BpeTokenizer</c> has no byte-level alphabet, so
/// characters outside the vocabulary (emoji, most scripts) would not become the byte tokens Hugging Face gives.
/// Padding uses the configured pad token's id (49407 <c>&lt;|endoftext|&gt;</c> for CLIP-L, 0 <c>!</c> for the
/// SDXL/SD3 CLIP-G configurations, where <c>!</c> is a special token and every <c>!</c> in a prompt becomes id 0,
/// as in Hugging Face and diffusers).
/// </remarks>
public sealed class ClipTokenizer : ITextTokenizer
{
    private readonly BytePairEncoding _bpe;
    private readonly AddedTokenSplitter _added;
    private readonly Dictionary<string, int> _vocab;

    private ClipTokenizer(Dictionary<string, int> vocab, BytePairEncoding bpe, AddedTokenSplitter added, int bos, int eos, int pad, int? maxLength)
    {
        _vocab = vocab;
        _bpe = bpe;
        _added = added;
        BosId = bos;
        EosId = eos;
        PadId = pad;
        ModelMaxLength = maxLength;
    }

    /// <summary>The id of <c>&lt;|startoftext|&gt;</c>.</summary>
    public int BosId { get; }

    /// <summary>The id of <c>&lt;|endoftext|&gt;</c>.</summary>
    public int EosId { get; }

    /// <inheritdoc />
    public int PadId { get; }

    /// <inheritdoc />
    public int? ModelMaxLength { get; }

    /// <summary>The vocabulary size (<c>vocab.json</c> entries).</summary>
    public int VocabularySize => _vocab.Count;

    /// <summary>
    /// Loads a CLIP tokenizer folder: <c>vocab.json</c>, <c>merges.txt</c>, and <c>tokenizer_config.json</c> /
    /// <c>special_tokens_map.json</c> when present (pad token, added tokens, <c>model_max_length</c>).
    /// </summary>
    /// <exception cref="InvalidDataException">A file is missing or malformed.</exception>
    public static ClipTokenizer FromFolder(string folder)
    {
        var (vocab, merges) = BpeFiles.Load(folder, "CLIP");

        var config = TokenizerConfig.Load(folder);
        int Id(string? token, string fallback)
        {
            string t = token ?? fallback;
            if (vocab.TryGetValue(t, out int id))
            {
                return id;
            }

            foreach (var (addedId, content) in config.AddedTokens)
            {
                if (content == t)
                {
                    return addedId;
                }
            }

            throw new InvalidDataException($"CLIP tokenizer folder {folder}: token '{t}' is not in the vocabulary");
        }

        int bos = Id(config.BosToken, "<|startoftext|>");
        int eos = Id(config.EosToken, "<|endoftext|>");
        int unk = Id(config.UnkToken, "<|endoftext|>");
        int pad = Id(config.PadToken, "<|endoftext|>");

        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (id, content) in config.AddedTokens)
        {
            added[content] = id;
        }

        foreach (string? t in new[] { config.BosToken ?? "<|startoftext|>", config.EosToken ?? "<|endoftext|>", config.UnkToken, config.PadToken })
        {
            if (t is not null && !added.ContainsKey(t))
            {
                added[t] = Id(t, t);
            }
        }

        foreach (string t in config.AdditionalSpecialTokens)
        {
            added.TryAdd(t, Id(t, t));
        }

        return new ClipTokenizer(vocab, new BytePairEncoding(vocab, merges, "</w>", unk), new AddedTokenSplitter(added),
            bos, eos, pad, config.ModelMaxLength);
    }

    /// <inheritdoc />
    public IReadOnlyList<int> Encode(string text)
    {
        var ids = new List<int> { BosId };
        ids.AddRange(EncodeContent(text));
        ids.Add(EosId);
        return ids;
    }

    /// <inheritdoc />
    public TokenizedText EncodePadded(string text, int maxLength) =>
        PaddedIds.Build([BosId], EncodeContent(text), [EosId], maxLength, PadId);

    /// <summary>The ids of <paramref name="text"/> without the start and end tokens.</summary>
    public List<int> EncodeContent(string text) => _bpe.EncodeByteLevel(_added, text, Normalize, PreTokenize);

    /// <summary>Hugging Face's CLIP normaliser: NFC, whitespace runs to one space, lowercase character by character.</summary>
    internal static string Normalize(string text)
    {
        string nfc = UnicodeNfc.Normalize(SanitizeSurrogates(text));
        var sb = new StringBuilder(nfc.Length);
        bool inSpace = false;
        foreach (Rune r in nfc.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(r))
            {
                if (!inSpace)
                {
                    sb.Append(' ');
                }

                inSpace = true;
                continue;
            }

            inSpace = false;
            if (r.Value == 0x130)
            {
                // Rust's char::to_lowercase gives the full mapping "i\u0307"; .NET's invariant casing keeps U+0130.
                sb.Append("i\u0307");
            }
            else
            {
                sb.Append(Rune.ToLowerInvariant(r).ToString());
            }
        }

        return sb.ToString();
    }

    /// <summary>
    /// The words CLIP's pre-tokenizer regex <c>'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c> finds,
    /// matched over code points (so letters outside the BMP count as letters, as in Rust).
    /// </summary>
    internal static List<(int Start, int Length)> PreTokenize(string text)
    {
        var words = new List<(int, int)>();
        int i = 0;
        while (i < text.Length)
        {
            Rune r = Rune.GetRuneAt(text, i);
            var kind = CharKinds.Of(r);
            if (r.Value == '\'' && Contraction(text, i) is int clen and > 0)
            {
                words.Add((i, clen));
                i += clen;
                continue;
            }

            switch (kind)
            {
                case CharKind.Space:
                    i += r.Utf16SequenceLength;
                    break;
                case CharKind.Number:
                    words.Add((i, r.Utf16SequenceLength));
                    i += r.Utf16SequenceLength;
                    break;
                default:
                    int start = i;
                    while (i < text.Length)
                    {
                        Rune next = Rune.GetRuneAt(text, i);
                        if (CharKinds.Of(next) != kind)
                        {
                            break;
                        }

                        i += next.Utf16SequenceLength;
                    }

                    words.Add((start, i - start));
                    break;
            }
        }

        return words;
    }

    private static int Contraction(string text, int i)
    {
        ReadOnlySpan<char> rest = text.AsSpan(i + 1);
        if (rest.Length >= 1 && rest[0] is 's' or 't' or 'm' or 'd')
        {
            return 2;
        }

        if (rest.Length >= 2 && (rest.StartsWith("re") || rest.StartsWith("ve") || rest.StartsWith("ll")))
        {
            return 3;
        }

        return 0;
    }

    /// <summary>Lone surrogates become U+FFFD, as they do when text reaches Rust's UTF-8 strings.</summary>
    internal static string SanitizeSurrogates(string text)
    {
        if (!text.Any(char.IsSurrogate))
        {
            return text;
        }

        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb.Append(text, i, 2);
                i++;
            }
            else
            {
                sb.Append(char.IsSurrogate(text[i]) ? '\uFFFD' : text[i]);
            }
        }

        return sb.ToString();
    }
}
