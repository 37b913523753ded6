namespace Stork.Pipelines.Tokenizers;

/// <summary>
/// GPT-2's byte-to-unicode mapping: every byte becomes one printable character, so byte-level BPE vocabularies
/// (CLIP, GPT-2, Qwen2) are plain strings.
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>The character each byte value maps to.</summary>
    public static readonly char[] ByteToChar = Build();

    /// <summary>Appends the mapped characters of <paramref name="text"/>'s UTF-8 bytes.</summary>
    public static string Map(ReadOnlySpan<char> text)
    {
        int count = System.Text.Encoding.UTF8.GetByteCount(text);
        Span<byte> bytes = count <= 256 ? stackalloc byte[count] : new byte[count];
        System.Text.Encoding.UTF8.GetBytes(text, bytes);
        return string.Create(count, bytes.ToArray(), static (span, b) =>
        {
            for (int i = 0; i < b.Length; i++)
            {
                span[i] = ByteToChar[b[i]];
            }
        });
    }

    private static char[] Build()
    {
        var map = new char[256];
        var assigned = new bool[256];
        for (int b = '!'; b <= '~'; b++)
        {
            assigned[b] = true;
        }

        for (int b = 0xA1; b <= 0xAC; b++)
        {
            assigned[b] = true;
        }

        for (int b = 0xAE; b <= 0xFF; b++)
        {
            assigned[b] = true;
        }

        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            map[b] = assigned[b] ? (char)b : (char)(256 + next++);
        }

        return map;
    }
}
