using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Stork.IO;

/// <summary>
/// Reads and writes NumPy <c>.npy</c> files (format versions 1 to 3): little- or big-endian float32, float64, and the
/// integer types for reading, C order only. Malformed files raise <see cref="InvalidDataException"/>.
/// </summary>
public static partial class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads a file.</summary>
    public static NpyArray Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot read '{path}': {e.Message}", e);
        }

        try
        {
            return Parse(bytes);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}' is not a valid .npy file: {e.Message}", e);
        }
    }

    /// <summary>Parses the bytes of a <c>.npy</c> file.</summary>
    public static NpyArray Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
        {
            throw new InvalidDataException("missing the NumPy magic string");
        }

        int major = bytes[6];
        int headerLength, offset;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
            offset = 10;
        }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12)
            {
                throw new InvalidDataException("truncated header");
            }

            headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]));
            offset = 12;
        }
        else
        {
            throw new InvalidDataException($"unsupported format version {major}");
        }

        if (offset + headerLength > bytes.Length)
        {
            throw new InvalidDataException("truncated header");
        }

        string header = Encoding.UTF8.GetString(bytes.Slice(offset, headerLength));
        var descr = DescrRegex().Match(header);
        var order = FortranRegex().Match(header);
        var shape = ShapeRegex().Match(header);
        if (!descr.Success || !order.Success || !shape.Success)
        {
            throw new InvalidDataException($"unreadable header {header.Trim()}");
        }

        if (order.Groups[1].Value == "True")
        {
            throw new InvalidDataException("Fortran-order arrays are not supported; save with C order");
        }

        int[] dims = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        long count = 1;
        foreach (int d in dims)
        {
            count = checked(count * d);
        }

        string dtype = descr.Groups[1].Value;
        bool big = dtype[0] == '>';
        char kind = dtype[1];
        int size = int.Parse(dtype[2..], CultureInfo.InvariantCulture);
        var body = bytes[(offset + headerLength)..];
        if (body.Length != count * size)
        {
            throw new InvalidDataException($"expected {count} values of {size} bytes, found {body.Length} bytes of data");
        }

        var data = new double[count];
        for (int i = 0; i < count; i++)
        {
            var b = body.Slice(i * size, size);
            data[i] = (kind, size) switch
            {
                ('f', 4) => big ? BinaryPrimitives.ReadSingleBigEndian(b) : BinaryPrimitives.ReadSingleLittleEndian(b),
                ('f', 8) => big ? BinaryPrimitives.ReadDoubleBigEndian(b) : BinaryPrimitives.ReadDoubleLittleEndian(b),
                ('u', 1) or ('b', 1) => b[0],
                ('i', 1) => (sbyte)b[0],
                ('i', 4) => big ? BinaryPrimitives.ReadInt32BigEndian(b) : BinaryPrimitives.ReadInt32LittleEndian(b),
                ('i', 8) => big ? BinaryPrimitives.ReadInt64BigEndian(b) : BinaryPrimitives.ReadInt64LittleEndian(b),
                _ => throw new InvalidDataException($"unsupported dtype '{dtype}' (expected float32 or float64)"),
            };
        }

        return new NpyArray(dims, data);
    }

    /// <summary>The dtype string of a file's header (e.g. <c>|u1</c>, <c>&lt;f4</c>), without reading its data.</summary>
    public static string ReadDType(string path)
    {
        var head = new byte[4096];
        int read;
        try
        {
            using var f = File.OpenRead(path);
            read = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot read '{path}': {e.Message}", e);
        }

        var descr = DescrRegex().Match(Encoding.UTF8.GetString(head, 0, read));
        return descr.Success ? descr.Groups[1].Value : throw new InvalidDataException($"'{path}' is not a valid .npy file: no dtype in its header");
    }

    /// <summary>Writes float32 data.</summary>
    public static void Write(string path, ReadOnlySpan<int> shape, ReadOnlySpan<float> data)
    {
        var body = new byte[data.Length * 4];
        for (int i = 0; i < data.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(body.AsSpan(i * 4), data[i]);
        }

        WriteBytes(path, "<f4", shape, body);
    }

    /// <summary>Writes float64 data.</summary>
    public static void Write(string path, ReadOnlySpan<int> shape, ReadOnlySpan<double> data)
    {
        var body = new byte[data.Length * 8];
        for (int i = 0; i < data.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(body.AsSpan(i * 8), data[i]);
        }

        WriteBytes(path, "<f8", shape, body);
    }

    private static void WriteBytes(string path, string descr, ReadOnlySpan<int> shape, byte[] body)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.ToArray());
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + header.Length + 1;
        int pad = (64 - (total % 64)) % 64;
        header = header + new string(' ', pad) + "\n";
        using var stream = new MemoryStream();
        stream.Write(Magic);
        stream.WriteByte(1);
        stream.WriteByte(0);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        stream.Write(len);
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(body);
        AtomicFile.WriteAllBytes(path, stream.ToArray());
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([<>|=][fiub]\d+)'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
