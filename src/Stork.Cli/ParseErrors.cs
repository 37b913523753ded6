using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace Stork.Cli;

/// <summary>
/// The one line a command line that does not parse gets: an unknown command or option with the closest names as
/// suggestions, a value that is not a number said in words (never a .NET type name), else System.CommandLine's message.
/// </summary>
internal static partial class ParseErrors
{
    public static string Describe(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        string path = CommandPath(parse.CommandResult);
        if (parse.UnmatchedTokens.Count > 0)
        {
            string token = parse.UnmatchedTokens[0];
            bool option = token.StartsWith('-');
            var names = option
                ? AllOptions(parse.CommandResult).SelectMany(o => o.Aliases.Prepend(o.Name))
                : command.Subcommands.SelectMany(c => c.Aliases.Prepend(c.Name));
            var near = Closest(token.Split('=', 2)[0], names).ToList();
            string what = option ? "unknown option" : command.Subcommands.Count > 0 ? "unknown command" : "unexpected argument";
            string hint = near.Count > 0 ? $"; did you mean {string.Join(" or ", near.Select(n => $"'{n}'"))}?" : ".";
            return $"{what} '{token}' for '{path}'{hint} ('{path} --help' lists them.)";
        }

        if (command.Subcommands.Count > 0 && command.Action is null)
        {
            return $"'{path}' needs a command: {string.Join(", ", command.Subcommands.Select(c => c.Name))} ('{path} --help' describes them).";
        }

        string message = parse.Errors[0].Message;
        var m = CannotParse().Match(message);
        if (m.Success)
        {
            string type = m.Groups["type"].Value;
            string kind = type.Contains("Int32", StringComparison.Ordinal) ? "a whole number (at most 2147483647)"
                : type.Contains("Int64", StringComparison.Ordinal) ? "a whole number (at most 9223372036854775807)"
                : type.Contains("Double", StringComparison.Ordinal) || type.Contains("Single", StringComparison.Ordinal) ? "a number"
                : type.Contains("Boolean", StringComparison.Ordinal) ? "true or false" : "another kind of value";
            return $"{m.Groups["name"].Value} takes {kind} (got '{m.Groups["value"].Value}').";
        }

        return TypeName().Replace(message, "");
    }

    /// <summary>The names within an edit distance of about a third of their length, or that start with the token.</summary>
    internal static IEnumerable<string> Closest(string token, IEnumerable<string> names)
    {
        string bare = token.TrimStart('-');
        return names.Distinct(StringComparer.Ordinal)
            .Select(n => (Name: n, Distance: Distance(bare, n.TrimStart('-'))))
            .Where(x => x.Distance <= Math.Max(2, x.Name.TrimStart('-').Length / 3)
                || (bare.Length >= 3 && x.Name.TrimStart('-').StartsWith(bare, StringComparison.Ordinal)))
            .OrderBy(x => x.Distance).ThenBy(x => x.Name, StringComparer.Ordinal)
            .Take(3).Select(x => x.Name);
    }

    private static IEnumerable<Option> AllOptions(CommandResult result)
    {
        for (SymbolResult? r = result; r is not null; r = r.Parent)
        {
            if (r is CommandResult c)
            {
                foreach (var o in c.Command.Options.Where(o => r == result || o.Recursive))
                {
                    yield return o;
                }
            }
        }
    }

    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
        {
            if (r is CommandResult c)
            {
                names.Insert(0, c.Command.Name);
            }
        }

        return string.Join(' ', names);
    }

    /// <summary>Levenshtein distance.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for (option|argument|command) '(?<name>[^']*)' as expected type '(?<type>[^']*)'\.?$", RegexOptions.Singleline)]
    private static partial Regex CannotParse();

    [GeneratedRegex(@" as expected type '[^']*'")]
    private static partial Regex TypeName();
}
