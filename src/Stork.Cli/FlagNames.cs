namespace Stork.Cli;

/// <summary>
/// The one place that turns the libraries' parameter vocabulary into this command line's flags: library messages name
/// parameters (mu, steps, the corrected variant); the CLI tells the user which option to change.
/// </summary>
internal static class FlagNames
{
    private static readonly (string Library, string Cli)[] Phrases =
    [
        ("give the shift mu (set_timesteps(mu=...))", "give the shift with --mu (set_timesteps(mu=...))"),
        ("mu is only used with use_dynamic_shifting true", "--mu is only used with use_dynamic_shifting true"),
        ("use the corrected variant", "use --stork-variant corrected"),
        ("a grid override applies to the corrected variant", "--grid applies to the corrected variant"),
        ("the logsnr or uniform-time grid", "--grid logsnr or uniform-time"),
        ("the Karras grid override (GridKind.Karras)", "--grid karras"),
        ("grid override applies to noise models", "--grid applies to noise models (use --sigmas, --shift, --mu)"),
        ("the flow grid (GridKind.Flow)", "--grid flow"),
        ("steps must be at least 1", "--steps must be at least 1"),
        ("choose the solver dpm++2m, ddim or stork-4 by name", "pass --scheduler dpm++2m, ddim or stork-4"),
    ];

    /// <summary>The message with library parameter phrases replaced by the flags that set them.</summary>
    public static string Map(string message)
    {
        // ArgumentException appends " (Parameter 'name')"; the phrase itself already says what to change.
        int p = message.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
        if (p > 0 && message.EndsWith("')", StringComparison.Ordinal))
        {
            message = message[..p];
        }

        foreach (var (library, cli) in Phrases)
        {
            message = message.Replace(library, cli, StringComparison.Ordinal);
        }

        return message;
    }
}
