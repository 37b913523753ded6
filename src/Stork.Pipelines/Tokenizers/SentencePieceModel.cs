using System.Text;

namespace Stork.Pipelines.Tokenizers;

/// <summary>The kinds of SentencePiece pieces (<c>ModelProto.SentencePiece.Type</c>).</summary>
internal enum PieceType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>
/// The parts of a SentencePiece <c>ModelProto</c> (<c>spiece.model</c>) that encoding needs, read with a minimal
/// protobuf reader: pieces (string, score, type), the trainer's model type and special ids, the normaliser spec.
/// </summary>
internal sealed class SentencePieceModel
{
    public List<(string Piece, float Score, PieceType Type)> Pieces { get; } = [];

    /// <summary><c>trainer_spec.model_type</c>: 1 unigram, 2 BPE, 3 word, 4 char.</summary>
    public int ModelType { get; set; } = 1;

    public int UnkId { get; set; }

    public int BosId { get; set; } = 1;

    public int EosId { get; set; } = 2;

    public int PadId { get; set; } = -1;

    public byte[] PrecompiledCharsMap { get; set; } = [];

    public bool AddDummyPrefix { get; set; } = true;

    public bool RemoveExtraWhitespaces { get; set; } = true;

    public bool EscapeWhitespaces { get; set; } = true;

    /// <summary>Parses a serialized <c>ModelProto</c>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed model.</exception>
    public static SentencePieceModel Parse(byte[] data, string source)
    {
        var model = new SentencePieceModel();
        try
        {
            var reader = new ProtoReader(data, 0, data.Length);
            while (reader.Next(out int field, out int wire))
            {
                switch (field)
                {
                    case 1 when wire == 2:
                        model.Pieces.Add(ParsePiece(reader.Bytes()));
                        break;
                    case 2 when wire == 2:
                        ParseTrainer(reader.Bytes(), model);
                        break;
                    case 3 when wire == 2:
                        ParseNormalizer(reader.Bytes(), model);
                        break;
                    default:
                        reader.Skip(wire);
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentOutOfRangeException or ArgumentException or OverflowException)
        {
            throw new InvalidDataException($"{source}: not a SentencePiece model ({ex.Message})", ex);
        }

        if (model.Pieces.Count == 0)
        {
            throw new InvalidDataException($"{source}: a SentencePiece model without pieces");
        }

        return model;
    }

    private static (string, float, PieceType) ParsePiece(ArraySegment<byte> bytes)
    {
        var r = new ProtoReader(bytes.Array!, bytes.Offset, bytes.Count);
        string piece = "";
        float score = 0;
        var type = PieceType.Normal;
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == 2:
                    var b = r.Bytes();
                    piece = Encoding.UTF8.GetString(b.Array!, b.Offset, b.Count);
                    break;
                case 2 when wire == 5:
                    score = r.Fixed32Float();
                    break;
                case 3 when wire == 0:
                    type = (PieceType)(int)r.Varint();
                    break;
                default:
                    r.Skip(wire);
                    break;
            }
        }

        return (piece, score, type);
    }

    private static void ParseTrainer(ArraySegment<byte> bytes, SentencePieceModel model)
    {
        var r = new ProtoReader(bytes.Array!, bytes.Offset, bytes.Count);
        while (r.Next(out int field, out int wire))
        {
            if (wire != 0)
            {
                r.Skip(wire);
                continue;
            }

            int value = (int)r.Varint();
            switch (field)
            {
                case 3: model.ModelType = value; break;
                case 40: model.UnkId = value; break;
                case 41: model.BosId = value; break;
                case 42: model.EosId = value; break;
                case 43: model.PadId = value; break;
            }
        }
    }

    private static void ParseNormalizer(ArraySegment<byte> bytes, SentencePieceModel model)
    {
        var r = new ProtoReader(bytes.Array!, bytes.Offset, bytes.Count);
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 2 when wire == 2:
                    model.PrecompiledCharsMap = [.. r.Bytes()];
                    break;
                case 3 when wire == 0:
                    model.AddDummyPrefix = r.Varint() != 0;
                    break;
                case 4 when wire == 0:
                    model.RemoveExtraWhitespaces = r.Varint() != 0;
                    break;
                case 5 when wire == 0:
                    model.EscapeWhitespaces = r.Varint() != 0;
                    break;
                default:
                    r.Skip(wire);
                    break;
            }
        }
    }

    /// <summary>Reads protobuf wire format: varints, fixed 32/64-bit values, length-delimited fields.</summary>
    private sealed class ProtoReader(byte[] data, int offset, int count)
    {
        private readonly int _end = offset + count;
        private int _pos = offset;

        public bool Next(out int field, out int wire)
        {
            if (_pos >= _end)
            {
                field = wire = 0;
                return false;
            }

            ulong key = Varint();
            field = (int)(key >> 3);
            wire = (int)(key & 7);
            return true;
        }

        public ulong Varint()
        {
            ulong result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                byte b = At(_pos++);
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }

            throw new ArgumentException("varint too long");
        }

        public float Fixed32Float()
        {
            At(_pos + 3);
            float v = BitConverter.ToSingle(data, _pos);
            _pos += 4;
            return v;
        }

        public ArraySegment<byte> Bytes()
        {
            int length = checked((int)Varint());
            if (length < 0 || _pos + length > _end)
            {
                throw new ArgumentException("length-delimited field runs past its message");
            }

            var segment = new ArraySegment<byte>(data, _pos, length);
            _pos += length;
            return segment;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: _pos += 8; break;
                case 2: Bytes(); break;
                case 5: _pos += 4; break;
                default: throw new ArgumentException($"unsupported wire type {wire}");
            }

            if (_pos > _end)
            {
                throw new ArgumentException("field runs past its message");
            }
        }

        private byte At(int i) => i < _end ? data[i] : throw new ArgumentException("message truncated");
    }
}
