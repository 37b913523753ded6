namespace Stork.Schedules;

/// <summary>diffusers' named beta schedules, computed in double.</summary>
public static class BetaSchedules
{
    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["linear", "scaled_linear", "squaredcos_cap_v2"];

    /// <summary>The betas of a diffusers <c>beta_schedule</c> (<paramref name="name"/>) over <paramref name="trainSteps"/> training steps.</summary>
    public static double[] Create(string name, double betaStart, double betaEnd, int trainSteps)
    {
        if (trainSteps < 2)
        {
            throw new ArgumentException($"train steps must be at least 2 (got {trainSteps}).");
        }

        var betas = new double[trainSteps];
        switch (name)
        {
            case "linear":
                for (int i = 0; i < trainSteps; i++)
                {
                    betas[i] = betaStart + ((betaEnd - betaStart) * i / (trainSteps - 1));
                }

                break;
            case "scaled_linear":
                double a = Math.Sqrt(betaStart), b = Math.Sqrt(betaEnd);
                for (int i = 0; i < trainSteps; i++)
                {
                    double r = a + ((b - a) * i / (trainSteps - 1));
                    betas[i] = r * r;
                }

                break;
            case "squaredcos_cap_v2":
                static double Bar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);
                for (int i = 0; i < trainSteps; i++)
                {
                    double t1 = (double)i / trainSteps, t2 = (double)(i + 1) / trainSteps;
                    betas[i] = Math.Min(1.0 - (Bar(t2) / Bar(t1)), 0.999);
                }

                break;
            default:
                throw new ArgumentException($"unknown beta schedule '{name}' (expected one of: {string.Join(", ", Names)}).");
        }

        return betas;
    }
}
