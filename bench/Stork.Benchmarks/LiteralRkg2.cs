using System.Numerics.Tensors;
using Stork.Solvers.Stabilized;

namespace Stork.Benchmarks;

/// <summary>
/// The STORK-2 step written stage by stage on whole float tensors (the form of the authors' code), for comparison with
/// the fused step: s stages, each several passes over the tensor. Flow path, derivative order 2.
/// </summary>
internal sealed class LiteralRkg2(int length, int substeps)
{
    private readonly float[] _y = new float[length];
    private readonly float[] _y1 = new float[length];
    private readonly float[] _y2 = new float[length];
    private readonly float[] _v = new float[length];

    public void Step(float[] x, float[] u0, float[] d1, float[] d2, double t, double h)
    {
        int s = substeps;
        double w = 6.0 / ((s + 4.0) * (s - 1.0));
        x.CopyTo(_y2, 0);
        TensorPrimitives.MultiplyAdd(u0, (float)(h * w), x, _y1);
        double c2 = 0, c1 = w;
        for (int j = 2; j <= s; j++)
        {
            double mu = (2.0 * j + 1) * Rkg2Recurrence.B(j) / (j * Rkg2Recurrence.B(j - 1));
            double nu = -(j + 1.0) * Rkg2Recurrence.B(j) / (j * Rkg2Recurrence.B(j - 2));
            double mt = mu * w, gt = -mt * (1 - (j * (j + 1.0) * Rkg2Recurrence.B(j - 1) / 2));
            double delta = c1 * h;
            // Virtual velocity at the stage time: u0 + delta d1 + delta^2 / 2 d2.
            TensorPrimitives.MultiplyAdd(d1, (float)delta, u0, _v);
            TensorPrimitives.MultiplyAdd(d2, (float)(0.5 * delta * delta), _v, _v);
            TensorPrimitives.Multiply(_y1, (float)mu, _y);
            TensorPrimitives.MultiplyAdd(_y2, (float)nu, _y, _y);
            TensorPrimitives.MultiplyAdd(x, (float)(1 - mu - nu), _y, _y);
            TensorPrimitives.MultiplyAdd(_v, (float)(h * mt), _y, _y);
            TensorPrimitives.MultiplyAdd(u0, (float)(h * gt), _y, _y);
            (c1, c2) = ((mu * c1) + (nu * c2) + mt + gt, c1);
            _y1.CopyTo(_y2, 0);
            _y.CopyTo(_y1, 0);
        }

        _y1.CopyTo(x, 0);
    }
}
