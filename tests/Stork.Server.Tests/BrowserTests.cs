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
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1100, Height = 820 } });
        // Generous waits: CI machines are shared; the assertions wait for the page, they do not time it.
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

    private static async Task Screenshot(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("STORK_SCREENSHOT_DIR") is { Length: > 0 } dir)
        {
            await page.EvaluateAsync("window.scrollTo(0, 0)");
            await page.ScreenshotAsync(new() { Path = Path.Combine(dir, name), FullPage = true });
        }
    }
}
