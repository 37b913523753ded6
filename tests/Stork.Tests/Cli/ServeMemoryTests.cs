using System.CommandLine;
using Stork.Cli;
using Stork.Pipelines;

namespace Stork.Tests.Cli;

/// <summary><c>stork serve --memory low|balanced|high</c>: generate's option set, high by default, <c>--low-memory</c> the alias of low.</summary>
public sealed class ServeMemoryTests
{
    private static MemoryPolicy Read(params string[] args)
    {
        var set = new RuntimeOptionSet(MemoryPolicy.High);
        var command = new RootCommand();
        foreach (var o in set.ServeMemory)
        {
            command.Add(o);
        }

        var r = command.Parse(args);
        Assert.Empty(r.Errors);
        return set.ReadMemory(r);
    }

    [Theory]
    [InlineData(MemoryPolicy.High)]
    [InlineData(MemoryPolicy.Low, "--low-memory")]
    [InlineData(MemoryPolicy.Low, "--memory", "low")]
    [InlineData(MemoryPolicy.Balanced, "--memory", "balanced")]
    [InlineData(MemoryPolicy.High, "--memory", "high")]
    [InlineData(MemoryPolicy.Low, "--low-memory", "--memory", "low")]
    public void Memory_policy_of_serve(MemoryPolicy expected, params string[] args) => Assert.Equal(expected, Read(args));

    [Fact]
    public void Low_memory_with_another_policy_is_refused()
    {
        var e = Assert.Throws<CliException>(() => Read("--low-memory", "--memory", "high"));
        Assert.Equal("--low-memory means --memory low; leave one out (got --memory high).", e.Message);
        e = Assert.Throws<CliException>(() => Read("--memory", "most"));
        Assert.Equal("--memory must be low, balanced or high (got 'most').", e.Message);
    }

    [Fact]
    public void Serve_has_the_memory_option_and_its_alias_and_says_high_is_its_default()
    {
        var serve = ServeCommand.Create(TextWriter.Null, TextWriter.Null);
        var memory = serve.Options.Single(o => o.Name == "--memory");
        Assert.Contains("high (default: ", memory.Description, StringComparison.Ordinal);
        Assert.Contains(serve.Options, o => o.Name == "--low-memory");
        var generate = new RuntimeOptionSet().Memory;
        Assert.Contains("low (default: ", generate.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_memory_value_stops_serve_with_one_line()
    {
        using var h = new CliHarness();
        var (code, _, err) = h.Run("serve", "--memory", "most", "--port", "0");
        Assert.Equal(2, code);
        Assert.Equal("error: --memory must be low, balanced or high (got 'most').", err.Trim());
    }

    [Fact]
    public void Server_options_keep_loaded_is_the_alias_of_high()
    {
        var models = new[] { new Stork.Server.ServedModel("m", "/x") };
        Assert.Equal(MemoryPolicy.High, new Stork.Server.ServerOptions { Models = models }.Memory);
        Assert.Equal(MemoryPolicy.Low, new Stork.Server.ServerOptions { Models = models, KeepLoaded = false }.Memory);
        Assert.False(new Stork.Server.ServerOptions { Models = models, Memory = MemoryPolicy.Balanced }.KeepLoaded);
    }
}
