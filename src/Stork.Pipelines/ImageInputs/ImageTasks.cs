using Stork.Pipelines.Flux;
using Stork.Pipelines.QwenImage;
using Stork.Pipelines.StableDiffusion;

namespace Stork.Pipelines.ImageInputs;

/// <summary>
/// Which diffusers class a run is, from the folder's <c>_class_name</c> and the inputs given: a plain folder with an
/// image is the family's Img2Img class, with an image and a mask its Inpaint class; FLUX.1 Fill, Kontext and Control
/// folders and SD's 9-channel inpainting UNet have their own. An input the class cannot use is an error, as are the
/// inputs a class needs and did not get. Each class's strength default and how it sizes the output are here too.
/// </summary>
internal static class ImageTasks
{
    /// <summary>The task, the diffusers class it is, and the strength (the class's default when none is given).</summary>
    public sealed record Resolved(ImageTask Task, string PipelineClass, double? Strength);

    public static Resolved Resolve(Family family, ImageInputSet inputs)
    {
        string cls = family.Folder.PipelineClass;
        bool image = inputs.Image is not null, mask = inputs.Mask is not null, control = inputs.Control is not null;
        string where = $"'{family.Folder.Root}' ({family.Folder.ClassName})";
        if (mask && !image)
        {
            throw new ArgumentException("a mask needs the image to inpaint.");
        }

        if (inputs.Image is { } i && inputs.Mask is { } m && (i.Width != m.Width || i.Height != m.Height))
        {
            throw new ArgumentException($"the mask is {m.Width} x {m.Height} pixels and the image {i.Width} x {i.Height}: they must have the same size.");
        }

        if (inputs.Strength is { } s)
        {
            Strength.Validate(s);
            if (!image && !control)
            {
                throw new ArgumentException($"a strength of {s} needs an input image: text-to-image has none.");
            }
        }

        if (family is not FluxFamily && control)
        {
            throw new ArgumentException($"{where} takes no control image: control images are for FLUX.1 Control folders (FluxControlPipeline).");
        }

        switch (cls)
        {
            case "FluxFillPipeline":
                Require(image && mask, where, "FLUX.1 Fill needs an image and a mask");
                NoControl(control, where);
                return new(ImageTask.Fill, cls, inputs.Strength ?? 1.0);
            case "FluxKontextPipeline":
                NoControl(control, where);
                if (mask || inputs.Strength is not null)
                {
                    throw new ArgumentException($"{where} is FLUX.1 Kontext: it takes a reference image, no mask and no strength.");
                }

                return new(image ? ImageTask.Kontext : ImageTask.None, cls, null);
            case "FluxControlPipeline":
                Require(control, where, "FLUX.1 Control needs a control image");
                if (image || inputs.Strength is not null)
                {
                    throw new ArgumentException($"{where} is FLUX.1 Control: it takes a control image, no input image, mask or strength.");
                }

                return new(ImageTask.Control, cls, null);
        }

        NoControl(control, where);
        if (family is FluxFamily flux && flux.ExtraInputFeatures != 0)
        {
            throw new ArgumentException($"{where}: the transformer takes {flux.ExtraInputFeatures} features beyond the latents', but the class is not a Fill or Control pipeline.");
        }

        if (family is StableDiffusionXLFamily && family.Folder.Index.Bool("requires_aesthetics_score", false))
        {
            // SDXL refiner folders: time ids (H, W, top, left, aesthetic score 6.0 / negative 2.5) and CLIP-G alone.
            throw new ArgumentException(
                $"{where} sets requires_aesthetics_score (an SDXL refiner): its aesthetic-score time ids and single text encoder are not supported.");
        }

        if (family is StableDiffusionFamily { InputChannels: 9 })
        {
            Require(image && mask, where, "this 9-channel inpainting UNet needs an image and a mask");
            return new(ImageTask.InpaintNineChannel, "StableDiffusionInpaintPipeline", inputs.Strength ?? 1.0);
        }

        if (family is StableDiffusionFamily { InputChannels: not 4 } or StableDiffusionXLFamily { InputChannels: not 4 })
        {
            throw new ArgumentException($"{where}: a UNet with other than 4 input channels (9 for inpainting) is not supported.");
        }

        if (!image)
        {
            if (cls.EndsWith("Img2ImgPipeline", StringComparison.Ordinal) || cls.EndsWith("InpaintPipeline", StringComparison.Ordinal))
            {
                throw new ArgumentException($"{where} needs an input image{(cls.EndsWith("InpaintPipeline", StringComparison.Ordinal) ? " and a mask" : "")}.");
            }

            return new(ImageTask.None, cls, null);
        }

        string prefix = family switch
        {
            FluxFamily => "Flux",
            QwenImageFamily => "QwenImage",
            StableDiffusion3Family => "StableDiffusion3",
            StableDiffusionXLFamily => "StableDiffusionXL",
            _ => "StableDiffusion",
        };
        if (mask)
        {
            double inpaintDefault = family switch
            {
                FluxFamily or StableDiffusion3Family or QwenImageFamily => 0.6,
                StableDiffusionXLFamily => 0.9999,
                _ => 1.0,
            };
            return new(ImageTask.Inpaint, prefix + "InpaintPipeline", inputs.Strength ?? inpaintDefault);
        }

        if (cls.EndsWith("InpaintPipeline", StringComparison.Ordinal))
        {
            throw new ArgumentException($"{where} is an inpainting pipeline: give a mask with the image.");
        }

        double img2imgDefault = family switch
        {
            FluxFamily or StableDiffusion3Family or QwenImageFamily => 0.6,
            StableDiffusionXLFamily => 0.3,
            _ => 0.8,
        };
        return new(ImageTask.Img2Img, prefix + "Img2ImgPipeline", inputs.Strength ?? img2imgDefault);
    }

    /// <summary>
    /// Whether the class takes its size from the input image when none is requested (SD1.5/2.x, SDXL and SD3 Img2Img:
    /// the image's size rounded down to the size multiple); the others (FLUX.1, Qwen-Image) use the family's default size.
    /// </summary>
    public static bool SizeFromImage(Resolved task, Family family) =>
        task.Task == ImageTask.Img2Img && family is not (FluxFamily or QwenImageFamily);

    /// <summary>How the family rounds a strength.</summary>
    public static StrengthRounding Rounding(Family family) =>
        family.Scheduler == SchedulerKind.DiscreteVp ? StrengthRounding.RunFloor : StrengthRounding.RunCeiling;

    private static void Require(bool ok, string where, string what)
    {
        if (!ok)
        {
            throw new ArgumentException($"{where}: {what}.");
        }
    }

    private static void NoControl(bool control, string where)
    {
        if (control)
        {
            throw new ArgumentException($"{where} takes no control image: control images are for FLUX.1 Control folders (FluxControlPipeline).");
        }
    }
}
