using System.Security.Cryptography;

namespace Stork.Tests.Cli;

/// <summary>
/// <c>sample</c> and <c>compare</c> make one library call each (<see cref="Stork.Sampling.SamplingRun"/>,
/// <see cref="Stork.Sampling.SolverComparison"/>); their files are byte for byte those the commands wrote when they
/// drove the loop themselves (hashes recorded before the move, on tiny-flow).
/// </summary>
public class ThinCommandTests
{
    [Fact]
    public void SampleAndCompareWriteTheSameBytesAsBeforeTheMove()
    {
        using var h = new CliHarness();
        string model = TestData.Onnx("tiny-flow.json");
        string Hash(string name) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(h.PathOf(name))));
        void Ok(params string[] args)
        {
            var (code, _, err) = h.Run(args);
            Assert.True(code == 0, err);
        }

        Ok("compare", "--model", model, "--schedulers", "stork-2,stork-4,dpm++2m", "--steps", "3,6", "--substeps", "5", "--batch", "2", "--out", h.PathOf("c.png"));
        Ok("sample", "--model", model, "--scheduler", "stork-4", "--steps", "5", "--batch", "3", "--out", h.PathOf("s.npy"), "--times-out", h.PathOf("s.json"));
        Ok("sample", "--model", model, "--scheduler", "rk45", "--batch", "2", "--out", h.PathOf("r.npy"), "--times-out", h.PathOf("r.json"));
        Ok("sample", "--model", model, "--steps", "4", "--batch", "2", "--out", h.PathOf("s.png"));
        Assert.Equal("8c86d293eaf8641985d8e0252ecd4a24e0251d7cef12bb18ebce6087db8b2fbc", Hash("c.png"));
        Assert.Equal("d9e601c89854ea5148e882b2fc173aff48cf9800f454fb3c8becac338c68baa5", Hash("r.json"));
        Assert.Equal("94926ad974f14b4274335cee585b336de7d34810bffac2b73db58989b88b38f3", Hash("r.npy"));
        Assert.Equal("c00fe6a91249e53fab9e9b4794a83b13fd449972d7c0b421949b55dc3c4c46cc", Hash("s.json"));
        Assert.Equal("8aa3fbdce7b6c263b1e7a18258ab1020a4a69b37a7bf2d656ed11441196d1596", Hash("s.npy"));
        Assert.Equal("558f04c2dbf7948fa8609e3bc3801fc2bb2c133442e12c85972fae9a9d515b13", Hash("s.png"));
    }
}
