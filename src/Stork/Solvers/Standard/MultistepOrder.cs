namespace Stork.Solvers.Standard;

/// <summary>The order diffusers' DPMSolverMultistep and DEISMultistep use at a step (warm-up and lower-order final steps).</summary>
internal static class MultistepOrder
{
    /// <param name="order">Configured solver order.</param>
    /// <param name="index">Step index.</param>
    /// <param name="lowerFinal">The last step is first order.</param>
    /// <param name="lowerSecond">The second-last step is at most second order.</param>
    public static int At(int order, int index, bool lowerFinal, bool lowerSecond)
    {
        int lowerOrderNums = Math.Min(index, order);
        if (order == 1 || lowerOrderNums < 1 || lowerFinal)
        {
            return 1;
        }

        if (order == 2 || lowerOrderNums < 2 || lowerSecond)
        {
            return 2;
        }

        return 3;
    }
}
