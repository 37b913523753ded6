using Stork.Models;
using Stork.Sampling;
using Stork.Solvers;
using Stork.Solvers.Catalog;

namespace Stork.Evaluation;

/// <summary>Error of a solver against an exact solution of the same ODE from the same noise.</summary>
public static class OdeError
{
    /// <summary>Root mean square error over every element.</summary>
    public static double Rmse(ReadOnlySpan<float> x, ReadOnlySpan<float> exact)
    {
        if (x.Length != exact.Length)
        {
            throw new ArgumentException("sample and exact solution differ in size.");
        }

        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double d = (double)x[i] - exact[i];
            sum += d * d;
        }

        return Math.Sqrt(sum / x.Length);
    }

    /// <summary>
    /// A high-accuracy solution of the model's ODE from <paramref name="noise"/>: adaptive RK45 at
    /// rtol = atol = <paramref name="tolerance"/>, run <paramref name="chunk"/> samples at a time.
    /// </summary>
    public static float[] ReferenceSolution(IDenoiser denoiser, ReadOnlySpan<float> noise, double tolerance, SolverSettings settings,
        int chunk = 256, CancellationToken cancellationToken = default)
    {
        int size = Sampler.SampleSize(denoiser);
        var x = noise.ToArray();
        var tight = settings with { RelativeTolerance = tolerance, AbsoluteTolerance = tolerance };
        for (int start = 0; start < x.Length; start += chunk * size)
        {
            int length = Math.Min(chunk * size, x.Length - start);
            var integrator = SolverRegistry.CreateIntegrator("rk45", ModelSpec.Of(denoiser), tight);
            Sampler.Integrate(denoiser, integrator, x.AsSpan(start, length), null, cancellationToken);
        }

        return x;
    }

    /// <summary>Runs <paramref name="spec"/> at <paramref name="nfe"/> evaluations and measures it.</summary>
    public static OdeErrorResult Measure(IDenoiser denoiser, SolverSpec spec, int nfe, ReadOnlySpan<float> noise, ReadOnlySpan<float> exact,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var x = noise.ToArray();
        var counter = new CountingDenoiser(denoiser);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        spec.Sample(counter, nfe, x, null, cancellationToken);
        return new OdeErrorResult(spec.Label, nfe, counter.Evaluations, Rmse(x, exact), clock.Elapsed.TotalSeconds);
    }
}

/// <summary>One measurement: requested and actual model evaluations, RMSE, wall seconds.</summary>
public sealed record OdeErrorResult(string Solver, int RequestedNfe, int Nfe, double Rmse, double Seconds);
