using System.Globalization;
using System.Text;

namespace Stork.Pipelines.Tokenizers;

/// <summary>
/// Qwen2's pre-tokenizer: the words its split regex
/// <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>
/// finds, as Hugging Face's backtracking (Oniguruma) engine finds them: leftmost, first alternative that matches.
/// </summary>
/// <remarks>
/// Written as a scanner over code points rather than a .NET <see cref="System.Text.RegularExpressions.Regex"/>, so that
/// letters outside the BMP are letters (.NET's <c>\p{L}</c> sees UTF-16 surrogates) and the backtracking of
/// <c>\s*[\r\n]+</c> and <c>\s+(?!\S)</c> is spelt out: the first ends after the last line break of a whitespace run,
/// the second leaves a run's last whitespace character to the word that follows.
/// </remarks>
internal static class Qwen2PreTokenizer
{
    /// <summary>The words of <paramref name="text"/> as (start, length) in UTF-16 units; together they cover the text.</summary>
    public static List<(int Start, int Length)> Split(string text)
    {
        var words = new List<(int, int)>();
        int i = 0;
        while (i < text.Length)
        {
            int end = Match(text, i);
            words.Add((i, end - i));
            i = end;
        }

        return words;
    }

    private static int Match(string text, int i)
    {
        Rune r = Rune.GetRuneAt(text, i);
        int next = i + r.Utf16SequenceLength;
        var kind = CharKinds.Of(r);

        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if (r.Value == '\'' && Contraction(text, next) is > 0 and int clen)
        {
            return next + clen;
        }

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (kind == CharKind.Letter)
        {
            return LetterRunEnd(text, i);
        }

        if (!IsLineBreak(r) && kind != CharKind.Number && next < text.Length && CharKinds.Of(Rune.GetRuneAt(text, next)) == CharKind.Letter)
        {
            return LetterRunEnd(text, next);
        }

        // \p{N}
        if (kind == CharKind.Number)
        {
            return next;
        }

        // ?[^\s\p{L}\p{N}]+[\r\n]*
        int otherStart = r.Value == ' ' && next < text.Length && CharKinds.Of(Rune.GetRuneAt(text, next)) == CharKind.Other ? next
            : kind == CharKind.Other ? i : -1;
        if (otherStart >= 0)
        {
            int j = otherStart;
            while (j < text.Length && Rune.GetRuneAt(text, j) is var o && CharKinds.Of(o) == CharKind.Other)
            {
                j += o.Utf16SequenceLength;
            }

            while (j < text.Length && text[j] is '\r' or '\n')
            {
                j++;
            }

            return j;
        }

        // Whitespace from here on: the run [i, runEnd).
        int runEnd = i;
        int afterLastBreak = -1;
        while (runEnd < text.Length && Rune.GetRuneAt(text, runEnd) is var w && CharKinds.Of(w) == CharKind.Space)
        {
            runEnd += w.Utf16SequenceLength;
            if (IsLineBreak(w))
            {
                afterLastBreak = runEnd;
            }
        }

        // \s*[\r\n]+ : greedy \s* gives back characters until a line break follows; [\r\n]+ then ends the match
        // after the run's last line break.
        if (afterLastBreak > 0)
        {
            return afterLastBreak;
        }

        // \s+(?!\S) : the whole run at the end of the text, else all of it but its last character.
        if (runEnd == text.Length)
        {
            return runEnd;
        }

        int lastStart = PreviousRuneStart(text, runEnd);
        return lastStart > i ? lastStart : runEnd; // \s+
    }

    private static int LetterRunEnd(string text, int j)
    {
        while (j < text.Length && Rune.GetRuneAt(text, j) is var l && CharKinds.Of(l) == CharKind.Letter)
        {
            j += l.Utf16SequenceLength;
        }

        return j;
    }

    private static int PreviousRuneStart(string text, int end) =>
        end >= 2 && char.IsLowSurrogate(text[end - 1]) && char.IsHighSurrogate(text[end - 2]) ? end - 2 : end - 1;

    private static bool IsLineBreak(Rune r) => r.Value is '\r' or '\n';

    /// <summary>The length after the apostrophe of <c>s t re ve m ll d</c>, any case, or 0.</summary>
    private static int Contraction(string text, int j)
    {
        static bool Is(string text, int k, char c) => k < text.Length && char.ToLowerInvariant(text[k]) == c;
        if (Is(text, j, 's') || Is(text, j, 't') || Is(text, j, 'm') || Is(text, j, 'd'))
        {
            return 1;
        }

        if ((Is(text, j, 'r') && Is(text, j + 1, 'e')) || (Is(text, j, 'v') && Is(text, j + 1, 'e')) || (Is(text, j, 'l') && Is(text, j + 1, 'l')))
        {
            return 2;
        }

        return 0;
    }
}
