using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Stork.Onnx.Quantization;
using Stork.Onnx.Quantization.Proto;

namespace Stork.Tests.Quantization;

/// <summary>The block packing: its round-trip error bound, and ONNX Runtime's kernels reading it as written.</summary>
public sealed class BlockQuantizationTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("stork-quant-").FullName;

    private static float[] Normal(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = scale * (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        }

        return v;
    }

    [Theory]
    [InlineData(4, 16, 100)]
    [InlineData(4, 32, 96)]
    [InlineData(4, 128, 200)]
    [InlineData(8, 32, 70)]
    [InlineData(8, 64, 64)]
    public void Dequantize_of_quantize_is_within_half_a_step(int bits, int blockSize, int k)
    {
        var row = Normal(k, 7);
        row[3] = 0f;
        row[k - 1] = 5f; // an outlier in the last (partial) block
        int blocks = BlockQuantization.Blocks(k, blockSize);
        var packed = new byte[blocks * BlockQuantization.BlobBytes(bits, blockSize)];
        var scales = new float[blocks];
        var zp = new byte[blocks];
        BlockQuantization.QuantizeRow(row, bits, blockSize, packed, scales, zp);
        var back = new float[k];
        BlockQuantization.DequantizeRow(packed, scales, zp, bits, blockSize, back);
        int qmax = (1 << bits) - 1;
        for (int b = 0; b < blocks; b++)
        {
            var block = row.AsSpan(b * blockSize, Math.Min(blockSize, k - (b * blockSize)));
            float min = Math.Min(0f, block.ToArray().Min()), max = Math.Max(0f, block.ToArray().Max());
            Assert.Equal((max - min) / qmax, scales[b], 6);
            Assert.InRange(zp[b], 0, qmax);
        }

        for (int i = 0; i < k; i++)
        {
            float step = scales[i / blockSize];
            Assert.True(Math.Abs(back[i] - row[i]) <= (0.5f * step) + 1e-6f, $"value {i}: {row[i]} -> {back[i]} (step {step})");
        }

        Assert.Equal(0f, back[3], 6); // zero is exact: the range always includes it and the zero point is a code
    }

    [Fact]
    public void Four_bit_codes_are_packed_low_nibble_first()
    {
        var packed = new byte[2];
        BlockQuantization.Pack([1, 2, 15, 0], 4, packed);
        Assert.Equal([0x21, 0x0F], packed);
        Assert.Equal(15, BlockQuantization.Code(packed, 4, 2));
    }

    [Fact]
    public void A_constant_block_dequantizes_to_zero_and_does_not_divide_by_zero()
    {
        var packed = new byte[16];
        var scales = new float[1];
        var zp = new byte[1];
        BlockQuantization.QuantizeRow(new float[32], 4, 32, packed, scales, zp);
        var back = new float[32];
        BlockQuantization.DequantizeRow(packed, scales, zp, 4, 32, back);
        Assert.All(back, v => Assert.Equal(0f, v));
    }

    /// <summary>
    /// A one-MatMul graph (B as a [K, N] initializer, or [N, K] through a Transpose, or a Gemm with transB and a bias),
    /// quantized, run by ONNX Runtime's MatMulNBits CPU kernel: it must give A times the dequantized B (what this
    /// packing means), to float rounding, and A times B within the quantization error.
    /// </summary>
    [Theory]
    [InlineData(4, 32, "MatMul", 80)]
    [InlineData(4, 16, "Transpose", 64)]
    [InlineData(8, 32, "MatMul", 96)]
    [InlineData(8, 64, "Gemm", 128)]
    [InlineData(4, 128, "Gemm", 200)]
    public void Onnx_runtime_reads_the_matmul_packing_as_written(int bits, int blockSize, string form, int k)
    {
        const int m = 5, n = 24;
        var a = Normal(m * k, 1);
        var w = Normal(k * n, 2, 0.1f); // [K, N] row-major
        var bias = Normal(n, 3);
        string source = Path.Combine(_temp, "linear.onnx");
        WriteLinearModel(source, form, w, bias, k, n);
        string target = Path.Combine(_temp, "linear-q.onnx");
        var options = new QuantizationOptions { Weights = bits == 8 ? WeightFormat.Int8 : WeightFormat.Int4, BlockSize = blockSize };
        var report = ModelQuantizer.QuantizeGraph(source, target, options);
        Assert.Equal(1, report.MatMuls);

        // The reference: the packing dequantized here, column by column of B.
        var deq = new float[k * n];
        int blocks = BlockQuantization.Blocks(k, blockSize);
        var column = new float[k];
        var packed = new byte[blocks * BlockQuantization.BlobBytes(bits, blockSize)];
        var scales = new float[blocks];
        var zp = new byte[blocks];
        for (int j = 0; j < n; j++)
        {
            for (int i = 0; i < k; i++)
            {
                column[i] = w[(i * n) + j];
            }

            BlockQuantization.QuantizeRow(column, bits, blockSize, packed, scales, zp);
            BlockQuantization.DequantizeRow(packed, scales, zp, bits, blockSize, column);
            for (int i = 0; i < k; i++)
            {
                deq[(i * n) + j] = column[i];
            }
        }

        var got = Run(target, a, [m, k]);
        var exact = Run(source, a, [m, k]);
        double maxRef = 0, maxExact = 0, maxQuantErr = 0;
        for (int r = 0; r < m; r++)
        {
            for (int j = 0; j < n; j++)
            {
                double y = form == "Gemm" ? bias[j] : 0, yq = y;
                for (int i = 0; i < k; i++)
                {
                    y += (double)a[(r * k) + i] * w[(i * n) + j];
                    yq += (double)a[(r * k) + i] * deq[(i * n) + j];
                }

                maxRef = Math.Max(maxRef, Math.Abs(got[(r * n) + j] - yq));
                maxExact = Math.Max(maxExact, Math.Abs(exact[(r * n) + j] - y));
                maxQuantErr = Math.Max(maxQuantErr, Math.Abs(got[(r * n) + j] - y));
            }
        }

        Assert.True(maxExact < 1e-4, $"the float32 graph is off by {maxExact}");
        Assert.True(maxRef < 1e-3, $"MatMulNBits differs from A x dequantized B by {maxRef}");
        // Half a step of a 0.1-sigma Gaussian block per weight, summed over K Gaussian inputs: a loose bound.
        double bound = (bits == 8 ? 0.01 : 0.2) * Math.Sqrt(k);
        Assert.True(maxQuantErr < bound, $"quantized output off by {maxQuantErr} (bound {bound})");
        Assert.True(maxQuantErr > 1e-6, "the weights were not quantized");
    }

    /// <summary>A Conv whose weight is stored as blocked codes: ONNX Runtime gives the Conv of the dequantized weight.</summary>
    [Theory]
    [InlineData(4, 32)]
    [InlineData(8, 16)]
    public void Onnx_runtime_reads_the_conv_packing_as_written(int bits, int blockSize)
    {
        const int o = 6, c = 32;
        var w = Normal(o * c * 9, 5, 0.2f);
        string source = Path.Combine(_temp, "conv.onnx");
        WriteConvModel(source, w, o, c);
        string target = Path.Combine(_temp, "conv-q.onnx");
        var options = new QuantizationOptions { Weights = bits == 8 ? WeightFormat.Int8 : WeightFormat.Int4, BlockSize = blockSize };
        Assert.Equal(1, ModelQuantizer.QuantizeGraph(source, target, options).Convs);

        var deq = (float[])w.Clone();
        int rows = w.Length / blockSize;
        var packed = new byte[BlockQuantization.BlobBytes(bits, blockSize)];
        var scale = new float[1];
        var zp = new byte[1];
        for (int r = 0; r < rows; r++)
        {
            var block = deq.AsSpan(r * blockSize, blockSize);
            BlockQuantization.QuantizeRow(block, bits, blockSize, packed, scale, zp);
            BlockQuantization.DequantizeRow(packed, scale, zp, bits, blockSize, block);
        }

        string reference = Path.Combine(_temp, "conv-deq.onnx");
        WriteConvModel(reference, deq, o, c);
        var x = Normal(c * 36, 9);
        var got = Run(target, x, [1, c, 6, 6]);
        var want = Run(reference, x, [1, c, 6, 6]);
        var exact = Run(source, x, [1, c, 6, 6]);
        Assert.Equal(want.Length, got.Length);
        double diff = want.Zip(got, (p, q) => Math.Abs(p - q)).Max();
        double quantErr = exact.Zip(got, (p, q) => Math.Abs(p - q)).Max();
        Assert.True(diff < 1e-4, $"Conv of the stored weight differs from Conv of the dequantized weight by {diff}");
        Assert.True(quantErr > 1e-6, "the weights were not quantized");
    }

    [Fact]
    public void Float16_keeps_float32_io_and_rounds_weights_to_half()
    {
        const int k = 64, n = 32;
        var w = Normal(k * n, 4);
        string source = Path.Combine(_temp, "half.onnx");
        WriteLinearModel(source, "MatMul", w, new float[n], k, n);
        string target = Path.Combine(_temp, "half-q.onnx");
        var report = ModelQuantizer.QuantizeGraph(source, target, new QuantizationOptions { Weights = WeightFormat.Float16 });
        Assert.Equal(1, report.HalfTensors);
        var a = Normal(2 * k, 6);
        var got = Run(target, a, [2, k]);
        for (int j = 0; j < n; j++)
        {
            double y = 0;
            for (int i = 0; i < k; i++)
            {
                y += (double)a[j % 2 * k + i] * (float)(Half)w[(i * n) + j];
            }

            Assert.Equal(y, got[(j % 2 * n) + j], 3);
        }
    }

    private static float[] Run(string model, float[] input, long[] shape)
    {
        using var session = new InferenceSession(model);
        using var x = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["x"], [x], ["y"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static TensorProto FloatTensor(string name, float[] values, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        return t;
    }

    private static ValueInfoProto FloatValue(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims)
        {
            shape.Dim.Add(d < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "m" } : new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static void Save(string path, GraphProto graph)
    {
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "stork-tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        File.WriteAllBytes(path, model.ToByteArray());
    }

    /// <summary>y = x B (+ bias for Gemm); B given [K, N] row-major, stored as the form needs it.</summary>
    private static void WriteLinearModel(string path, string form, float[] w, float[] bias, int k, int n)
    {
        var graph = new GraphProto { Name = "linear" };
        graph.Input.Add(FloatValue("x", -1, k));
        graph.Output.Add(FloatValue("y", -1, n));
        var wt = new float[k * n]; // [N, K]
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < n; j++)
            {
                wt[(j * k) + i] = w[(i * n) + j];
            }
        }

        switch (form)
        {
            case "MatMul":
                graph.Initializer.Add(FloatTensor("w", w, k, n));
                graph.Node.Add(Node("MatMul", ["x", "w"], ["y"]));
                break;
            case "Transpose":
                graph.Initializer.Add(FloatTensor("w", wt, n, k));
                graph.Node.Add(Node("Transpose", ["w"], ["wT"]));
                graph.Node.Add(Node("MatMul", ["x", "wT"], ["y"]));
                break;
            default:
                graph.Initializer.Add(FloatTensor("w", wt, n, k));
                graph.Initializer.Add(FloatTensor("b", bias, n));
                var gemm = Node("Gemm", ["x", "w", "b"], ["y"]);
                gemm.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
                graph.Node.Add(gemm);
                break;
        }

        Save(path, graph);
    }

    private static void WriteConvModel(string path, float[] w, int o, int c)
    {
        var graph = new GraphProto { Name = "conv" };
        graph.Input.Add(FloatValue("x", 1, c, 6, 6));
        graph.Output.Add(FloatValue("y", 1, o, 6, 6));
        graph.Initializer.Add(FloatTensor("w", w, o, c, 3, 3));
        var conv = Node("Conv", ["x", "w"], ["y"]);
        conv.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        graph.Node.Add(conv);
        Save(path, graph);
    }

    private static NodeProto Node(string op, string[] inputs, string[] outputs)
    {
        var node = new NodeProto { OpType = op, Name = op };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        return node;
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);
}
