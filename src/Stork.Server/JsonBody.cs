using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Stork.Server;

/// <summary>
/// Endpoint metadata: the JSON type of the request body, for the OpenAPI document only. Handlers read the body
/// themselves, so any content type is taken and a malformed body gets a 400 naming the field (not a bare 415).
/// </summary>
internal sealed record JsonBody(Type Type)
{
    public static async Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<JsonBody>().FirstOrDefault() is { } body)
        {
            var schema = await context.GetOrCreateSchemaAsync(body.Type, null, cancellationToken).ConfigureAwait(false);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } },
            };
        }
        else if (context.Description.ActionDescriptor.EndpointMetadata.OfType<FormBody>().Any())
        {
            static OpenApiSchema Text(string description) => new() { Type = JsonSchemaType.String, Description = description };
            static OpenApiSchema File(string description) => new() { Type = JsonSchemaType.String, Format = "binary", Description = description };
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["multipart/form-data"] = new()
                    {
                        Schema = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object,
                            Required = new HashSet<string> { "image", "prompt" },
                            Properties = new Dictionary<string, IOpenApiSchema>
                            {
                                ["image"] = File("The image to edit (PNG or JPEG); without a mask its fully transparent pixels mark where to edit, an opaque image is edited as a whole."),
                                ["mask"] = File("PNG of the image's size whose fully transparent pixels (alpha 0) mark where to edit."),
                                ["prompt"] = Text("The prompt."),
                                ["model"] = Text("A served model's name; default the first."),
                                ["n"] = Text("Images, 1 to the server's max_count."),
                                ["size"] = Text("WIDTHxHEIGHT or auto (the model's class decides)."),
                                ["response_format"] = Text("b64_json only."),
                            },
                        },
                    },
                },
            };
        }
    }
}
