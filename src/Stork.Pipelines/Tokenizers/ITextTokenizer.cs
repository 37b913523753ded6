namespace Stork.Pipelines.Tokenizers;

/// <summary>
/// A text tokenizer as a diffusers pipeline uses it: Hugging Face's ids for a prompt, special tokens added the way the
/// tokenizer adds them, then truncated and padded to a fixed length.
/// </summary>
public interface ITextTokenizer
{
    /// <summary>The ids <c>tokenizer(text).input_ids</c> gives: special tokens added, no truncation, no padding.</summary>
    IReadOnlyList<int> Encode(string text);

    /// <summary>
    /// The ids <c>tokenizer(text, padding="max_length", max_length=maxLength, truncation=True).input_ids</c> gives;
    /// <see cref="TokenizedText.Truncated"/> says whether content was cut.
    /// </summary>
    TokenizedText EncodePadded(string text, int maxLength);

    /// <summary>The tokenizer's own maximum length (<c>model_max_length</c>), when its configuration names one.</summary>
    int? ModelMaxLength { get; }

    /// <summary>The id padding uses.</summary>
    int PadId { get; }
}

/// <summary>Padded token ids and whether the text was truncated to fit.</summary>
public sealed record TokenizedText(int[] Ids, bool Truncated, int UntruncatedLength);
