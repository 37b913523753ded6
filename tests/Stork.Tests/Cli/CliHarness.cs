namespace Stork.Tests.Cli;

/// <summary>Runs the stork command line in-process in a scratch directory.</summary>
internal sealed class CliHarness : IDisposable
{
    public CliHarness()
    {
        Directory = Path.Combine(Path.GetTempPath(), "stork-tests-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    public (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Stork.Cli.CliApp.Run(args, stdout, stderr);
        // The guard against bugs: an unexpected exception (exit 70) fails whichever CLI test ran into it.
        Assert.True(code != Stork.Cli.CliApp.InternalError, $"unexpected exception in 'stork {string.Join(' ', args)}': {stderr}");
        return (code, stdout.ToString(), stderr.ToString());
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
