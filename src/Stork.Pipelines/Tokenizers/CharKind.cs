using System.Globalization;
using System.Text;

namespace Stork.Pipelines.Tokenizers;

/// <summary>The character classes the BPE pre-tokenizer patterns use: <c>\p{L}</c>, <c>\p{N}</c>, <c>\s</c> and the rest.</summary>
internal enum CharKind
{
    Letter,
    Number,
    Space,
    Other,
}

/// <summary>Classifies a character as the pre-tokenizer patterns of CLIP and Qwen2 do.</summary>
internal static class CharKinds
{
    public static CharKind Of(Rune r)
    {
        if (Rune.IsWhiteSpace(r))
        {
            return CharKind.Space;
        }

        return Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharKind.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharKind.Number,
            _ => CharKind.Other,
        };
    }
}
