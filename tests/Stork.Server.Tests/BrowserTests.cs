using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Stork.Server.Tests;

/// <summary>
/// The page in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright): generate with live
/// progress, the gallery and a one-click re-run, cancel, the compare view. With STORK_SCREENSHOT_DIR set it also saves
/// the README's screenshots there.
/// </summary>
public sealed class BrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [SkippableFact]
    public async Task The_page_generates_shows_progress_and_gallery_cancels_and_compares()
    {
        Skip.IfNot(File.Exists(Chromium), $"{Chromium} is not installed (apt-get install chromium; .ci/run installs it).");
        await using var s = await TestServer.StartAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true });
        var (page, consoleErrors) = await OpenPage(browser);

        await page.GotoAsync(s.Server.Url.ToString());
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("ready");

        // Generate: previews of the predicted clean image arrive step by step, then the result joins the gallery.
        await page.FillAsync("#prompt", "a sneaker");
        await page.FillAsync("#steps", "12");
        await page.SelectOptionAsync("#scheduler", "stork-4");
        await page.FillAsync("#count", "2");
        await page.ClickAsync("#generate");
        await page.Locator("#preview img.step-preview").First.WaitForAsync();
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("done in");
        string lastStep = await page.Locator("#preview img.step-preview").First.GetAttributeAsync("data-step") ?? "";
        Assert.Equal("12", lastStep);
        var items = page.Locator("#gallery .item");
        await Assertions.Expect(items).ToHaveCountAsync(1);
        await Assertions.Expect(items.First.Locator("img")).ToHaveCountAsync(2);
        Assert.True(await items.First.Locator("img").First.EvaluateAsync<int>("img => img.naturalWidth") > 0);
        await Assertions.Expect(items.First.Locator(".settings")).ToContainTextAsync("stork-4");

        // One click re-runs the result with one setting changed.
        await items.First.Locator("button.rerun-button", new() { HasText = "seed + 1" }).ClickAsync();
        await Assertions.Expect(items).ToHaveCountAsync(2);
        await Assertions.Expect(items.First.Locator(".settings")).ToContainTextAsync("seed 1");
        await Screenshot(page, "serve-page.png");

        // Cancel a long job while it runs.
        await page.FillAsync("#steps", "100");
        await page.FillAsync("#count", "4");
        await page.ClickAsync("#generate");
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("step ");
        await page.ClickAsync("#cancel");
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("cancelled");
        await Assertions.Expect(items).ToHaveCountAsync(2);
        var (_, gallery) = await s.Get("/api/gallery");
        Assert.Equal(2, gallery!.AsArray().Count);

        // Compare: one prompt and seed under four solvers and two step counts, time and NFE under each image.
        await page.ClickAsync("#tab-compare");
        await page.FillAsync("#cmp-prompt", "a bag");
        await page.FillAsync("#cmp-steps", "4, 8");
        await page.ClickAsync("#cmp-run");
        await Assertions.Expect(page.Locator("#cmp-status")).ToHaveTextAsync("done: 8 images");
        var cells = page.Locator("#cmp-grid td.cell.done");
        await Assertions.Expect(cells).ToHaveCountAsync(8);
        await Assertions.Expect(page.Locator("#cmp-grid td[data-solver='stork-4'][data-steps='8'] .meta")).ToContainTextAsync("8 NFE");
        await Screenshot(page, "serve-compare.png");

        Assert.Empty(consoleErrors);
        var (_, health) = await s.Get("/health");
        Assert.Equal(0, health!["models"]![0]!["waiting"]!.GetValue<int>());
        Assert.IsType<JsonObject>(health);
    }

    [SkippableFact]
    public async Task The_page_inpaints_an_uploaded_image_with_a_painted_mask_and_reruns_with_the_same_inputs()
    {
        Skip.IfNot(File.Exists(Chromium), $"{Chromium} is not installed (apt-get install chromium; .ci/run installs it).");
        await using var s = await TestServer.StartAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true });
        var (page, consoleErrors) = await OpenPage(browser);

        // A coat the model made, in the gallery when the page opens: the input image below.
        var (_, made) = await s.PostJson("/api/generate", """{"prompt": "a coat", "seed": 2, "steps": 12}""");
        byte[] coat = await s.Client.GetByteArrayAsync(made!["images"]![0]!.GetValue<string>());
        await page.GotoAsync(s.Server.Url.ToString());
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("ready");
        await Assertions.Expect(page.Locator("#gallery .item")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#mask-state")).ToContainTextAsync("text to image");

        // Upload the coat as the input image: it shows on the canvas; without a mask the run would be img2img.
        await page.SetInputFilesAsync("#image-file", new FilePayload { Name = "coat.png", MimeType = "image/png", Buffer = coat });
        await Assertions.Expect(page.Locator("#canvas-stack")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#mask-state")).ToContainTextAsync("img2img");

        // Paint a stroke down the left sleeve with the brush: the mask, inpainting.
        var box = (await page.Locator("#mask-canvas").BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + (box.Width * 0.27f), box.Y + (box.Height * 0.2f));
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(box.X + (box.Width * 0.27f), box.Y + (box.Height * 0.8f), new() { Steps = 6 });
        await page.Mouse.UpAsync();
        await Assertions.Expect(page.Locator("#mask-state")).ToContainTextAsync("inpainting");
        await page.Locator("#strength").FillAsync("0.8");

        await page.FillAsync("#prompt", "a shirt");
        await page.FillAsync("#steps", "8");
        await page.ClickAsync("#generate");
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("done in");
        var items = page.Locator("#gallery .item");
        await Assertions.Expect(items).ToHaveCountAsync(2);
        await Assertions.Expect(items.First.Locator("img.input-thumb[data-role='image']")).ToHaveCountAsync(1);
        await Assertions.Expect(items.First.Locator("img.input-thumb[data-role='mask']")).ToHaveCountAsync(1);
        await Assertions.Expect(items.First.Locator(".settings")).ToContainTextAsync("FluxInpaintPipeline strength 0.8");

        // The server got the painted mask: white under the stroke, black far from it; the image as uploaded.
        var (_, gallery) = await s.Get("/api/gallery");
        var job = gallery![0]!;
        Assert.Equal(TestImages.Hash(Imaging.ImageFile.Decode(coat)), job["settings"]!["inputs"]!["image"]!.GetValue<string>());
        var mask = Imaging.ImageFile.Decode(await s.Client.GetByteArrayAsync(job["inputs"]!["mask"]!.GetValue<string>()));
        Assert.Equal(255, mask[8, 16].R);
        Assert.Equal(0, mask[28, 16].R);

        // Re-run with seed + 1: same inputs (same hashes), another image.
        await items.First.Locator("button.rerun-button", new() { HasText = "seed + 1" }).ClickAsync();
        await Assertions.Expect(items).ToHaveCountAsync(3);
        await Assertions.Expect(items.First.Locator("img.input-thumb")).ToHaveCountAsync(2);
        var (_, after) = await s.Get("/api/gallery");
        Assert.Equal(job["settings"]!["inputs"]!.ToJsonString(), after![0]!["settings"]!["inputs"]!.ToJsonString());
        Assert.Equal(job["settings"]!["seed"]!.GetValue<long>() + 1, after[0]!["settings"]!["seed"]!.GetValue<long>());
        await Screenshot(page, "serve-inpaint.png");
        Assert.Empty(consoleErrors);
    }

    private static async Task Screenshot(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("STORK_SCREENSHOT_DIR") is { Length: > 0 } dir)
        {
            await page.EvaluateAsync("window.scrollTo(0, 0)");
            await page.ScreenshotAsync(new() { Path = Path.Combine(dir, name), FullPage = true });
        }
    }

    /// <summary>A page with generous waits (CI machines are shared; the assertions wait for the page, they do not time it) and its console errors collected.</summary>
    private static async Task<(IPage Page, List<string> ConsoleErrors)> OpenPage(IBrowser browser)
    {
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1100, Height = 820 } });
        page.SetDefaultTimeout(180_000);
        Assertions.SetDefaultExpectTimeout(180_000);
        var consoleErrors = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                consoleErrors.Add(m.Text);
            }
        };
        return (page, consoleErrors);
    }
}
