using Stork.Solvers.Rock4;

namespace Stork.Tests.Solvers;

public class Rock4TableTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 5)]
    [InlineData(20, 20)]
    [InlineData(21, 22)]
    [InlineData(39, 41)]
    [InlineData(50, 50)]
    [InlineData(100, 105)]
    [InlineData(148, 148)]
    public void SelectsTheSmallestTabulatedDegreeAtLeastTheSubsteps(int substeps, int degree) =>
        Assert.Equal(degree, Rock4Table.Default.Select(substeps).Degree);

    [Theory]
    [InlineData(0)]
    [InlineData(149)]
    [InlineData(1000)]
    public void SubstepsBeyondTheTableAreAClearError(int substeps)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Rock4Table.Default.Select(substeps));
        Assert.Contains("148", e.Message);
    }
}
