namespace Stork.Schedules;

/// <summary>Accurate scalar helpers the schedules need (double precision).</summary>
internal static class ScalarMath
{
    /// <summary>exp(x) - 1 without cancellation near 0 (Kahan's method).</summary>
    public static double ExpM1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1.0)
        {
            return x;
        }

        double um1 = u - 1.0;
        if (um1 == -1.0)
        {
            return -1.0;
        }

        return um1 * x / Math.Log(u);
    }

    /// <summary>log(1 + x) without cancellation near 0.</summary>
    public static double Log1P(double x)
    {
        double u = 1.0 + x;
        return u == 1.0 ? x : Math.Log(u) * x / (u - 1.0);
    }

    /// <summary>log(exp(a) + exp(b)).</summary>
    public static double LogAddExp(double a, double b)
    {
        double m = Math.Max(a, b);
        return m + Log1P(Math.Exp(-Math.Abs(a - b)));
    }
}
