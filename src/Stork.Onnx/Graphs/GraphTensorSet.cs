using Microsoft.ML.OnnxRuntime.Tensors;

namespace Stork.Onnx;

/// <summary>
/// The tensors a prepared graph call owns, created in the graph's types and disposed together: plain buffers,
/// position ids of rank 2 or 3 as the port declares, and per-prompt values repeated over the batch.
/// </summary>
public sealed class GraphTensorSet : IDisposable
{
    private readonly List<GraphTensor> _tensors = [];

    /// <summary>A zeroed tensor of the graph's type, owned by the set.</summary>
    public GraphTensor Create(TensorElementType type, long[] shape)
    {
        var t = new GraphTensor(type, shape);
        _tensors.Add(t);
        return t;
    }

    /// <summary>Positions [rows, 3] (or [1, rows, 3] when the port has rank 3), in the port's element type.</summary>
    public GraphTensor Positions(GraphPort port, long[] ids, int rows)
    {
        var t = Create(port.ElementType, port.Rank == 3 ? [1, rows, 3] : [rows, 3]);
        t.SetIntegers(ids);
        return t;
    }

    /// <summary>A tensor of <paramref name="shape"/> whose batch rows (axis 0) all hold <paramref name="one"/>.</summary>
    public GraphTensor Repeated(TensorElementType type, long[] shape, float[] one)
    {
        int times = checked((int)shape[0]);
        var all = new float[checked(one.Length * times)];
        for (int k = 0; k < times; k++)
        {
            one.CopyTo(all, k * one.Length);
        }

        var t = Create(type, shape);
        t.SetFloats(all);
        return t;
    }

    /// <summary>Releases every tensor of the set.</summary>
    public void Dispose()
    {
        foreach (var t in _tensors)
        {
            t.Dispose();
        }
    }
}
