// Automatic1111 requests as Open WebUI's image generation posts them (backend/open_webui/routers/images.py):
// the model list, the current checkpoint, setting it, then txt2img with Basic credentials, images read as base64.
// Usage: node a1111-openwebui.mjs BASE_URL API_KEY   (prints one JSON line; exit 1 on any mismatch)
const [baseUrl, apiKey] = process.argv.slice(2);
const auth = 'Basic ' + Buffer.from(`user:${apiKey}`).toString('base64');
const fail = (message) => { console.error(message); process.exit(1); };

async function call(method, path, body) {
  const response = await fetch(new URL(path, baseUrl), {
    method,
    headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json();
  return { status: response.status, data };
}

const models = await call('GET', '/sdapi/v1/sd-models');
if (models.status !== 200 || !models.data.length) fail(`sd-models: ${models.status}`);
const options = await call('GET', '/sdapi/v1/options');
if (options.data.sd_model_checkpoint !== models.data[0].title) fail('options: wrong checkpoint');
const set = await call('POST', '/sdapi/v1/options', { sd_model_checkpoint: models.data[0].title });
if (set.status !== 200) fail(`set options: ${set.status}`);
const samplers = await call('GET', '/sdapi/v1/samplers');
if (!samplers.data.some((s) => s.name === 'DPM++ 2M')) fail('samplers: no DPM++ 2M');

// Open WebUI's payload: prompt, batch_size, width, height, optional steps, negative_prompt, cfg_scale, sampler_name, scheduler.
const payload = { prompt: 'a bag', batch_size: 1, width: 32, height: 32, steps: 6, negative_prompt: 'blurry', cfg_scale: 3.5, sampler_name: 'Euler', scheduler: 'Automatic' };
const r = await call('POST', '/sdapi/v1/txt2img', payload);
if (r.status !== 200) fail(`txt2img: ${r.status} ${JSON.stringify(r.data)}`);
const png = Buffer.from(r.data.images[0], 'base64');
if (png.readUInt32BE(0) !== 0x89504e47) fail('txt2img: not a PNG');
const info = JSON.parse(r.data.info);
if (info.sampler_name !== 'Euler' || info.steps !== 6 || info.width !== 32) fail(`txt2img info: ${r.data.info}`);

const bad = await call('POST', '/sdapi/v1/txt2img', { ...payload, sampler_name: 'Euler a' });
if (bad.status !== 400 || !/sampler/.test(bad.data.detail)) fail(`bad sampler: ${bad.status}`);
console.log(JSON.stringify({ ok: true, images: r.data.images.length, seed: info.seed, bad_sampler: bad.status }));
