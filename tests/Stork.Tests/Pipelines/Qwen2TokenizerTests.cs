using System.Text.Json;
using Stork.Pipelines.QwenImage;
using Stork.Pipelines.Tokenizers;

namespace Stork.Tests.Pipelines;

/// <summary>
/// The Qwen2 tokenizer against the ids Hugging Face's Rust tokenizers give (Data/tokenizers/cases.json) on all 43
/// prompts: plain (<c>qwen2.ids</c>, with the plain Qwen2 folder and with Qwen-Image's) and in Qwen-Image's template
/// (<c>qwen_image</c>: input ids, truncation at 1058, kept ids, intact prefix).
/// </summary>
public sealed class Qwen2TokenizerTests
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Data", "tokenizers");
    private static readonly string QwenImageFolder = Path.Combine(AppContext.BaseDirectory, "Data", "pipelines", "models", "qwen-image", "tokenizer");
    private static readonly Lazy<JsonElement> Doc = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "cases.json"))).RootElement);
    private static readonly Lazy<ITextTokenizer> Plain = new(() => TokenizerLoader.Load(Path.Combine(Root, "qwen2")));
    private static readonly Lazy<ITextTokenizer> QwenImage = new(() => TokenizerLoader.Load(QwenImageFolder));

    public static TheoryData<string> CaseIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in Doc.Value.GetProperty("cases").EnumerateArray())
        {
            data.Add(c.GetProperty("id").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Qwen2_matches_hugging_face(string id)
    {
        var c = Case(id);
        string text = c.GetProperty("text").GetString()!;
        int[] expected = Ints(c.GetProperty("qwen2").GetProperty("ids"));
        Assert.Equal(expected, Plain.Value.Encode(text));
        Assert.Equal(expected, QwenImage.Value.Encode(text));
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Qwen_image_template_matches_diffusers(string id)
    {
        var c = Case(id);
        string text = c.GetProperty("text").GetString()!;
        var expected = c.GetProperty("qwen_image");
        var constants = Doc.Value.GetProperty("constants").GetProperty("qwen_image");
        Assert.Equal(constants.GetProperty("template").GetString(), QwenImagePrompt.Template.Replace("{0}", "{}", StringComparison.Ordinal));
        Assert.Equal(QwenImagePrompt.DropIndex, constants.GetProperty("drop_idx").GetInt32());
        Assert.Equal(QwenImagePrompt.TokenizerMaxLength, constants.GetProperty("tokenizer_max_length").GetInt32());

        var tokens = QwenImagePrompt.Tokenize((Qwen2Tokenizer)QwenImage.Value, text);
        Assert.Equal(Ints(expected.GetProperty("input_ids")), tokens.Ids);
        Assert.Equal(expected.GetProperty("truncated").GetBoolean(), tokens.Truncated);
        Assert.Equal(Ints(expected.GetProperty("kept_ids")), QwenImagePrompt.KeptIds(tokens.Ids));
        bool prefixIntact = tokens.Ids.Take(QwenImagePrompt.DropIndex).SequenceEqual(Ints(constants.GetProperty("template_prefix_ids")));
        Assert.Equal(expected.GetProperty("prefix_intact").GetBoolean(), prefixIntact);
    }

    /// <summary>The pre-tokenizer's whitespace rules (<c>\s*[\r\n]+</c>, <c>\s+(?!\S)</c>) on hand-made strings.</summary>
    [Theory]
    [InlineData("a   b", new[] { "a", "  ", " b" })]
    [InlineData("a \n \n  b", new[] { "a", " \n \n", " ", " b" })]
    [InlineData("x  ", new[] { "x", "  " })]
    [InlineData("1 2", new[] { "1", " ", "2" })]
    [InlineData("\thello ((x", new[] { "\thello", " ((", "x" })]
    [InlineData("IT'S we'Re", new[] { "IT", "'S", " we", "'Re" })]
    [InlineData("ok!!\r\n\r\nnext", new[] { "ok", "!!\r\n\r\n", "next" })]
    [InlineData("\U0001d400\U0001d401 z", new[] { "\U0001d400\U0001d401", " z" })]
    public void Pre_tokenizer_splits_like_the_regex(string text, string[] words) =>
        Assert.Equal(words, Qwen2PreTokenizer.Split(text).Select(w => text.Substring(w.Start, w.Length)));

    [Fact]
    public void Loader_reads_the_qwen2_configuration()
    {
        var t = Assert.IsType<Qwen2Tokenizer>(QwenImage.Value);
        Assert.Equal(151643, t.PadId);
        Assert.Equal(151643, t.VocabularySize);
        Assert.Equal(22, t.AddedTokens.Count);
        Assert.Equal(151657, t.AddedTokens["<tool_call>"]);
        Assert.Equal([151644, 151645, 151643], t.Encode("<|im_start|><|im_end|><|endoftext|>"));
        Assert.Equal(3, ((Qwen2Tokenizer)Plain.Value).AddedTokens.Count);
    }

    [Fact]
    public void Long_prompt_is_cut_at_the_tokenizer_limit()
    {
        var t = (Qwen2Tokenizer)QwenImage.Value;
        var tokens = QwenImagePrompt.Tokenize(t, string.Join(' ', Enumerable.Repeat("cat", 2000)));
        Assert.True(tokens.Truncated);
        Assert.Equal(QwenImagePrompt.TokenizerMaxLength, tokens.Ids.Length);
        Assert.Equal(2000 + 34 + 5, tokens.UntruncatedLength);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.EncodeTruncated("cat", 0));
    }

    [Fact]
    public void Folder_without_merges_is_invalid_data()
    {
        string dir = TestData.TempDir();
        File.Copy(Path.Combine(Root, "qwen2", "vocab.json"), Path.Combine(dir, "vocab.json"));
        File.Copy(Path.Combine(Root, "qwen2", "tokenizer_config.json"), Path.Combine(dir, "tokenizer_config.json"));
        var ex = Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(dir));
        Assert.Contains("merges.txt", ex.Message, StringComparison.Ordinal);
    }

    private static JsonElement Case(string id) =>
        Doc.Value.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("id").GetString() == id);

    private static int[] Ints(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetInt32())];
}
