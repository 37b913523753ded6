namespace Stork.Evaluation;

/// <summary>
/// Mergeable feature statistics: the row count, the feature sums and the outer-product sums, in double. Shards of a
/// run each accumulate their rows; <see cref="Merge"/> adds shards' moments, and <see cref="ToStatistics"/> gives the
/// mean and unbiased covariance of all rows, so the Frechet distance over merged shards equals the single-run value
/// to rounding.
/// </summary>
public sealed class FeatureMoments
{
    private readonly double[] _sum;
    private readonly double[] _outer;

    /// <summary>Empty moments of <paramref name="dim"/>-dimensional features.</summary>
    public FeatureMoments(int dim)
    {
        if (dim < 1)
        {
            throw new ArgumentException($"the feature dimension must be at least 1 (got {dim}).");
        }

        Dim = dim;
        _sum = new double[dim];
        _outer = new double[dim * dim];
    }

    /// <summary>Moments with the given count, sums and outer-product sums (row-major <c>dim x dim</c>), as read from a shard's file.</summary>
    public FeatureMoments(long count, double[] sum, double[] outerSum)
    {
        ArgumentNullException.ThrowIfNull(sum);
        ArgumentNullException.ThrowIfNull(outerSum);
        if (count < 0 || sum.Length < 1 || outerSum.Length != sum.Length * sum.Length)
        {
            throw new ArgumentException($"moments need a non-negative count, sums of length d >= 1 and d x d outer sums (got {count}, {sum.Length}, {outerSum.Length}).");
        }

        Dim = sum.Length;
        Count = count;
        _sum = (double[])sum.Clone();
        _outer = (double[])outerSum.Clone();
    }

    /// <summary>Feature dimension.</summary>
    public int Dim { get; }

    /// <summary>Rows accumulated.</summary>
    public long Count { get; private set; }

    /// <summary>Sum of the rows (length <see cref="Dim"/>).</summary>
    public IReadOnlyList<double> Sum => _sum;

    /// <summary>Sum of the rows' outer products, row-major <see cref="Dim"/> x <see cref="Dim"/>.</summary>
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
                row[i] = features[(n * d) + i];
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
            total ??= new FeatureMoments(p.Dim);
            if (p.Dim != total.Dim)
            {
                throw new ArgumentException($"cannot merge moments of dimension {p.Dim} into {total.Dim}.");
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
        var mean = new double[d];
        for (int i = 0; i < d; i++)
        {
            mean[i] = _sum[i] / Count;
        }

        var cov = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                cov[(i * d) + j] = (_outer[(i * d) + j] - (Count * mean[i] * mean[j])) / (Count - 1);
            }
        }

        return (mean, cov);
    }
}
