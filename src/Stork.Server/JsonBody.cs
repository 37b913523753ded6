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
    }
}
