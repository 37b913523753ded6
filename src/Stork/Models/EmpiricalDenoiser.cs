using System.Numerics;
using Stork.IO;
using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Models;

/// <summary>
/// The exact optimal denoiser of a finite data set {x_n} (e.g. 1,000 training images): under <c>x = a x0 + b eps</c> the
/// posterior over the points is <c>softmax_n(-|x - a x_n|^2 / (2 b^2))</c>, <c>E[x0|x] = sum_n w_n x_n</c> and
/// <c>E[eps|x] = (x - a E[x0|x]) / b</c>; the output is the requested prediction's linear form of the two. Everything is
/// computed in double, the softmax shifted by its maximum so that small sigma (a very peaked posterior) neither
/// overflows nor loses the nearest point; at sigma = 0 the posterior is the nearest point and eps is taken as 0.
/// Samples of a batch are computed in parallel, each independently (deterministic).
/// </summary>
public sealed class EmpiricalDenoiser : IDenoiser, IDisposable
{
    private readonly double[] _data;
    private readonly ThreadLocal<Scratch> _scratch;

    /// <summary>Releases the per-thread scratch buffers.</summary>
    public void Dispose() => _scratch.Dispose();

    /// <summary>Creates the denoiser from <c>data</c> = [count, ...sampleShape] in C order.</summary>
    public EmpiricalDenoiser(ReadOnlySpan<double> data, IReadOnlyList<int> sampleShape, NoiseSchedule schedule, Prediction prediction,
        (double Min, double Max)? dataRange = null)
    {
        int d = 1;
        foreach (int s in sampleShape)
        {
            if (s < 1)
            {
                throw new ArgumentException($"sample shape [{string.Join(", ", sampleShape)}] must be positive.");
            }

            d = checked(d * s);
        }

        if (data.Length == 0 || data.Length % d != 0)
        {
            throw new ArgumentException($"the data holds {data.Length} values, not a whole number of samples of {d}.");
        }

        foreach (double v in data)
        {
            if (!double.IsFinite(v))
            {
                throw new ArgumentException("the data contains NaN or infinite values.");
            }
        }

        _data = data.ToArray();
        DataRange = dataRange ?? (_data.Min(), _data.Max());
        Dimension = d;
        Count = data.Length / d;
        SampleShape = sampleShape.ToArray();
        Schedule = schedule;
        Prediction = prediction;
        _scratch = new ThreadLocal<Scratch>(() => new Scratch(Count, Dimension));
    }

    /// <summary>
    /// Loads images from a <c>.npy</c> file of shape [count, H, W] or [count, C, H, W] (uint8 0..255, or floats already in
    /// the data range) and scales uint8 pixels linearly onto <paramref name="range"/> (default [-1, 1]). A [count, H, W]
    /// file gets one channel: sample shape [1, H, W].
    /// </summary>
    public static EmpiricalDenoiser FromNpy(string path, NoiseSchedule schedule, Prediction prediction, (double Min, double Max)? range = null)
    {
        var (lo, hi) = range ?? (-1.0, 1.0);
        if (!(hi > lo))
        {
            throw new ArgumentException($"data range must have min < max (got [{lo}, {hi}]).");
        }

        var array = NpyFile.Read(path);
        int[] shape = array.Shape.Length switch
        {
            3 => [1, array.Shape[1], array.Shape[2]],
            4 => array.Shape[1..],
            _ => throw new InvalidDataException($"'{path}' has shape [{string.Join(", ", array.Shape)}]; expected images [count, H, W] or [count, C, H, W]."),
        };
        if (array.Shape[0] < 1)
        {
            throw new InvalidDataException($"'{path}' holds no images.");
        }

        bool bytes = NpyFile.ReadDType(path) is "|u1" or "<u1" or ">u1";
        var data = array.Data;
        if (bytes)
        {
            double scale = (hi - lo) / 255.0;
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = lo + (data[i] * scale);
            }
        }

        return new EmpiricalDenoiser(data, shape, schedule, prediction, bytes ? (lo, hi) : null);
    }

    /// <inheritdoc />
    public Prediction Prediction { get; }

    /// <inheritdoc />
    public NoiseSchedule Schedule { get; }

    /// <inheritdoc />
    public IReadOnlyList<int> SampleShape { get; }

    /// <summary>The range the data spans (what images map to [0, 255]).</summary>
    public (double Min, double Max) DataRange { get; }

    /// <summary>Number of data points.</summary>
    public int Count { get; }

    /// <summary>Floats per sample.</summary>
    public int Dimension { get; }

    /// <summary>Data point <paramref name="index"/> (a copy, as float).</summary>
    public float[] Point(int index)
    {
        var r = new float[Dimension];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = (float)_data[(index * Dimension) + i];
        }

        return r;
    }

    private float[] _input = [];
    private float[] _result = [];

    /// <summary>Evaluates the exact denoiser (not safe for concurrent calls on one instance: it reuses its buffers).</summary>
    public void Predict(ReadOnlySpan<float> samples, double time, Span<float> output)
    {
        int d = Dimension;
        if (samples.Length == 0 || samples.Length % d != 0 || output.Length != samples.Length)
        {
            throw new ArgumentException($"samples must be [batch, {string.Join(", ", SampleShape)}] and output the same size.");
        }

        double a = Schedule.Alpha(time), b = Schedule.Sigma(time);
        var (p, q) = PredictionConverter.Form(Prediction, Schedule, time);

        int batch = samples.Length / d;
        if (_input.Length < samples.Length)
        {
            _input = new float[samples.Length];
            _result = new float[samples.Length];
        }

        // Parallel.For cannot capture spans: the batch goes through buffers kept between calls (no allocation once warm).
        var input = _input;
        var result = _result;
        samples.CopyTo(input);
        Parallel.For(0, batch, n =>
        {
            var s = _scratch.Value!;
            Posterior(input.AsSpan(n * d, d), a, b, s);
            var o = result.AsSpan(n * d, d);
            var x = input.AsSpan(n * d, d);
            double inv = b > 0 ? 1.0 / b : 0.0;
            for (int i = 0; i < d; i++)
            {
                double x0 = s.X0[i];
                double e = (x[i] - (a * x0)) * inv;
                o[i] = (float)((p * x0) + (q * e));
            }
        });
        result.AsSpan(0, output.Length).CopyTo(output);
    }

    /// <summary>Writes E[x0|x] into <c>scratch.X0</c> for one sample.</summary>
    private void Posterior(ReadOnlySpan<float> x, double a, double b, Scratch scratch)
    {
        int d = Dimension;
        var xd = scratch.X;
        for (int i = 0; i < d; i++)
        {
            xd[i] = x[i];
        }

        var dist = scratch.Distances;
        int best = 0;
        for (int n = 0; n < Count; n++)
        {
            dist[n] = SquaredDistance(xd, _data.AsSpan(n * d, d), a);
            if (dist[n] < dist[best])
            {
                best = n;
            }
        }

        var x0 = scratch.X0;
        Array.Clear(x0);
        if (!(b > 0))
        {
            _data.AsSpan(best * d, d).CopyTo(x0);
            return;
        }

        // log w_n = -(d_n - d_min) / (2 b^2): the largest weight is exactly 1, so nothing overflows.
        double scale = 0.5 / (b * b), dMin = dist[best], total = 0;
        for (int n = 0; n < Count; n++)
        {
            double w = Math.Exp(-(dist[n] - dMin) * scale);
            dist[n] = w;
            total += w;
        }

        for (int n = 0; n < Count; n++)
        {
            double w = dist[n] / total;
            if (w == 0)
            {
                continue;
            }

            var y = _data.AsSpan(n * d, d);
            for (int i = 0; i < d; i++)
            {
                x0[i] += w * y[i];
            }
        }
    }

    private static double SquaredDistance(ReadOnlySpan<double> x, ReadOnlySpan<double> y, double a)
    {
        int i = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<double>.Count)
        {
            var acc = Vector<double>.Zero;
            var va = new Vector<double>(a);
            for (; i <= x.Length - Vector<double>.Count; i += Vector<double>.Count)
            {
                var r = new Vector<double>(x[i..]) - (va * new Vector<double>(y[i..]));
                acc += r * r;
            }

            sum = Vector.Sum(acc);
        }

        for (; i < x.Length; i++)
        {
            double r = x[i] - (a * y[i]);
            sum += r * r;
        }

        return sum;
    }

    private sealed class Scratch(int count, int dimension)
    {
        public double[] X { get; } = new double[dimension];

        public double[] X0 { get; } = new double[dimension];

        public double[] Distances { get; } = new double[count];
    }
}
