using System.Buffers.Binary;
using System.Text;

namespace Stork.Imaging;

/// <summary>
/// PNG text metadata: <c>iTXt</c> chunks (UTF-8, uncompressed) inserted after <c>IHDR</c>, the way image generators
/// record the prompt, seed and settings of an image.
/// </summary>
public static class PngText
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>Returns <paramref name="png"/> with one <c>iTXt</c> chunk per entry after its header chunk.</summary>
    public static byte[] Insert(byte[] png, IEnumerable<KeyValuePair<string, string>> entries)
    {
        if (png.Length < 33 || !png.AsSpan(0, 8).SequenceEqual(Signature) || Encoding.ASCII.GetString(png, 12, 4) != "IHDR")
        {
            throw new ArgumentException("not a PNG with an IHDR chunk.");
        }

        int afterHeader = 8 + 8 + BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(8)) + 4;
        using var ms = new MemoryStream();
        ms.Write(png, 0, afterHeader);
        foreach (var (key, value) in entries)
        {
            if (key.Length is < 1 or > 79 || key.Any(c => c < 32 || c > 126))
            {
                throw new ArgumentException($"PNG text keyword '{key}' must be 1-79 printable Latin-1 characters.");
            }

            var data = new List<byte>();
            data.AddRange(Encoding.ASCII.GetBytes(key));
            data.AddRange([0, 0, 0, 0, 0]); // end of keyword, uncompressed, method 0, empty language tag, empty translated keyword
            data.AddRange(Encoding.UTF8.GetBytes(value));
            WriteChunk(ms, "iTXt", data.ToArray());
        }

        ms.Write(png, afterHeader, png.Length - afterHeader);
        return ms.ToArray();
    }

    /// <summary>The <c>tEXt</c> and uncompressed <c>iTXt</c> entries of a PNG, in file order.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Read(byte[] png)
    {
        var r = new List<KeyValuePair<string, string>>();
        int pos = 8;
        while (pos + 12 <= png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            if (length < 0 || pos + 12 + length > png.Length)
            {
                break;
            }

            string type = Encoding.ASCII.GetString(png, pos + 4, 4);
            var data = png.AsSpan(pos + 8, length);
            int zero = data.IndexOf((byte)0);
            if (zero > 0 && type == "tEXt")
            {
                r.Add(new(Encoding.Latin1.GetString(data[..zero]), Encoding.Latin1.GetString(data[(zero + 1)..])));
            }
            else if (zero > 0 && type == "iTXt" && data.Length >= zero + 3 && data[zero + 1] == 0)
            {
                var rest = data[(zero + 3)..];
                int lang = rest.IndexOf((byte)0);
                var afterLang = lang < 0 ? [] : rest[(lang + 1)..];
                int translated = afterLang.IndexOf((byte)0);
                if (translated >= 0)
                {
                    r.Add(new(Encoding.ASCII.GetString(data[..zero]), Encoding.UTF8.GetString(afterLang[(translated + 1)..])));
                }
            }

            pos += 12 + length;
        }

        return r;
    }

    private static void WriteChunk(Stream s, string type, byte[] data)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        Encoding.ASCII.GetBytes(type, header[4..]);
        s.Write(header);
        s.Write(data);
        uint crc = Crc(Crc(0xFFFFFFFFu, header[4..]), data) ^ 0xFFFFFFFFu;
        Span<byte> sum = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(sum, crc);
        s.Write(sum);
    }

    // CRC-32 (ISO 3309, polynomial 0xEDB88320) as the PNG specification defines it, without the final inversion.
    private static uint Crc(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return crc;
    }
}
