namespace Stork.Onnx.Quantization;

/// <summary>
/// Asymmetric block quantization of weight rows, as ONNX Runtime's MatMulNBits consumes it (and its
/// <c>matmul_nbits_quantizer.py</c> default, <c>is_symmetric=False</c>, writes it): each row of K values is cut into
/// blocks of <c>blockSize</c> along K (the last block zero-padded); a block's range is widened to include 0,
/// <c>scale = (max - min) / (2^bits - 1)</c>, <c>zeroPoint = round(-min / scale)</c> clamped to the code range, and a
/// value's code is <c>clamp(round(v / scale) + zeroPoint)</c>; it dequantizes to <c>(code - zeroPoint) * scale</c>,
/// within <c>scale / 2</c> of the value. Codes are packed low nibble first for 4 bits.
/// </summary>
internal static class BlockQuantization
{
    /// <summary>Blocks of <paramref name="blockSize"/> covering <paramref name="k"/> values.</summary>
    public static int Blocks(long k, int blockSize) => checked((int)((k + blockSize - 1) / blockSize));

    /// <summary>Bytes of one packed block.</summary>
    public static int BlobBytes(int bits, int blockSize) => blockSize * bits / 8;

    /// <summary>
    /// Quantizes one row: <paramref name="packed"/> gets <c>Blocks * BlobBytes</c> bytes, <paramref name="scales"/>
    /// and <paramref name="zeroPoints"/> one entry per block (zero points unpacked, one byte each).
    /// </summary>
    public static void QuantizeRow(ReadOnlySpan<float> row, int bits, int blockSize, Span<byte> packed, Span<float> scales, Span<byte> zeroPoints)
    {
        int blocks = Blocks(row.Length, blockSize);
        int blob = BlobBytes(bits, blockSize);
        int qmax = (1 << bits) - 1;
        packed[..(blocks * blob)].Clear();
        Span<byte> codes = stackalloc byte[blockSize];
        for (int b = 0; b < blocks; b++)
        {
            var block = row.Slice(b * blockSize, Math.Min(blockSize, row.Length - (b * blockSize)));
            float min = 0f, max = 0f;
            foreach (float v in block)
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }

            float scale = (max - min) / qmax;
            int zp;
            codes.Clear();
            if (scale == 0f || !float.IsFinite(scale))
            {
                scale = 0f;
                zp = (qmax + 1) / 2;
                codes.Fill((byte)zp);
            }
            else
            {
                zp = Math.Clamp((int)MathF.Round(-min / scale), 0, qmax);
                float inv = 1f / scale;
                for (int i = 0; i < block.Length; i++)
                {
                    codes[i] = (byte)Math.Clamp((int)MathF.Round(block[i] * inv) + zp, 0, qmax);
                }

                // The padding of a partial last block codes 0 (the zero point), as zero-padded weights do.
                for (int i = block.Length; i < blockSize; i++)
                {
                    codes[i] = (byte)zp;
                }
            }

            scales[b] = scale;
            zeroPoints[b] = (byte)zp;
            Pack(codes, bits, packed.Slice(b * blob, blob));
        }
    }

    /// <summary>Packs codes of <paramref name="bits"/> (4 or 8): two per byte, low nibble first, for 4.</summary>
    public static void Pack(ReadOnlySpan<byte> codes, int bits, Span<byte> packed)
    {
        if (bits == 8)
        {
            codes.CopyTo(packed);
            return;
        }

        for (int i = 0; i < codes.Length; i += 2)
        {
            int hi = i + 1 < codes.Length ? codes[i + 1] : 0;
            packed[i / 2] = (byte)(codes[i] | (hi << 4));
        }
    }

    /// <summary>The code at <paramref name="index"/> of a packed buffer.</summary>
    public static int Code(ReadOnlySpan<byte> packed, int bits, long index) =>
        bits == 8 ? packed[(int)index] : (packed[(int)(index / 2)] >> (int)(4 * (index & 1))) & 0xF;

    /// <summary>Dequantizes one row quantized by <see cref="QuantizeRow"/> (the inverse, up to the rounding).</summary>
    public static void DequantizeRow(ReadOnlySpan<byte> packed, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints, int bits, int blockSize, Span<float> row)
    {
        int blob = BlobBytes(bits, blockSize);
        for (int i = 0; i < row.Length; i++)
        {
            int b = i / blockSize;
            int code = Code(packed.Slice(b * blob, blob), bits, i % blockSize);
            row[i] = (code - zeroPoints[b]) * scales[b];
        }
    }

    /// <summary>Zero points of one row packed as MatMulNBits reads them: one byte each for 8 bits, two per byte for 4.</summary>
    public static int PackedZeroPointBytes(int blocks, int bits) => bits == 8 ? blocks : (blocks + 1) / 2;
}
