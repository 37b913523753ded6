namespace Stork.Models;

/// <summary>
/// An isotropic Gaussian mixture <c>p0(x) = sum_k w_k N(x; mu_k, s_k^2 I)</c> in dimension D: a data distribution whose
/// noised marginals, and therefore the exact denoiser, are known in closed form.
/// </summary>
public sealed class GaussianMixture
{
    /// <summary>A mixture of isotropic Gaussians: component k has weight <paramref name="weights"/>[k], mean <paramref name="means"/>[k] and standard deviation <paramref name="stds"/>[k].</summary>
    public GaussianMixture(double[] weights, double[][] means, double[] stds)
    {
        int k = weights.Length;
        if (k == 0 || means.Length != k || stds.Length != k)
        {
            throw new ArgumentException("a Gaussian mixture needs as many weights, means and stds (at least one).");
        }

        int d = means[0].Length;
        if (d == 0 || means.Any(m => m.Length != d))
        {
            throw new ArgumentException("every mean of a Gaussian mixture must have the same, non-zero dimension.");
        }

        if (weights.Any(w => !(w > 0) || !double.IsFinite(w)) || stds.Any(s => !(s >= 0) || !double.IsFinite(s))
            || means.Any(m => m.Any(v => !double.IsFinite(v))))
        {
            throw new ArgumentException("Gaussian mixture weights must be positive, stds non-negative, all values finite.");
        }

        double total = weights.Sum();
        Weights = weights.Select(w => w / total).ToArray();
        Means = means;
        Stds = stds;
        Dimension = d;
    }

    /// <summary>Component weights (summing to 1).</summary>
    public double[] Weights { get; }

    /// <summary>Component means, one vector of length <see cref="Dimension"/> each.</summary>
    public double[][] Means { get; }

    /// <summary>Component standard deviations (isotropic).</summary>
    public double[] Stds { get; }

    /// <summary>Dimension of the data.</summary>
    public int Dimension { get; }

    /// <summary>Number of components.</summary>
    public int Components => Weights.Length;

    /// <summary>Reads the JSON format of the golden files: <c>{"weights": [K], "means": [[D] x K], "stds": [K]}</c>.</summary>
    public static GaussianMixture Load(string path)
    {
        string text = IO.InputFile.ReadAllText(path, "Gaussian mixture");

        var json = IO.JsonConfig.Parse(text, path, $"'{path}' (a Gaussian mixture: weights, means, stds)", m => new InvalidDataException(m));
        double[] w = json.NumberArray("weights"), s = json.NumberArray("stds");
        double[][] m = json.NumberMatrix("means");
        try
        {
            return new GaussianMixture(w, m, s);
        }
        catch (ArgumentException e)
        {
            throw json.Error(e.Message);
        }
    }

    /// <summary>
    /// Posterior means of the noise and the clean sample for one sample <c>x = a x0 + b e</c>, in double.
    /// </summary>
    public void Posterior(ReadOnlySpan<double> x, double a, double b, Span<double> eMean, Span<double> x0Mean, Span<double> scratch)
    {
        int k = Components, d = Dimension;
        Span<double> logp = scratch[..k];
        double max = double.NegativeInfinity;
        for (int c = 0; c < k; c++)
        {
            double s = Stds[c];
            double var = (a * a * s * s) + (b * b);
            double sq = 0;
            var mu = Means[c];
            for (int i = 0; i < d; i++)
            {
                double r = x[i] - (a * mu[i]);
                sq += r * r;
            }

            logp[c] = Math.Log(Weights[c]) - (0.5 * sq / var) - (0.5 * d * Math.Log(var));
            max = Math.Max(max, logp[c]);
        }

        double total = 0;
        for (int c = 0; c < k; c++)
        {
            logp[c] = Math.Exp(logp[c] - max);
            total += logp[c];
        }

        eMean.Clear();
        x0Mean.Clear();
        for (int c = 0; c < k; c++)
        {
            double r = logp[c] / total;
            double s = Stds[c];
            double var = (a * a * s * s) + (b * b);
            var mu = Means[c];
            double ce = r * b / var, cx = r * a * s * s / var;
            for (int i = 0; i < d; i++)
            {
                double diff = x[i] - (a * mu[i]);
                eMean[i] += ce * diff;
                x0Mean[i] += (r * mu[i]) + (cx * diff);
            }
        }
    }
}
