using System.Text.Json;

namespace Stork.Pipelines.Tokenizers;

/// <summary>
/// Qwen2's byte-level BPE tokenizer (Qwen2, Qwen2.5, Qwen2.5-VL: the text encoder of Qwen-Image) with the behaviour of
/// Hugging Face's <c>Qwen2TokenizerFast</c>: the added tokens of <c>tokenizer_config.json</c> split out first (special
/// or not), NFC, Qwen2's pre-tokenizer regex, GPT-2's byte alphabet, BPE by merge rank. No BOS or EOS is added.
/// </summary>
public sealed class Qwen2Tokenizer : ITextTokenizer
{
    private readonly BytePairEncoding _bpe;
    private readonly AddedTokenSplitter _added;
    private readonly Dictionary<string, int> _vocab;

    private Qwen2Tokenizer(Dictionary<string, int> vocab, BytePairEncoding bpe, AddedTokenSplitter added, int pad, int? maxLength)
    {
        _vocab = vocab;
        _bpe = bpe;
        _added = added;
        PadId = pad;
        ModelMaxLength = maxLength;
    }

    /// <inheritdoc />
    public int PadId { get; }

    /// <inheritdoc />
    public int? ModelMaxLength { get; }

    /// <summary>The vocabulary size (<c>vocab.json</c> entries, without the added tokens).</summary>
    public int VocabularySize => _vocab.Count;

    /// <summary>The added tokens (content to id) that are matched before pre-tokenization.</summary>
    public IReadOnlyDictionary<string, int> AddedTokens => _added.Tokens;

    /// <summary>
    /// Loads a Qwen2 tokenizer folder: <c>vocab.json</c>, <c>merges.txt</c> and <c>tokenizer_config.json</c> (its
    /// <c>added_tokens_decoder</c>, pad token and <c>model_max_length</c>).
    /// </summary>
    /// <exception cref="InvalidDataException">A file is missing or malformed.</exception>
    public static Qwen2Tokenizer FromFolder(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var (vocab, merges) = BpeFiles.Load(folder, "Qwen2");

        var config = TokenizerConfig.Load(folder);
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (id, content) in config.AddedTokens)
        {
            added[content] = id;
        }

        int Id(string token) =>
            added.TryGetValue(token, out int id) ? id
            : vocab.TryGetValue(token, out id) ? id
            : throw new InvalidDataException($"Qwen2 tokenizer folder {folder}: token '{token}' is neither an added token nor in the vocabulary");

        // Qwen2's pad and end-of-text token; it is an added token in every published configuration.
        const string EndOfText = "<|endoftext|>";
        added.TryAdd(EndOfText, vocab.Count);
        int pad = Id(config.PadToken ?? EndOfText);
        foreach (string t in config.AdditionalSpecialTokens)
        {
            added.TryAdd(t, Id(t));
        }

        return new Qwen2Tokenizer(vocab, new BytePairEncoding(vocab, merges, "", -1), new AddedTokenSplitter(added), pad, config.ModelMaxLength);
    }

    /// <inheritdoc />
    public IReadOnlyList<int> Encode(string text) =>
        _bpe.EncodeByteLevel(_added, text, part => UnicodeNfc.Normalize(ClipTokenizer.SanitizeSurrogates(part)), Qwen2PreTokenizer.Split);

    /// <summary>
    /// <c>tokenizer(text, max_length=maxLength, truncation=True).input_ids</c>: the ids cut from the right to at most
    /// <paramref name="maxLength"/>, not padded.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is not positive.</exception>
    public TokenizedText EncodeTruncated(string text, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        var ids = Encode(text);
        return new TokenizedText([.. ids.Take(maxLength)], ids.Count > maxLength, ids.Count);
    }

    /// <inheritdoc />
    public TokenizedText EncodePadded(string text, int maxLength) =>
        PaddedIds.Build([], Encode(text), [], maxLength, PadId);
}
