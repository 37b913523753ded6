using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Stork.Imaging;

namespace Stork.Server.Tests;

/// <summary>A server over fashion-flux (it has a vae_encoder) and a copy of it without one, for the image-input tests.</summary>
public sealed class ImageServerFixture : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    private string _copy = "";

    public async Task InitializeAsync()
    {
        string source = TestServer.ShippedFluxFolder();
        _copy = Path.Combine(Path.GetTempPath(), "stork-serve-noenc-" + Guid.NewGuid().ToString("N"));
        foreach (string file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(source, file);
            if (relative.StartsWith("vae_encoder", StringComparison.Ordinal))
            {
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(_copy, relative))!);
            File.Copy(file, Path.Combine(_copy, relative));
        }

        Server = await TestServer.StartAsync(extraModels: [new ServedModel("no-encoder", _copy), new ServedModel("flux-control", TinyFolder("flux-control"))]);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(_copy, recursive: true);
    }

    /// <summary>A tiny public golden folder copied in tests/Stork.Tests/Data/pipelines/models (diffusers' own classes).</summary>
    public static string TinyFolder(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "Stork.Tests", "Data", "pipelines", "models", name);
            if (File.Exists(Path.Combine(candidate, "model_index.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"tests/Stork.Tests/Data/pipelines/models/{name} not found above the test folder.");
    }
}

/// <summary>Image inputs through the own API, Automatic1111's img2img and OpenAI's image edits.</summary>
public sealed class ImageInputTests(ImageServerFixture fixture) : IClassFixture<ImageServerFixture>
{
    private TestServer S => fixture.Server;

    private static string Text(byte[] png, string key) => PngText.Read(png).Single(kv => kv.Key == key).Value;

    private static string Json(object o) => System.Text.Json.JsonSerializer.Serialize(o);

    [Fact]
    public async Task Own_api_runs_img2img_deterministically_and_records_the_input_hash()
    {
        var picture = TestImages.Picture();
        string body = Json(new { prompt = "a bag", seed = 3, steps = 6, image = TestImages.DataUrl(picture), strength = 0.5 });
        var (status, job) = await S.PostJson("/api/generate", body);
        Assert.Equal(200, status);
        Assert.Equal("FluxImg2ImgPipeline", job!["settings"]!["pipeline"]!.GetValue<string>());
        Assert.Equal(0.5, job["settings"]!["strength"]!.GetValue<double>());
        Assert.Equal(TestImages.Hash(picture), job["settings"]!["inputs"]!["image"]!.GetValue<string>());
        // int(6 - 6 * 0.5) = 3 of the 6 steps run.
        Assert.Equal(3, job["nfe"]!.GetValue<int>());
        Assert.Null(job["request"]!["image"]);
        byte[] png = await S.Client.GetByteArrayAsync(job["images"]![0]!.GetValue<string>());
        Assert.Equal("0.5", Text(png, "strength"));
        Assert.Contains("Denoising strength: 0.5", Text(png, "parameters"), StringComparison.Ordinal);

        // The input as the run read it, served back as PNG: same pixels.
        byte[] input = await S.Client.GetByteArrayAsync(job["inputs"]!["image"]!.GetValue<string>());
        Assert.Equal(picture.Pixels, ImageFile.Decode(input).Pixels);

        // Same request, same bytes; base64 without the data: prefix is taken too.
        string plain = Json(new { prompt = "a bag", seed = 3, steps = 6, image = Convert.ToBase64String(PngFile.Encode(picture)), strength = 0.5 });
        var (_, again) = await S.PostJson("/api/generate", plain);
        Assert.Equal(png, await S.Client.GetByteArrayAsync(again!["images"]![0]!.GetValue<string>()));

        // Another strength, another image.
        var (_, other) = await S.PostJson("/api/generate", Json(new { prompt = "a bag", seed = 3, steps = 6, image = TestImages.DataUrl(picture), strength = 0.9 }));
        Assert.NotEqual(png, await S.Client.GetByteArrayAsync(other!["images"]![0]!.GetValue<string>()));
    }

    [Fact]
    public async Task Own_api_inpaints_with_a_mask_and_serves_both_inputs()
    {
        var picture = TestImages.Picture();
        var mask = TestImages.LeftHalfMask();
        string body = Json(new { prompt = "a coat", seed = 1, steps = 8, image = TestImages.DataUrl(picture), mask = TestImages.DataUrl(mask), strength = 1.0, count = 2 });
        var (status, job) = await S.PostJson("/api/generate", body);
        Assert.Equal(200, status);
        Assert.Equal("FluxInpaintPipeline", job!["settings"]!["pipeline"]!.GetValue<string>());
        Assert.Equal(TestImages.Hash(mask), job["settings"]!["inputs"]!["mask"]!.GetValue<string>());
        Assert.Equal(2, job["images"]!.AsArray().Count);
        byte[] servedMask = await S.Client.GetByteArrayAsync(job["inputs"]!["mask"]!.GetValue<string>());
        Assert.Equal(mask.Pixels, ImageFile.Decode(servedMask).Pixels);
        var (missing, _) = await S.Get($"/api/jobs/{job["id"]!.GetValue<string>()}/inputs/control_image");
        Assert.Equal(404, missing);
    }

    [Fact]
    public async Task A_control_model_takes_a_control_image_and_refuses_an_input_image()
    {
        string control = TestImages.DataUrl(TestImages.Picture());
        var (status, job) = await S.PostJson("/api/generate", Json(new { model = "flux-control", prompt = "a bag", steps = 2, width = 32, height = 32, control_image = control }));
        Assert.True(status == 200, job?.ToJsonString());
        Assert.Equal("FluxControlPipeline", job!["settings"]!["pipeline"]!.GetValue<string>());
        Assert.Equal(TestImages.Hash(TestImages.Picture()), job["settings"]!["inputs"]!["control_image"]!.GetValue<string>());
        Assert.NotNull(job["inputs"]!["control_image"]);
        // The page shows its control image upload for the models whose family is FluxControlPipeline.
        var (_, models) = await S.Get("/api/models");
        Assert.Contains(models!.AsArray(), m => m!["name"]!.GetValue<string>() == "flux-control" && m["family"]!.GetValue<string>() == "FluxControlPipeline");

        var (refused, error) = await S.PostJson("/api/jobs", Json(new { model = "flux-control", prompt = "a bag", image = control, control_image = control }));
        Assert.Equal(400, refused);
        Assert.Contains("FLUX.1 Control", error!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("Data/pipelines", error["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> BadInputs()
    {
        string picture = TestImages.DataUrl(TestImages.Picture());
        string small = TestImages.DataUrl(TestImages.Picture(16));
        byte[] whole = PngFile.Encode(TestImages.Picture());
        byte[] truncated = whole[..(whole.Length / 2)];
        return new()
        {
            { "fashion-flux", Json(new { prompt = "x", image = "not*base64!" }), "image is not valid base64" },
            { "fashion-flux", Json(new { prompt = "x", image = Convert.ToBase64String(Encoding.UTF8.GetBytes("hello, not an image")) }), "neither a PNG nor a JPEG" },
            { "fashion-flux", Json(new { prompt = "x", image = TestImages.DataUrl(TestImages.HugeHeaderPng(60000, 60000)) }), "60000 x 60000 pixels" },
            { "fashion-flux", Json(new { prompt = "x", image = TestImages.DataUrl(truncated) }), "truncated" },
            { "fashion-flux", Json(new { prompt = "x", image = "data:image/png,abc" }), "base64" },
            { "fashion-flux", Json(new { prompt = "x", image = picture, mask = small }), "same size" },
            { "fashion-flux", Json(new { prompt = "x", image = picture, strength = 0 }), "strength must be in (0, 1]" },
            { "fashion-flux", Json(new { prompt = "x", image = picture, strength = 1.5 }), "strength must be in (0, 1]" },
            { "fashion-flux", Json(new { prompt = "x", control_image = picture }), "takes no control image" },
            { "fashion-flux", Json(new { prompt = "x", mask = picture }), "mask needs image" },
            { "fashion-flux", Json(new { prompt = "x", strength = 0.5 }), "strength needs image" },
            { "no-encoder", Json(new { prompt = "x", image = picture }), "vae_encoder" },
        };
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_image_inputs_get_400_with_one_message_and_nothing_is_queued(string model, string body, string expected)
    {
        var node = JsonNode.Parse(body)!.AsObject();
        node["model"] = model;
        // /api/jobs answers 202 as soon as a job is queued: a 400 there means the request was refused before the queue.
        var (status, error) = await S.PostJson("/api/jobs", node.ToJsonString());
        Assert.Equal(400, status);
        string message = error!["error"]!.GetValue<string>();
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.GetTempPath(), message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Automatic1111_img2img_inpaints_as_its_clients_send_it()
    {
        var picture = TestImages.Picture();
        // An RGBA mask as Automatic1111's canvas sends it: the alpha marks the region (opaque = repaint), here the top half.
        byte[] mask = TestImages.RgbaPng(32, 32, (x, y) => y < 16 ? ((byte)255, (byte)255, (byte)255, (byte)255) : ((byte)0, (byte)0, (byte)0, (byte)0));
        var request = new JsonObject
        {
            ["init_images"] = new JsonArray(Convert.ToBase64String(PngFile.Encode(picture))),
            ["prompt"] = "a shirt",
            ["negative_prompt"] = "",
            ["steps"] = 6,
            ["seed"] = 5,
            ["sampler_name"] = "Euler",
            ["denoising_strength"] = 0.8,
            ["mask"] = Convert.ToBase64String(mask),
            ["mask_blur"] = 0,
            ["inpainting_fill"] = 1,
            // pydantic's bool and int: clients send 0/1 for checkboxes and 4.0 for whole numbers.
            ["inpaint_full_res"] = 0,
            ["inpainting_mask_invert"] = 1,
            ["resize_mode"] = 0.0,
            ["include_init_images"] = true,
            ["styles"] = new JsonArray(),
            ["alwayson_scripts"] = new JsonObject(),
        };
        var (status, r) = await S.PostJson("/sdapi/v1/img2img", request.ToJsonString());
        Assert.Equal(200, status);
        Assert.Equal(2, r!["images"]!.AsArray().Count);
        var info = JsonNode.Parse(r["info"]!.GetValue<string>())!;
        Assert.Equal(0.8, info["denoising_strength"]!.GetValue<double>());
        Assert.Equal("FluxInpaintPipeline", info["stork_pipeline"]!.GetValue<string>());
        Assert.Equal("Euler", info["sampler_name"]!.GetValue<string>());
        Assert.Null(r["parameters"]!["init_images"]);
        Assert.Equal("a shirt", r["parameters"]!["prompt"]!.GetValue<string>());
        // include_init_images: the input comes last, as sent.
        Assert.Equal(picture.Pixels, ImageFile.Decode(Convert.FromBase64String(r["images"]![1]!.GetValue<string>())).Pixels);

        // The mask the run read: the alpha region, inverted by inpainting_mask_invert (white = repaint = the bottom half).
        var (_, job) = await S.Get($"/api/jobs/{info["stork_job"]!.GetValue<string>()}");
        var served = ImageFile.Decode(await S.Client.GetByteArrayAsync(job!["inputs"]!["mask"]!.GetValue<string>()));
        Assert.Equal(new Rgb(0, 0, 0), served[3, 3]);
        Assert.Equal(new Rgb(255, 255, 255), served[3, 28]);

        // The default mask blur (4) softens the edge of a grey-level mask; the pipeline binarises it at 0.5 afterwards.
        request["mask"] = Convert.ToBase64String(PngFile.Encode(TestImages.LeftHalfMask()));
        request.Remove("mask_blur");
        request["inpainting_mask_invert"] = 0;
        request["include_init_images"] = false;
        var (blurred, rb) = await S.PostJson("/sdapi/v1/img2img", request.ToJsonString());
        Assert.Equal(200, blurred);
        var (_, job2) = await S.Get($"/api/jobs/{JsonNode.Parse(rb!["info"]!.GetValue<string>())!["stork_job"]!.GetValue<string>()}");
        var soft = ImageFile.Decode(await S.Client.GetByteArrayAsync(job2!["inputs"]!["mask"]!.GetValue<string>()));
        Assert.Equal(255, soft[0, 10].R);
        Assert.Equal(0, soft[31, 10].R);
        Assert.InRange(soft[15, 10].R, 129, 254);
        Assert.InRange(soft[16, 10].R, 1, 127);
    }

    [Theory]
    [InlineData("""{"prompt": "x"}""", "init_images is required")]
    [InlineData("""{"prompt": "x", "init_images": ["IMG", "IMG"]}""", "one is served")]
    [InlineData("""{"prompt": "x", "init_images": ["IMG"], "resize_mode": 1}""", "resize_mode 1")]
    [InlineData("""{"prompt": "x", "init_images": ["IMG"], "denoising_strength": 0}""", "strength must be in (0, 1]")]
    [InlineData("""{"prompt": "x", "init_images": ["IMG"], "mask": "IMG", "inpaint_full_res": true}""", "inpaint_full_res")]
    [InlineData("""{"prompt": "x", "init_images": ["IMG"], "mask": "IMG", "inpainting_fill": 0}""", "inpainting_fill 0")]
    [InlineData("""{"prompt": "x", "init_images": ["IMG"], "initial_noise_multiplier": 0.9}""", "initial_noise_multiplier")]
    [InlineData("""{"prompt": "x", "init_images": ["bad base64!"]}""", "not valid base64")]
    [InlineData("""{"prompt": "x", "init_images": ["IMG"], "mask": "IMG", "inpaint_full_res": 2}""", "inpaint_full_res")]
    [InlineData("""{"prompt": "x", "init_images": ["IMG"], "resize_mode": 0.5}""", "resize_mode")]
    public async Task Automatic1111_img2img_refuses_what_it_cannot_honour(string body, string expected)
    {
        string image = Convert.ToBase64String(PngFile.Encode(TestImages.Picture()));
        var (status, error) = await S.PostJson("/sdapi/v1/img2img", body.Replace("IMG", image, StringComparison.Ordinal));
        Assert.Equal(400, status);
        Assert.Contains(expected, error!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAI_image_edits_repaint_the_transparent_area_of_the_mask()
    {
        var picture = TestImages.Picture();
        // OpenAI's convention: the mask's fully transparent pixels (here the right half) are the ones to edit.
        byte[] mask = TestImages.RgbaPng(32, 32, (x, y) => x >= 16 ? ((byte)0, (byte)0, (byte)0, (byte)0) : ((byte)10, (byte)20, (byte)30, (byte)255));
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(PngFile.Encode(picture)) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } }, "image", "image.png" },
            { new ByteArrayContent(mask) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } }, "mask", "mask.png" },
            { new StringContent("a red sleeve"), "prompt" },
            { new StringContent("2"), "n" },
            { new StringContent("b64_json"), "response_format" },
        };
        using var response = await S.Client.PostAsync("/v1/images/edits", form);
        var r = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(response.IsSuccessStatusCode, r.ToJsonString());
        Assert.Equal(2, r["data"]!.AsArray().Count);
        byte[] png = Convert.FromBase64String(r["data"]![0]!["b64_json"]!.GetValue<string>());
        Assert.Equal("FluxInpaintPipeline", Text(png, "pipeline"));

        var (_, gallery) = await S.Get("/api/gallery");
        var job = gallery!.AsArray().First(j => j!["settings"]!["prompt"]!.GetValue<string>() == "a red sleeve")!;
        var served = ImageFile.Decode(await S.Client.GetByteArrayAsync(job["inputs"]!["mask"]!.GetValue<string>()));
        Assert.Equal(new Rgb(0, 0, 0), served[3, 3]);
        Assert.Equal(new Rgb(255, 255, 255), served[20, 3]);
    }

    [Fact]
    public async Task OpenAI_image_edits_refuse_bad_forms_the_openai_way()
    {
        async Task<(int Status, string Message)> Post(HttpContent content)
        {
            using var response = await S.Client.PostAsync("/v1/images/edits", content);
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            return ((int)response.StatusCode, body["error"]!["message"]!.GetValue<string>());
        }

        byte[] image = PngFile.Encode(TestImages.Picture());
        byte[] opaqueMask = TestImages.RgbaPng(32, 32, (_, _) => (0, 0, 0, 255));
        using (var json = new StringContent("""{"prompt": "x"}""", Encoding.UTF8, "application/json"))
        {
            Assert.Contains("multipart/form-data", (await Post(json)).Message, StringComparison.Ordinal);
        }

        using (var noImage = new MultipartFormDataContent { { new StringContent("x"), "prompt" } })
        {
            Assert.Contains("image is required", (await Post(noImage)).Message, StringComparison.Ordinal);
        }

        using (var opaque = new MultipartFormDataContent { { new ByteArrayContent(image), "image", "i.png" }, { new ByteArrayContent(opaqueMask), "mask", "m.png" }, { new StringContent("x"), "prompt" } })
        {
            var (status, message) = await Post(opaque);
            Assert.Equal(400, status);
            Assert.Contains("no fully transparent pixels", message, StringComparison.Ordinal);
        }

        using (var url = new MultipartFormDataContent { { new ByteArrayContent(image), "image", "i.png" }, { new StringContent("x"), "prompt" }, { new StringContent("url"), "response_format" } })
        {
            Assert.Contains("b64_json", (await Post(url)).Message, StringComparison.Ordinal);
        }

        using (var notImage = new MultipartFormDataContent { { new ByteArrayContent("GIF89a"u8.ToArray()), "image", "i.gif" }, { new StringContent("x"), "prompt" } })
        {
            Assert.Contains("neither a PNG nor a JPEG", (await Post(notImage)).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_openapi_document_describes_the_image_inputs()
    {
        var (_, doc) = await S.Get("/openapi/v1.json");
        var paths = doc!["paths"]!.AsObject();
        Assert.NotNull(paths["/v1/images/edits"]!["post"]!["requestBody"]!["content"]!["multipart/form-data"]);
        Assert.NotNull(paths["/sdapi/v1/img2img"]!["post"]!["requestBody"]!["content"]!["application/json"]);
        Assert.True(paths.ContainsKey("/api/jobs/{id}/inputs/{role}"));
        string text = doc.ToJsonString();
        foreach (string field in new[] { "control_image", "strength", "init_images", "denoising_strength", "inpainting_mask_invert" })
        {
            Assert.Contains($"\"{field}\"", text, StringComparison.Ordinal);
        }
    }
}
