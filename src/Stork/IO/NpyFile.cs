using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Stork.IO;

/// <summary>
/// Reads and writes NumPy <c>.npy</c> files (format versions 1 to 3): little- or big-endian float32, float64, and the
/// integer types for reading, C order only. Malformed files raise <see cref="InvalidDataException"/> naming the file and
/// the header field; the header is validated in 64-bit arithmetic with explicit limits before anything is allocated.
/// </summary>
public static partial class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Most dimensions a header may declare.</summary>
    public const int MaxDimensions = 32;

    /// <summary>Longest header accepted (NumPy itself writes a few hundred bytes; it refuses more than 10,000 by default).</summary>
    public const int MaxHeaderLength = 1 << 16;

    /// <summary>Most elements an array may hold (one .NET array of doubles).</summary>
    public static long MaxElements => Array.MaxLength;

    /// <summary>Reads a file (any supported dtype, converted to double).</summary>
    public static NpyArray Read(string path) => Read(path, floatOnly: false);

    /// <summary>
    /// Reads a file; with <paramref name="floatOnly"/> integer and boolean arrays are refused. The header is validated
    /// (shape, dtype, the file's length) before any data is allocated; the data is decoded in bounded chunks.
    /// </summary>
    public static NpyArray Read(string path, bool floatOnly)
    {
        var header = ReadHeader(path);
        if (floatOnly && !header.IsFloat)
        {
            throw new InvalidDataException($"'{path}' holds {header.DType} values; float32 or float64 is expected.");
        }

        var data = new double[header.Count];
        try
        {
            using var stream = InputFile.OpenRead(path, ".npy file", InputFile.MaxBinaryBytes, out long length);
            if (length != header.DataOffset + (header.Count * header.ItemSize))
            {
                throw new InvalidDataException($"'{path}' changed while it was read.");
            }

            stream.Seek(header.DataOffset, SeekOrigin.Begin);
            var buffer = new byte[Math.Max(header.ItemSize, (1 << 20) / header.ItemSize * header.ItemSize)];
            long done = 0;
            while (done < header.Count)
            {
                int n = (int)Math.Min(buffer.Length / header.ItemSize, header.Count - done);
                int bytes = n * header.ItemSize;
                if (stream.ReadAtLeast(buffer.AsSpan(0, bytes), bytes, throwOnEndOfStream: false) != bytes)
                {
                    throw new InvalidDataException($"'{path}' changed while it was read.");
                }

                Decode(header, buffer.AsSpan(0, bytes), data.AsSpan((int)done, n));
                done += n;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot read '{path}': {e.Message}", e);
        }

        return new NpyArray(header.Shape, data);
    }

    /// <summary>
    /// Reads and validates the header of a file without reading its data: shape, dtype, and that the file holds exactly
    /// the data the header declares. Malformed files raise <see cref="InvalidDataException"/> naming the file and field.
    /// </summary>
    public static NpyHeader ReadHeader(string path)
    {
        using var stream = InputFile.OpenRead(path, ".npy file", InputFile.MaxBinaryBytes, out long length);
        try
        {
            var prefix = new byte[12];
            int got = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
            int headerLength = PrefixLength(prefix.AsSpan(0, got), out int offset);
            var bytes = new byte[offset + headerLength];
            prefix.AsSpan(0, Math.Min(got, bytes.Length)).CopyTo(bytes);
            if (got < bytes.Length)
            {
                if (stream.ReadAtLeast(bytes.AsSpan(got), bytes.Length - got, throwOnEndOfStream: false) != bytes.Length - got)
                {
                    throw new InvalidDataException("truncated header");
                }
            }

            return ParseHeader(bytes, length);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}' is not a valid .npy file: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot read '{path}': {e.Message}", e);
        }
    }

    /// <summary>Parses the bytes of a <c>.npy</c> file.</summary>
    public static NpyArray Parse(ReadOnlySpan<byte> bytes)
    {
        var header = ParseHeader(bytes, bytes.Length);
        var data = new double[header.Count];
        Decode(header, bytes.Slice((int)header.DataOffset, checked((int)(header.Count * header.ItemSize))), data);
        return new NpyArray(header.Shape, data);
    }

    /// <summary>The length of the header text and where it starts, from the magic string and version.</summary>
    private static int PrefixLength(ReadOnlySpan<byte> bytes, out int offset)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
        {
            throw new InvalidDataException("missing the NumPy magic string");
        }

        int major = bytes[6];
        long headerLength;
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

            headerLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
            offset = 12;
        }
        else
        {
            throw new InvalidDataException($"unsupported format version {major}");
        }

        if (headerLength > MaxHeaderLength)
        {
            throw new InvalidDataException($"header length {headerLength} is more than the {MaxHeaderLength} bytes accepted");
        }

        return (int)headerLength;
    }

    /// <summary>Validates a header; <paramref name="fileLength"/> is the length of the whole file.</summary>
    private static NpyHeader ParseHeader(ReadOnlySpan<byte> bytes, long fileLength)
    {
        int headerLength = PrefixLength(bytes, out int offset);
        if ((long)offset + headerLength > bytes.Length)
        {
            throw new InvalidDataException("truncated header");
        }

        string header = Encoding.Latin1.GetString(bytes.Slice(offset, headerLength));
        var descr = DescrRegex().Match(header);
        var order = FortranRegex().Match(header);
        var shape = ShapeRegex().Match(header);
        if (!descr.Success)
        {
            throw new InvalidDataException($"field 'descr': missing or not a simple dtype in header {Clip(header)}");
        }

        if (!order.Success)
        {
            throw new InvalidDataException($"field 'fortran_order': missing or not True/False in header {Clip(header)}");
        }

        if (!shape.Success)
        {
            throw new InvalidDataException($"field 'shape': missing or not a tuple in header {Clip(header)}");
        }

        if (order.Groups[1].Value == "True")
        {
            throw new InvalidDataException("Fortran-order arrays are not supported; save with C order");
        }

        string[] items = shape.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries);
        if (items.Length > 0 && items[^1].Length == 0)
        {
            items = items[..^1];
        }

        if (items.Length > MaxDimensions)
        {
            throw new InvalidDataException($"field 'shape': {items.Length} dimensions, more than {MaxDimensions}");
        }

        var dims = new int[items.Length];
        long count = 1;
        for (int i = 0; i < items.Length; i++)
        {
            string s = items[i];
            if (s.Length == 0 || s.Length > 19 || !s.All(char.IsAsciiDigit)
                || !long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long d))
            {
                throw new InvalidDataException($"field 'shape': '{Clip(s)}' is not a non-negative integer");
            }

            if (d > int.MaxValue)
            {
                throw new InvalidDataException($"field 'shape': dimension {d} is too large (at most {int.MaxValue})");
            }

            dims[i] = (int)d;
            count = d == 0 || count == 0 ? 0 : count <= MaxElements / d ? count * d : long.MaxValue;
            if (count > MaxElements)
            {
                throw new InvalidDataException($"field 'shape': ({shape.Groups[1].Value.Trim()}) holds more than {MaxElements} elements");
            }
        }

        string dtype = descr.Groups[1].Value;
        char kind = dtype[1];
        if (!int.TryParse(dtype.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out int size)
            || (kind, size) is not (('f', 4) or ('f', 8) or ('u', 1) or ('b', 1) or ('i', 1) or ('i', 4) or ('i', 8)))
        {
            throw new InvalidDataException($"field 'descr': unsupported dtype '{Clip(dtype)}' (expected float32 or float64)");
        }

        long dataOffset = offset + headerLength;
        long expected = dataOffset + (count * size);
        if (fileLength != expected)
        {
            throw new InvalidDataException($"the shape ({string.Join(", ", dims)}) of {dtype} needs {count * size} bytes of data, the file has {fileLength - dataOffset}");
        }

        return new NpyHeader(dims, dtype, dataOffset);
    }

    private static string Clip(string s) => (s.Length > 80 ? s[..80] + "..." : s).Trim().Replace('\n', ' ').Replace('\r', ' ');

    private static void Decode(NpyHeader header, ReadOnlySpan<byte> body, Span<double> data)
    {
        int size = header.ItemSize;
        bool big = header.BigEndian;
        char kind = header.Kind;
        for (int i = 0; i < data.Length; i++)
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
                _ => throw new InvalidDataException($"unsupported dtype '{header.DType}' (expected float32 or float64)"),
            };
        }
    }

    /// <summary>The dtype string of a file's header (e.g. <c>|u1</c>, <c>&lt;f4</c>), without reading its data.</summary>
    public static string ReadDType(string path) => ReadHeader(path).DType;

    /// <summary>Writes float32 data.</summary>
    public static void Write(string path, ReadOnlySpan<int> shape, ReadOnlySpan<float> data) => AtomicFile.WriteAllBytes(path, Encode(shape, data));

    /// <summary>Writes float64 data.</summary>
    public static void Write(string path, ReadOnlySpan<int> shape, ReadOnlySpan<double> data) => AtomicFile.WriteAllBytes(path, Encode(shape, data));

    /// <summary>The bytes of a float32 <c>.npy</c> file.</summary>
    public static byte[] Encode(ReadOnlySpan<int> shape, ReadOnlySpan<float> data)
    {
        var body = new byte[checked(data.Length * 4)];
        for (int i = 0; i < data.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(body.AsSpan(i * 4), data[i]);
        }

        return EncodeBytes("<f4", shape, body);
    }

    /// <summary>The bytes of a float64 <c>.npy</c> file.</summary>
    public static byte[] Encode(ReadOnlySpan<int> shape, ReadOnlySpan<double> data)
    {
        var body = new byte[checked(data.Length * 8)];
        for (int i = 0; i < data.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(body.AsSpan(i * 8), data[i]);
        }

        return EncodeBytes("<f8", shape, body);
    }

    private static byte[] EncodeBytes(string descr, ReadOnlySpan<int> shape, byte[] body)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.ToArray());
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + header.Length + 1;
        int pad = (64 - (total % 64)) % 64;
        header = header + new string(' ', pad) + "\n";
        var bytes = new byte[checked(10 + header.Length + body.Length)];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.ASCII.GetBytes(header).CopyTo(bytes, 10);
        body.CopyTo(bytes, 10 + header.Length);
        return bytes;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([<>|=][fiub]\d{1,9})'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
