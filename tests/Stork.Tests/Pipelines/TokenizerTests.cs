using System.Text.Json;
using Stork.Pipelines.Tokenizers;

namespace Stork.Tests.Pipelines;

/// <summary>
/// The tokenizers against the ids Hugging Face's Rust tokenizers give (Data/tokenizers/cases.json, primary lists) on
/// all 43 prompts: CLIP-L, CLIP-G (SDXL and SD3 configurations), T5 from spiece.model and from tokenizer.json.
/// </summary>
public sealed class TokenizerTests
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Data", "tokenizers");
    private static readonly Lazy<JsonElement[]> Cases = new(() =>
        [.. JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "cases.json"))).RootElement.GetProperty("cases").EnumerateArray()]);

    private static readonly Lazy<ITextTokenizer> ClipL = new(() => TokenizerLoader.Load(Path.Combine(Root, "clip-l")));
    private static readonly Lazy<ITextTokenizer> ClipGSdxl = new(() => TokenizerLoader.Load(ClipGFolder("sdxl")));
    private static readonly Lazy<ITextTokenizer> ClipGSd3 = new(() => TokenizerLoader.Load(ClipGFolder("sd3")));
    private static readonly Lazy<ITextTokenizer> T5Spiece = new(() => TokenizerLoader.Load(T5Folder("spiece.model")));
    private static readonly Lazy<ITextTokenizer> T5Json = new(() => TokenizerLoader.Load(T5Folder("tokenizer.json")));

    public static TheoryData<string> CaseIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases.Value)
        {
            data.Add(c.GetProperty("id").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void ClipL_matches_hugging_face(string id) => CheckClip(ClipL.Value, id, "clip_l", 49407);

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void ClipG_sdxl_matches_hugging_face(string id) => CheckClip(ClipGSdxl.Value, id, "clip_g", 0);

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void ClipG_sd3_matches_hugging_face(string id) => CheckClip(ClipGSd3.Value, id, "clip_g", 0);

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void T5_from_spiece_model_matches_hugging_face(string id) => CheckT5(T5Spiece.Value, id);

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void T5_from_tokenizer_json_matches_hugging_face(string id) => CheckT5(T5Json.Value, id);

    /// <summary>
    /// Edge cases beyond cases.json (full-mapping lowercase of U+0130, letters outside the BMP, NFC composition and
    /// reordering, added tokens inside words, contractions, marks, digits); the ids are Hugging Face's Rust tokenizers
    /// (npm <c>tokenizers</c> 0.23.2): CLIP on a tokenizer.json built from clip-l's vocab/merges as transformers'
    /// CLIPConverter builds it (it reproduces all 43 cases.json lists), T5 on Data/tokenizers/t5/tokenizer.json.
    /// </summary>
    public static TheoryData<string, int[]> ExtraClipCases() => new()
    {
        { "\u0130stanbul", [49406, 328, 16384, 11231, 49407] },
        { "\U0001d400\U0001d401\U0001d402 bold \U0001d49c math", [49406, 15889, 222, 15889, 223, 15889, 480, 8911, 43387, 506, 6025, 49407] },
        { "a\u0301 A\u030a \u212b", [49406, 22229, 127, 354, 127, 354, 49407] },
        { "\u01c5emal", [49406, 131, 228, 908, 566, 49407] },
        { "hello<|endoftext|>world", [49406, 3306, 49407, 1002, 49407] },
        { "\u03a3\u0391\u03a3 \u1e9e stra\u00dfe", [49406, 139, 225, 138, 109, 139, 481, 127, 509, 1894, 127, 253, 324, 49407] },
        { "\u1e9b\u0323 q\u0307\u0323", [49406, 157, 118, 505, 136, 352, 336, 136, 96, 16384, 49407] },
        { "\ufb01 x\u00a0y\u3000z", [49406, 171, 105, 479, 343, 344, 345, 49407] },
        { "it''s 'S ''ll'd", [49406, 585, 8445, 338, 568, 8445, 865, 1896, 49407] },
        { "\u0915\u094d\u0937 \u0e01\u0e33", [49406, 22067, 19389, 3124, 371, 31474, 367, 49407] },
        { "1\u00b2\u2153 \u0661\u0662", [49406, 272, 41175, 158, 227, 497, 149, 350, 149, 351, 49407] },
        { "\U0001f468\u200d\U0001f469 \u00ad", [49406, 25023, 964, 358, 22618, 49407] },
    };

    public static TheoryData<string, int[]> ExtraT5Cases() => new()
    {
        { "hello </s> world", [21820, 1, 296, 1] },
        { "hello</s>world", [21820, 1, 7276, 1] },
        { "<extra_id_0> x <extra_id_12>y", [32099, 3, 226, 32087, 63, 1] },
        { "   a   b  ", [3, 9, 3, 115, 1] },
        { "\u0130stanbul \u01c5 \ufb00", [3, 2, 5627, 6724, 309, 2, 3, 89, 89, 1] },
        { "a\u0000b", [3, 9, 2, 115, 1] },
        { "x <pad>", [3, 226, 0, 1] },
        { "\u03a9 \u2103 \u2460 \u337f \U0001d400\U0001d401", [3, 2, 3, 1956, 254, 209, 3, 2, 3, 5359, 1] },
        { "hello  </s>   world  ", [21820, 1, 296, 1] },
    };

    [Theory]
    [MemberData(nameof(ExtraClipCases))]
    public void ClipL_matches_hugging_face_on_edge_cases(string text, int[] expected) =>
        Assert.Equal(expected, ClipL.Value.Encode(text));

    [Theory]
    [MemberData(nameof(ExtraT5Cases))]
    public void T5_matches_hugging_face_on_edge_cases(string text, int[] expected)
    {
        Assert.Equal(expected, T5Json.Value.Encode(text));
        Assert.Equal(expected, T5Spiece.Value.Encode(text));
    }

    [Fact]
    public void Loader_picks_the_tokenizer_kind()
    {
        Assert.IsType<ClipTokenizer>(ClipL.Value);
        Assert.IsType<T5Tokenizer>(T5Spiece.Value);
        Assert.IsType<T5Tokenizer>(T5Json.Value);
        Assert.Equal(77, ClipL.Value.ModelMaxLength);
        Assert.Equal(49407, ClipL.Value.PadId);
        Assert.Equal(0, ClipGSdxl.Value.PadId);
        Assert.Equal(0, T5Json.Value.PadId);
        Assert.Equal(512, T5Json.Value.ModelMaxLength);
    }

    [Fact]
    public void Flux_model_folder_tokenizers_load()
    {
        string flux = Path.Combine(AppContext.BaseDirectory, "Data", "pipelines", "models", "flux-dev");
        Assert.IsType<ClipTokenizer>(TokenizerLoader.Load(Path.Combine(flux, "tokenizer")));
        Assert.IsType<T5Tokenizer>(TokenizerLoader.Load(Path.Combine(flux, "tokenizer_2")));
    }

    [Fact]
    public void Padded_reports_truncation()
    {
        var shortText = ClipL.Value.EncodePadded("a photo of a cat", 77);
        Assert.False(shortText.Truncated);
        Assert.Equal(7, shortText.UntruncatedLength);
        var longText = ClipL.Value.EncodePadded(string.Join(' ', Enumerable.Repeat("cat", 100)), 77);
        Assert.True(longText.Truncated);
        Assert.Equal(102, longText.UntruncatedLength);
        Assert.Equal(49407, longText.Ids[76]);
        var t5 = T5Json.Value.EncodePadded(string.Join(' ', Enumerable.Repeat("cat", 300)), 256);
        Assert.True(t5.Truncated);
        Assert.Equal(1, t5.Ids[255]);
        Assert.Throws<ArgumentOutOfRangeException>(() => ClipL.Value.EncodePadded("cat", 1));
    }

    [Fact]
    public void Missing_folder_is_invalid_data()
    {
        string missing = Path.Combine(TestData.TempDir(), "nope");
        var ex = Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(missing));
        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Folder_without_tokenizer_files_is_invalid_data()
    {
        string dir = TestData.TempDir();
        File.Copy(Path.Combine(Root, "clip-l", "tokenizer_config.json"), Path.Combine(dir, "tokenizer_config.json"));
        var ex = Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(dir));
        Assert.Contains("vocab.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Clip_folder_without_merges_is_invalid_data()
    {
        string dir = TestData.TempDir();
        File.Copy(Path.Combine(Root, "clip-l", "vocab.json"), Path.Combine(dir, "vocab.json"));
        File.Copy(Path.Combine(Root, "clip-l", "tokenizer_config.json"), Path.Combine(dir, "tokenizer_config.json"));
        var ex = Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(dir));
        Assert.Contains("merges.txt", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_json_is_invalid_data()
    {
        string dir = TestData.TempDir();
        File.Copy(Path.Combine(Root, "clip-l", "merges.txt"), Path.Combine(dir, "merges.txt"));
        File.Copy(Path.Combine(Root, "clip-l", "tokenizer_config.json"), Path.Combine(dir, "tokenizer_config.json"));
        File.WriteAllText(Path.Combine(dir, "vocab.json"), "{\"a\": 1,");
        var ex = Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(dir));
        Assert.Contains("vocab.json", ex.Message, StringComparison.Ordinal);

        string t5 = TestData.TempDir();
        File.WriteAllText(Path.Combine(t5, "tokenizer.json"), "{ not json");
        ex = Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(t5));
        Assert.Contains("tokenizer.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_spiece_model_is_invalid_data()
    {
        string dir = TestData.TempDir();
        byte[] model = File.ReadAllBytes(Path.Combine(Root, "t5", "spiece.model"));
        File.WriteAllBytes(Path.Combine(dir, "spiece.model"), model[..1001]);
        Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(dir));
    }

    [Fact]
    public void Nfc_composes_decomposed_text()
    {
        Assert.Equal("caf\u00e9 na\u00efve \uAC00", ClipTokenizer.Normalize("CAFE\u0301 NAI\u0308VE \u1100\u1161"));
        Assert.Equal("\u1e69", ClipTokenizer.Normalize("s\u0323\u0307"));
        Assert.Equal("\u1e69", ClipTokenizer.Normalize("s\u0307\u0323"));
    }

    private static JsonElement Case(string id) => Cases.Value.Single(c => c.GetProperty("id").GetString() == id);

    private static int[] Ints(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetInt32())];

    private static void CheckClip(ITextTokenizer tokenizer, string id, string block, int pad)
    {
        var c = Case(id);
        string text = c.GetProperty("text").GetString()!;
        var expected = c.GetProperty(block);
        Assert.Equal(Ints(expected.GetProperty("ids")), tokenizer.Encode(text));
        var padded = tokenizer.EncodePadded(text, 77);
        Assert.Equal(Ints(expected.GetProperty("input_ids_77")), padded.Ids);
        Assert.Equal(pad, tokenizer.PadId);
        Assert.Equal(Ints(expected.GetProperty("ids")).Length > 77, padded.Truncated);
    }

    private static void CheckT5(ITextTokenizer tokenizer, string id)
    {
        var c = Case(id);
        string text = c.GetProperty("text").GetString()!;
        var expected = c.GetProperty("t5");
        Assert.Equal(Ints(expected.GetProperty("ids")), tokenizer.Encode(text));
        Assert.Equal(Ints(expected.GetProperty("input_ids_256")), tokenizer.EncodePadded(text, 256).Ids);
        Assert.Equal(Ints(expected.GetProperty("input_ids_512")), tokenizer.EncodePadded(text, 512).Ids);
    }

    /// <summary>A CLIP-G folder as SDXL/SD3 ship it: clip-l's vocab and merges with the tokenizer_2 configuration.</summary>
    private static string ClipGFolder(string flavour)
    {
        string dir = TestData.TempDir();
        File.Copy(Path.Combine(Root, "clip-l", "vocab.json"), Path.Combine(dir, "vocab.json"));
        File.Copy(Path.Combine(Root, "clip-l", "merges.txt"), Path.Combine(dir, "merges.txt"));
        File.Copy(Path.Combine(Root, "clip-g", $"tokenizer_config.{flavour}.json"), Path.Combine(dir, "tokenizer_config.json"));
        File.Copy(Path.Combine(Root, "clip-g", $"special_tokens_map.{flavour}.json"), Path.Combine(dir, "special_tokens_map.json"));
        return dir;
    }

    /// <summary>A T5 folder with only <paramref name="modelFile"/> and the two configuration files.</summary>
    private static string T5Folder(string modelFile)
    {
        string dir = TestData.TempDir();
        foreach (string f in new[] { modelFile, "tokenizer_config.json", "special_tokens_map.json" })
        {
            File.Copy(Path.Combine(Root, "t5", f), Path.Combine(dir, f));
        }

        return dir;
    }
}
