using Stork.Pipelines.Tokenizers;

namespace Stork.Pipelines.QwenImage;

/// <summary>
/// How diffusers' <c>QwenImagePipeline</c> turns a prompt into token ids: the chat template, tokenized without BOS/EOS
/// and cut from the right at <see cref="TokenizerMaxLength"/> (1024 + 34); after the text encoder the first
/// <see cref="DropIndex"/> (34) positions, the template's system prefix, are dropped.
/// </summary>
public static class QwenImagePrompt
{
    /// <summary>The template <c>prompt_template_encode</c>; <c>{0}</c> is the prompt.</summary>
    public const string Template =
        "<|im_start|>system\nDescribe the image by detailing the color, shape, size, texture, quantity, text, spatial relationships of the objects and background:<|im_end|>\n<|im_start|>user\n{0}<|im_end|>\n<|im_start|>assistant\n";

    /// <summary><c>prompt_template_encode_start_idx</c>: the template positions dropped after encoding.</summary>
    public const int DropIndex = 34;

    /// <summary><c>tokenizer_max_length</c> (1024) plus <see cref="DropIndex"/>: the tokenizer's truncation length.</summary>
    public const int TokenizerMaxLength = 1024 + DropIndex;

    /// <summary>The pipeline's default <c>max_sequence_length</c>.</summary>
    public const int DefaultMaxSequenceLength = 512;

    /// <summary>The prompt in the template (<c>template.format(prompt)</c>).</summary>
    public static string Format(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return Template.Replace("{0}", prompt, StringComparison.Ordinal);
    }

    /// <summary>
    /// The ids the text encoder gets for <paramref name="prompt"/>: the templated text, cut at
    /// <see cref="TokenizerMaxLength"/>; <see cref="TokenizedText.Truncated"/> says whether it was cut.
    /// </summary>
    public static TokenizedText Tokenize(Qwen2Tokenizer tokenizer, string prompt)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return tokenizer.EncodeTruncated(Format(prompt), TokenizerMaxLength);
    }

    /// <summary>
    /// The ids whose hidden states the pipeline keeps for a single (unpadded) prompt: <c>input_ids[34:]</c> cut to
    /// <paramref name="maxSequenceLength"/>.
    /// </summary>
    public static int[] KeptIds(IReadOnlyList<int> inputIds, int maxSequenceLength = DefaultMaxSequenceLength)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        return [.. inputIds.Skip(DropIndex).Take(maxSequenceLength)];
    }
}
