namespace Stork.Pipelines.Tokenizers;

/// <summary>Hugging Face's <c>truncation=True, padding="max_length"</c> for one sequence with fixed special tokens.</summary>
internal static class PaddedIds
{
    /// <summary>
    /// <paramref name="prefix"/> + content cut to fit + <paramref name="suffix"/>, padded with <paramref name="padId"/>
    /// to <paramref name="maxLength"/> (content is cut from the right, the special tokens are kept).
    /// </summary>
    public static TokenizedText Build(int[] prefix, IReadOnlyList<int> content, int[] suffix, int maxLength, int padId)
    {
        int room = maxLength - prefix.Length - suffix.Length;
        if (room < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength,
                $"max length must leave room for the {prefix.Length + suffix.Length} special tokens");
        }

        int kept = Math.Min(room, content.Count);
        var ids = new int[maxLength];
        Array.Fill(ids, padId);
        prefix.CopyTo(ids, 0);
        for (int i = 0; i < kept; i++)
        {
            ids[prefix.Length + i] = content[i];
        }

        suffix.CopyTo(ids, prefix.Length + kept);
        return new TokenizedText(ids, kept < content.Count, prefix.Length + content.Count + suffix.Length);
    }
}
