namespace Stork.Evaluation;

/// <summary>
/// Mergeable feature statistics: the row count, the feature sums and the outer-product sums, in double. Shards of a
/// run each accumulate their rows; <see cref="Merge"/> adds shards' moments, and <see cref="ToStatistics"/> gives the
/// mean and unbiased covariance of all rows, so the Frechet distance over merged shards equals the single-run value
/// to rounding. The sums are of the rows less a fixed <see cref="Shift"/> (zero by default; a value near the mean, such
/// as a reference set's mean, avoids the cancellation of <c>sum x x^T - n mu mu^T</c>); shards merged must share it.
/// </summary>
public sealed class FeatureMoments
{
    private readonly double[] _sum;
    private readonly double[] _outer;
    private readonly double[] _shift;

    /// <summary>Empty moments of <paramref name="dim"/>-dimensional features, shift zero.</summary>
    public FeatureMoments(int dim)
        : this(dim < 1 ? throw new ArgumentException($"the feature dimension must be at least 1 (got {dim}).") : new double[dim])
    {
    }

    /// <summary>Empty moments of features of the length of <paramref name="shift"/>, accumulated less <paramref name="shift"/>.</summary>
    public FeatureMoments(double[] shift)
    {
        ArgumentNullException.ThrowIfNull(shift);
        if (shift.Length < 1 || !shift.All(double.IsFinite))
        {
            throw new ArgumentException("the shift must hold at least one finite value, and only finite values.");
        }

        Dim = shift.Length;
        _shift = (double[])shift.Clone();
        _sum = new double[Dim];
        _outer = new double[Dim * Dim];
    }

    /// <summary>
    /// Moments with the given count, sums and outer-product sums (row-major <c>dim x dim</c>) of the rows less
    /// <paramref name="shift"/> (null: zero), as read from a shard's file.
    /// </summary>
    public FeatureMoments(long count, double[] sum, double[] outerSum, double[]? shift = null)
    {
        ArgumentNullException.ThrowIfNull(sum);
        ArgumentNullException.ThrowIfNull(outerSum);
        if (count < 0 || sum.Length < 1 || outerSum.Length != sum.Length * sum.Length || (shift is not null && shift.Length != sum.Length))
        {
            throw new ArgumentException($"moments need a non-negative count, sums of length d >= 1, d x d outer sums and a shift of length d (got {count}, {sum.Length}, {outerSum.Length}, {shift?.Length}).");
        }

        Dim = sum.Length;
        Count = count;
        _sum = (double[])sum.Clone();
        _outer = (double[])outerSum.Clone();
        _shift = shift is null ? new double[Dim] : (double[])shift.Clone();
    }

    /// <summary>Feature dimension.</summary>
    public int Dim { get; }

    /// <summary>Rows accumulated.</summary>
    public long Count { get; private set; }

    /// <summary>What is subtracted from every row before it is summed (length <see cref="Dim"/>).</summary>
    public IReadOnlyList<double> Shift => _shift;

    /// <summary>Sum of the rows less <see cref="Shift"/> (length <see cref="Dim"/>).</summary>
    public IReadOnlyList<double> Sum => _sum;

    /// <summary>Sum of the outer products of the rows less <see cref="Shift"/>, row-major <see cref="Dim"/> x <see cref="Dim"/>.</summary>
    public IReadOnlyList<double> OuterSum => _outer;

    /// <summary>Adds <paramref name="features"/>: whole rows of <see cref="Dim"/> values.</summary>
    public void Add(ReadOnlySpan<float> features)
    {
        if (features.Length % Dim != 0)
        {
            throw new ArgumentException($"{features.Length} values are not whole rows of {Dim}.");
        }

        int d = Dim;
        var row = new double[d];
        for (int n = 0; n < features.Length / d; n++)
        {
            for (int i = 0; i < d; i++)
            {
                row[i] = features[(n * d) + i] - _shift[i];
                _sum[i] += row[i];
            }

            for (int i = 0; i < d; i++)
            {
                double ri = row[i];
                for (int j = i; j < d; j++)
                {
                    _outer[(i * d) + j] += ri * row[j];
                }
            }

            Count++;
        }

        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < i; j++)
            {
                _outer[(i * d) + j] = _outer[(j * d) + i];
            }
        }
    }

    /// <summary>The moments of all rows of <paramref name="parts"/> (shards of one run, in any order).</summary>
    public static FeatureMoments Merge(IEnumerable<FeatureMoments> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        FeatureMoments? total = null;
        foreach (var p in parts)
        {
            total ??= new FeatureMoments(p._shift);
            if (p.Dim != total.Dim || !p._shift.AsSpan().SequenceEqual(total._shift))
            {
                throw new ArgumentException($"cannot merge moments of dimension {p.Dim} into {total.Dim}, or with another shift.");
            }

            total.Count += p.Count;
            for (int i = 0; i < p._sum.Length; i++)
            {
                total._sum[i] += p._sum[i];
            }

            for (int i = 0; i < p._outer.Length; i++)
            {
                total._outer[i] += p._outer[i];
            }
        }

        return total ?? throw new ArgumentException("nothing to merge.");
    }

    /// <summary>Mean and unbiased (n - 1) covariance of the rows, as <see cref="FrechetDistance.Statistics"/> gives them.</summary>
    public (double[] Mean, double[] Covariance) ToStatistics()
    {
        if (Count < 2)
        {
            throw new InvalidOperationException($"statistics need at least two rows (have {Count}).");
        }

        int d = Dim;
        var centre = new double[d];
        var mean = new double[d];
        for (int i = 0; i < d; i++)
        {
            centre[i] = _sum[i] / Count;
            mean[i] = _shift[i] + centre[i];
        }

        var cov = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                cov[(i * d) + j] = (_outer[(i * d) + j] - (Count * centre[i] * centre[j])) / (Count - 1);
            }
        }

        return (mean, cov);
    }
}
