using System.Globalization;
using System.Text;
using Stork.IO;
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

    /// <summary>
    /// An exact solution from a .npy file: float, finite, shaped [<paramref name="batch"/>, ...<paramref name="shape"/>];
    /// otherwise a <see cref="FileNotFoundException"/> or <see cref="InvalidDataException"/> naming the file.
    /// </summary>
    public static float[] ReadExact(string path, int batch, IReadOnlyList<int> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new FileNotFoundException($"exact solution '{path}' does not exist.", path);
        }

        var header = NpyFile.ReadHeader(path);
        if (header.Shape.Length != shape.Count + 1 || header.Shape[0] != batch || !header.Shape.AsSpan(1).SequenceEqual(shape.ToArray()))
        {
            throw new InvalidDataException($"exact solution '{path}' has shape [{string.Join(", ", header.Shape)}]; the noise is [{batch}, {string.Join(", ", shape)}].");
        }

        if (!header.IsFloat)
        {
            throw new InvalidDataException($"exact solution '{path}' holds {header.DType} values; it must be float32 or float64.");
        }

        var a = NpyFile.Read(path, floatOnly: true);
        return a.Data.Any(v => !double.IsFinite(v))
            ? throw new InvalidDataException($"exact solution '{path}' contains NaN or infinite values.")
            : a.ToSingle();
    }

    /// <summary>A markdown table of RMSEs: one row per solver, one column per requested NFE (the NFE used in brackets when it differs).</summary>
    public static string Markdown(IReadOnlyList<OdeErrorResult> results, IReadOnlyList<int> counts, string? title)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(counts);
        var sb = new StringBuilder();
        if (title is not null)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"**{title}**").AppendLine();
        }

        sb.Append("| solver |");
        foreach (int n in counts)
        {
            sb.Append(CultureInfo.InvariantCulture, $" NFE {n} |");
        }

        sb.AppendLine().Append("|---|").AppendLine(string.Concat(Enumerable.Repeat("---|", counts.Count)));
        foreach (var g in results.GroupBy(x => x.Solver))
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {g.Key} |");
            foreach (int n in counts)
            {
                var m = g.First(x => x.RequestedNfe == n);
                string note = m.Nfe != n ? string.Create(CultureInfo.InvariantCulture, $" ({m.Nfe})") : "";
                sb.Append(CultureInfo.InvariantCulture, $" {m.Rmse:0.00e+0}{note} |");
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }

    /// <summary>The results as CSV (solver, requested_nfe, nfe, rmse, seconds).</summary>
    public static string Csv(IEnumerable<OdeErrorResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var sb = new StringBuilder("solver,requested_nfe,nfe,rmse,seconds\n");
        foreach (var m in results)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"\"{m.Solver}\",{m.RequestedNfe},{m.Nfe},{m.Rmse:R},{m.Seconds:R}");
        }

        return sb.ToString();
    }
}

/// <summary>One measurement: requested and actual model evaluations, RMSE, wall seconds.</summary>
public sealed record OdeErrorResult(string Solver, int RequestedNfe, int Nfe, double Rmse, double Seconds);
