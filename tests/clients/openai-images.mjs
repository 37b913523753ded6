// The official OpenAI client (npm "openai") against stork serve's /v1/images/generations.
// Usage: node openai-images.mjs BASE_URL API_KEY   (prints one JSON line; exit 1 on any mismatch)
import OpenAI from 'openai';

const [baseUrl, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL: new URL('/v1', baseUrl).toString(), apiKey, maxRetries: 0 });
const fail = (message) => { console.error(message); process.exit(1); };

const result = await client.images.generate({ prompt: 'a sneaker', n: 2, size: '32x32', response_format: 'b64_json' });
if (!(result.created > 0) || result.data.length !== 2) fail(`unexpected answer: ${JSON.stringify(result).slice(0, 200)}`);
for (const image of result.data) {
  const png = Buffer.from(image.b64_json, 'base64');
  if (png.readUInt32BE(0) !== 0x89504e47 || png.readUInt32BE(16) !== 32 || png.readUInt32BE(20) !== 32) fail('not a 32x32 PNG');
}

// A bad size is an OpenAI-style 400 that the client raises as BadRequestError.
let badRequest = null;
try {
  await client.images.generate({ prompt: 'a sneaker', size: 'huge' });
} catch (e) {
  badRequest = e;
}
if (!(badRequest instanceof OpenAI.BadRequestError) || !/size/.test(badRequest.message)) fail(`expected BadRequestError about size, got ${badRequest}`);

// A wrong key is an AuthenticationError.
let unauthorized = null;
try {
  await new OpenAI({ baseURL: new URL('/v1', baseUrl).toString(), apiKey: 'wrong-key-123', maxRetries: 0 }).images.generate({ prompt: 'x' });
} catch (e) {
  unauthorized = e;
}
if (!(unauthorized instanceof OpenAI.AuthenticationError)) fail(`expected AuthenticationError, got ${unauthorized}`);

console.log(JSON.stringify({ ok: true, images: result.data.length, bad_request: badRequest.status, unauthorized: unauthorized.status }));
