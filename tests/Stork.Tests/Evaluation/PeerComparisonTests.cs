using Stork.Evaluation;
using Stork.IO;
using Stork.Models;
using Stork.Predictions;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Catalog;

namespace Stork.Tests.Evaluation;

/// <summary>
/// The claim behind the default: on the public gmm8 flow anchor (exact ODE solution), STORK-4 with its default settings
/// (corrected, derivative order 2) has lower error than the peer table's rows of docs/stork.md at 10, 20 and 50
/// evaluations, and its error keeps falling with NFE.
/// </summary>
public class PeerComparisonTests
{
    [Fact]
    public void DefaultStork4BeatsThePeersOnTheGmm8FlowAnchor()
    {
        var model = new GaussianMixtureDenoiser(GaussianMixture.Load(Golden.PathOf("anchors", "gmm8.json")), RectifiedFlowSchedule.Instance, Prediction.FlowVelocity);
        float[] noise = NpyFile.Read(Golden.PathOf("anchors", "gmm8-flow.noise.npy")).ToSingle();
        float[] exact = NpyFile.Read(Golden.PathOf("anchors", "gmm8-flow.exact.npy")).ToSingle();
        var defaults = new SolverSettings();
        string[] peers = ["euler", "dpm++2m", "unipc", "stork-4[variant=upstream,s=50,d=1]", "stork-4[variant=upstream,s=5,d=1]", "stork-2[variant=upstream,s=50,d=2]"];
        var stork = SolverSpec.Parse("stork-4", defaults);
        double previous = double.PositiveInfinity;
        foreach (int nfe in new[] { 10, 20, 50, 100 })
        {
            double mine = OdeError.Measure(model, stork, nfe, noise, exact).Rmse;
            Assert.True(mine < previous * 0.5, $"NFE {nfe}: {mine:E3} does not keep falling (previous {previous:E3})");
            previous = mine;
            if (nfe == 100)
            {
                continue;
            }

            foreach (string peer in peers)
            {
                double theirs = OdeError.Measure(model, SolverSpec.Parse(peer, defaults), nfe, noise, exact).Rmse;
                Assert.True(mine < theirs, $"NFE {nfe}: stork-4 {mine:E3} vs {peer} {theirs:E3}");
            }
        }
    }
}
