// The official OpenAI client (npm "openai") against stork serve's /v1/images/edits, as its documentation shows it:
// client.images.edit({ image: fs.createReadStream(..), mask: fs.createReadStream(..), prompt }).
// Usage: node openai-edits.mjs BASE_URL API_KEY IMAGE.png MASK.png   (prints one JSON line; exit 1 on any mismatch)
import fs from 'node:fs';
import OpenAI from 'openai';

const [baseUrl, apiKey, imagePath, maskPath] = process.argv.slice(2);
const client = new OpenAI({ baseURL: new URL('/v1', baseUrl).toString(), apiKey, maxRetries: 0 });
const fail = (message) => { console.error(message); process.exit(1); };
const isPng = (b64, size) => {
  const png = Buffer.from(b64, 'base64');
  return png.readUInt32BE(0) === 0x89504e47 && png.readUInt32BE(16) === size && png.readUInt32BE(20) === size;
};

// Inpainting: the mask's fully transparent pixels mark where to edit.
const result = await client.images.edit({
  image: fs.createReadStream(imagePath),
  mask: fs.createReadStream(maskPath),
  prompt: 'a red sleeve',
  n: 2,
  size: '32x32',
  response_format: 'b64_json',
});
if (!(result.created > 0) || result.data.length !== 2) fail(`unexpected answer: ${JSON.stringify(result).slice(0, 200)}`);
if (!result.data.every((d) => isPng(d.b64_json, 32))) fail('not 32x32 PNGs');

// Without a mask an opaque image is edited as a whole (img2img); the client's toFile helper works as well.
const whole = await client.images.edit({ image: await OpenAI.toFile(fs.readFileSync(imagePath), 'image.png', { type: 'image/png' }), prompt: 'a bag' });
if (whole.data.length !== 1 || !isPng(whole.data[0].b64_json, 32)) fail(`img2img edit: ${JSON.stringify(whole).slice(0, 200)}`);

// A mask of another size is an OpenAI-style 400 that the client raises as BadRequestError.
let badRequest = null;
try {
  await client.images.edit({ image: fs.createReadStream(imagePath), mask: await OpenAI.toFile(Buffer.from('not a png'), 'mask.png'), prompt: 'x' });
} catch (e) {
  badRequest = e;
}
if (!(badRequest instanceof OpenAI.BadRequestError) || !/mask/.test(badRequest.message)) fail(`expected BadRequestError about the mask, got ${badRequest}`);

console.log(JSON.stringify({ ok: true, images: result.data.length, whole: whole.data.length, bad_request: badRequest.status }));
