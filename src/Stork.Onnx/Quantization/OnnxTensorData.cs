using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Stork.Onnx.Quantization.Proto;

namespace Stork.Onnx.Quantization;

/// <summary>
/// Reads the data of an ONNX <see cref="TensorProto"/>, inline (<c>raw_data</c>, typed fields) or in an external data
/// file beside the model (<c>location</c>, <c>offset</c>, <c>length</c>), and writes tensors back, the large ones to
/// one external data file (each at an offset aligned to 4 KiB, so that it can be memory-mapped).
/// </summary>
internal static class OnnxTensorData
{
    public const int Float = (int)TensorProto.Types.DataType.Float;
    public const int Float16 = (int)TensorProto.Types.DataType.Float16;
    public const int UInt8 = (int)TensorProto.Types.DataType.Uint8;
    public const int UInt4 = (int)TensorProto.Types.DataType.Uint4;
    public const int Int64 = (int)TensorProto.Types.DataType.Int64;

    public static long ElementCount(TensorProto t)
    {
        long n = 1;
        foreach (long d in t.Dims)
        {
            n = checked(n * d);
        }

        return n;
    }

    public static bool IsExternal(TensorProto t) => t.DataLocation == TensorProto.Types.DataLocation.External;

    /// <summary>The values of a FLOAT tensor.</summary>
    public static float[] ReadFloats(TensorProto t, string modelDirectory)
    {
        if (t.DataType != Float)
        {
            throw new InvalidDataException($"tensor '{t.Name}' is not float32 (ONNX data type {t.DataType}).");
        }

        long count = ElementCount(t);
        if (count > Array.MaxLength)
        {
            throw new InvalidDataException($"tensor '{t.Name}' has {count} values, more than one array holds.");
        }

        var values = new float[count];
        if (IsExternal(t))
        {
            ReadExternal(t, modelDirectory, MemoryMarshal.AsBytes(values.AsSpan()));
        }
        else if (!t.RawData.IsEmpty)
        {
            if (t.RawData.Length != count * 4)
            {
                throw new InvalidDataException($"tensor '{t.Name}' has {t.RawData.Length} bytes of raw data for {count} float values.");
            }

            t.RawData.Span.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
            if (!BitConverter.IsLittleEndian)
            {
                throw new PlatformNotSupportedException("ONNX raw data is little-endian; this machine is not.");
            }
        }
        else if (t.FloatData.Count == count)
        {
            t.FloatData.CopyTo(values, 0);
        }
        else
        {
            throw new InvalidDataException($"tensor '{t.Name}' has {t.FloatData.Count} float values for {count} elements.");
        }

        return values;
    }

    /// <summary>The bytes of an external tensor, as stored.</summary>
    public static byte[] ReadExternalBytes(TensorProto t, string modelDirectory)
    {
        var (_, _, length) = ExternalLocation(t, modelDirectory);
        var bytes = new byte[checked((int)length)];
        ReadExternal(t, modelDirectory, bytes);
        return bytes;
    }

    private static void ReadExternal(TensorProto t, string modelDirectory, Span<byte> destination)
    {
        var (path, offset, length) = ExternalLocation(t, modelDirectory);
        if (length != destination.Length)
        {
            throw new InvalidDataException($"external tensor '{t.Name}' has {length} bytes, expected {destination.Length}.");
        }

        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long fileLength = RandomAccess.GetLength(handle);
        if (offset + length > fileLength)
        {
            throw new InvalidDataException($"external tensor '{t.Name}' lies past the end of '{path}' ({offset}+{length} > {fileLength}).");
        }

        while (!destination.IsEmpty)
        {
            int n = RandomAccess.Read(handle, destination, offset);
            if (n <= 0)
            {
                throw new EndOfStreamException($"'{path}' ended while reading tensor '{t.Name}'.");
            }

            destination = destination[n..];
            offset += n;
        }
    }

    /// <summary>The external data file, offset and length of a tensor.</summary>
    public static (string Path, long Offset, long Length) ExternalLocation(TensorProto t, string modelDirectory)
    {
        string? location = null;
        long offset = 0;
        long? length = null;
        foreach (var e in t.ExternalData)
        {
            switch (e.Key)
            {
                case "location":
                    location = e.Value;
                    break;
                case "offset":
                    offset = long.Parse(e.Value, System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "length":
                    length = long.Parse(e.Value, System.Globalization.CultureInfo.InvariantCulture);
                    break;
            }
        }

        if (location is null || Path.IsPathRooted(location) || location.Split('/', '\\').Contains(".."))
        {
            throw new InvalidDataException($"external tensor '{t.Name}' has no valid location (a file name beside the model): '{location}'.");
        }

        string path = Path.Combine(modelDirectory, location);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"the external data file '{path}' of tensor '{t.Name}' is missing.");
        }

        return (path, offset, length ?? (ElementCount(t) * ElementBytes(t.DataType)));
    }

    /// <summary>External data files a model refers to (names relative to its folder).</summary>
    public static IEnumerable<string> ExternalFiles(ModelProto model) =>
        model.Graph.Initializer.Where(IsExternal)
            .Select(t => t.ExternalData.FirstOrDefault(e => e.Key == "location")?.Value)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal);

    private static long ElementBytes(int dataType) => dataType switch
    {
        1 or 6 or 12 => 4, // float, int32, uint32
        2 or 3 or 9 => 1, // uint8, int8, bool
        4 or 5 or 10 or 16 => 2, // uint16, int16, float16, bfloat16
        7 or 11 or 13 => 8, // int64, double, uint64
        _ => throw new InvalidDataException($"external tensors of ONNX data type {dataType} need an explicit length."),
    };

    /// <summary>float32 values as IEEE half-precision bytes (round to nearest even).</summary>
    public static byte[] ToHalfBytes(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), BitConverter.HalfToUInt16Bits((Half)values[i]));
        }

        return bytes;
    }
}

/// <summary>
/// Writes tensor data: tensors of at least <see cref="Threshold"/> bytes go to one external data file beside the model,
/// each at an offset aligned to <see cref="Alignment"/>; smaller ones stay inline.
/// </summary>
internal sealed class ExternalDataWriter : IDisposable
{
    public const int Threshold = 1024;
    public const int Alignment = 4096;

    private readonly string _path;
    private FileStream? _stream;

    public ExternalDataWriter(string modelPath)
    {
        FileName = Path.GetFileName(modelPath) + "_data";
        _path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!, FileName);
    }

    /// <summary>The external data file's name (<c>model.onnx_data</c> beside <c>model.onnx</c>).</summary>
    public string FileName { get; }

    public bool Used => _stream is not null;

    /// <summary>Sets the data of <paramref name="tensor"/> (whose name, type and dims are set) to <paramref name="bytes"/>.</summary>
    public void Put(TensorProto tensor, ReadOnlySpan<byte> bytes)
    {
        tensor.ClearRawData();
        tensor.FloatData.Clear();
        tensor.Int32Data.Clear();
        tensor.Int64Data.Clear();
        tensor.DoubleData.Clear();
        tensor.Uint64Data.Clear();
        tensor.ExternalData.Clear();
        if (bytes.Length < Threshold)
        {
            tensor.ClearDataLocation();
            tensor.RawData = ByteString.CopyFrom(bytes);
            return;
        }

        _stream ??= new FileStream(_path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        long offset = (_stream.Position + Alignment - 1) / Alignment * Alignment;
        if (offset > _stream.Position)
        {
            _stream.Write(new byte[offset - _stream.Position]);
        }

        _stream.Write(bytes);
        tensor.DataLocation = TensorProto.Types.DataLocation.External;
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = FileName });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    public void Dispose() => _stream?.Dispose();
}
