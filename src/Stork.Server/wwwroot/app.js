// stork serve's page: plain JavaScript over the own JSON API (/api). No build step, nothing loaded from elsewhere.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { models: [], solvers: [], current: null, compare: null };

function headers(json) {
  const h = {};
  const key = $('api-key').value.trim();
  if (key) h['Authorization'] = 'Bearer ' + key;
  if (json) h['Content-Type'] = 'application/json';
  return h;
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.body !== undefined) });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    const message = data && (typeof data.error === 'string' ? data.error : data.error?.message || data.detail);
    throw new Error(message || `HTTP ${response.status}`);
  }
  return data;
}

async function imageUrl(path) {
  const response = await fetch(path, { headers: headers(false) });
  if (!response.ok) throw new Error(`image ${path}: HTTP ${response.status}`);
  return URL.createObjectURL(await response.blob());
}

// Submits a job and follows its server-sent events until the end. Aborting `signal` closes the stream, which
// cancels the job on the server; the final event's data (the job) is returned.
async function runJob(body, onEvent, signal) {
  const job = await api('/api/jobs', { method: 'POST', body: JSON.stringify(body) });
  onEvent('submitted', job);
  const response = await fetch(`/api/jobs/${job.id}/events`, { headers: headers(false), signal });
  if (!response.ok) throw new Error(`events: HTTP ${response.status}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = 'message', data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) type = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      const payload = data ? JSON.parse(data) : {};
      onEvent(type, payload);
      if (type === 'done' || type === 'failed' || type === 'cancelled') return payload;
    }
  }
  return api(`/api/jobs/${job.id}`);
}

// ---- Image input: the input image, a mask painted on a canvas (or uploaded), the strength and a control image.
// The mask canvas holds the painted area in its alpha channel, at the input image's own size; it is sent as a grey
// PNG (white = repaint) only when something is painted.
const input = { image: null, width: 0, height: 0, control: null, erasing: false, painting: false, last: null };

function readFileAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function loadImageElement(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('the file is not an image the browser can read'));
    img.src = src;
  });
}

async function blobUrlToDataUrl(path) {
  const response = await fetch(path, { headers: headers(false) });
  if (!response.ok) throw new Error(`input ${path}: HTTP ${response.status}`);
  return readFileAsDataUrl(await response.blob());
}

async function setInputImage(dataUrl, resize = true) {
  const img = await loadImageElement(dataUrl);
  input.image = dataUrl;
  input.width = img.naturalWidth;
  input.height = img.naturalHeight;
  for (const canvas of [$('image-canvas'), $('mask-canvas')]) {
    canvas.width = input.width;
    canvas.height = input.height;
  }
  $('image-canvas').getContext('2d').drawImage(img, 0, 0);
  const stack = $('canvas-stack');
  stack.style.height = `${Math.round(240 * input.height / input.width)}px`;
  stack.hidden = false;
  $('drop-hint').hidden = true;
  $('image-remove').disabled = false;
  if (resize) {
    // The output takes the image's size, rounded down to a multiple of 16 (the form's fields can change it).
    $('width').value = Math.max(16, Math.floor(input.width / 16) * 16);
    $('height').value = Math.max(16, Math.floor(input.height / 16) * 16);
  }
  updateMaskState();
}

function removeInputImage() {
  input.image = null;
  $('canvas-stack').hidden = true;
  $('drop-hint').hidden = false;
  $('image-remove').disabled = true;
  $('image-file').value = '';
  fillDefaults();
  updateMaskState();
}

function maskPainted() {
  if (!input.image) return false;
  const data = $('mask-canvas').getContext('2d').getImageData(0, 0, input.width, input.height).data;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) return true;
  return false;
}

function updateMaskState() {
  const family = model()?.family ?? '';
  $('strength-row').hidden = family === 'FluxKontextPipeline' || family === 'FluxControlPipeline';
  $('control-row').hidden = family !== 'FluxControlPipeline';
  $('mask-state').textContent = !input.image ? 'no input image: text to image'
    : maskPainted() ? 'mask: the painted area is repainted (inpainting)' : 'no mask: img2img on the whole image';
}

function paintAt(x, y) {
  const ctx = $('mask-canvas').getContext('2d');
  const radius = Number($('brush-size').value) * Math.max(input.width, input.height) / 240;
  ctx.globalCompositeOperation = input.erasing ? 'destination-out' : 'source-over';
  ctx.strokeStyle = ctx.fillStyle = '#ff3b3b';
  ctx.lineCap = 'round';
  ctx.lineWidth = 2 * radius;
  ctx.beginPath();
  if (input.last) {
    ctx.moveTo(input.last.x, input.last.y);
    ctx.lineTo(x, y);
    ctx.stroke();
  } else {
    ctx.arc(x, y, radius, 0, 2 * Math.PI);
    ctx.fill();
  }
  input.last = { x, y };
}

function canvasPoint(e) {
  const canvas = $('mask-canvas');
  const rect = canvas.getBoundingClientRect();
  return { x: (e.clientX - rect.left) * canvas.width / rect.width, y: (e.clientY - rect.top) * canvas.height / rect.height };
}

// Alpha to and from the mask canvas: a grey PNG (white = repaint) is what the API takes.
function maskDataUrl() {
  const source = $('mask-canvas').getContext('2d').getImageData(0, 0, input.width, input.height);
  const out = document.createElement('canvas');
  out.width = input.width;
  out.height = input.height;
  const ctx = out.getContext('2d');
  const grey = ctx.createImageData(input.width, input.height);
  for (let i = 0; i < source.data.length; i += 4) {
    const v = source.data[i + 3];
    grey.data[i] = grey.data[i + 1] = grey.data[i + 2] = v;
    grey.data[i + 3] = 255;
  }
  ctx.putImageData(grey, 0, 0);
  return out.toDataURL('image/png');
}

async function setMaskFromImage(dataUrl) {
  const img = await loadImageElement(dataUrl);
  const tmp = document.createElement('canvas');
  tmp.width = input.width;
  tmp.height = input.height;
  const t = tmp.getContext('2d');
  t.drawImage(img, 0, 0, input.width, input.height);
  const grey = t.getImageData(0, 0, input.width, input.height);
  const ctx = $('mask-canvas').getContext('2d');
  const mask = ctx.createImageData(input.width, input.height);
  for (let i = 0; i < grey.data.length; i += 4) {
    mask.data[i] = 255; mask.data[i + 1] = 59; mask.data[i + 2] = 59;
    mask.data[i + 3] = Math.round(0.299 * grey.data[i] + 0.587 * grey.data[i + 1] + 0.114 * grey.data[i + 2]);
  }
  ctx.putImageData(mask, 0, 0);
  updateMaskState();
}

function invertMask() {
  if (!input.image) return;
  const ctx = $('mask-canvas').getContext('2d');
  const mask = ctx.getImageData(0, 0, input.width, input.height);
  for (let i = 0; i < mask.data.length; i += 4) {
    mask.data[i] = 255; mask.data[i + 1] = 59; mask.data[i + 2] = 59;
    mask.data[i + 3] = 255 - mask.data[i + 3];
  }
  ctx.putImageData(mask, 0, 0);
  updateMaskState();
}

function initImagePanel() {
  $('image-file').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    if (file) await setInputImage(await readFileAsDataUrl(file)).catch((err) => setStatus('status', err.message, true));
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', async (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer.files[0];
    if (file) await setInputImage(await readFileAsDataUrl(file)).catch((err) => setStatus('status', err.message, true));
  });
  const canvas = $('mask-canvas');
  canvas.addEventListener('pointerdown', (e) => {
    if (!input.image) return;
    input.painting = true;
    input.last = null;
    canvas.setPointerCapture(e.pointerId);
    const p = canvasPoint(e);
    paintAt(p.x, p.y);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!input.painting) return;
    const p = canvasPoint(e);
    paintAt(p.x, p.y);
  });
  const stop = () => { if (input.painting) { input.painting = false; input.last = null; updateMaskState(); } };
  canvas.addEventListener('pointerup', stop);
  canvas.addEventListener('pointercancel', stop);
  $('mask-brush').addEventListener('click', () => { input.erasing = false; $('mask-brush').classList.add('active'); $('mask-eraser').classList.remove('active'); });
  $('mask-eraser').addEventListener('click', () => { input.erasing = true; $('mask-eraser').classList.add('active'); $('mask-brush').classList.remove('active'); });
  $('mask-clear').addEventListener('click', () => {
    $('mask-canvas').getContext('2d').clearRect(0, 0, input.width, input.height);
    updateMaskState();
  });
  $('mask-invert').addEventListener('click', invertMask);
  $('mask-file').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    if (!input.image) { setStatus('status', 'load the input image first, then its mask', true); return; }
    await setMaskFromImage(await readFileAsDataUrl(file)).catch((err) => setStatus('status', err.message, true));
  });
  $('control-file').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    input.control = file ? await readFileAsDataUrl(file) : null;
    $('control-preview').hidden = !input.control;
    if (input.control) $('control-preview').src = input.control;
  });
  $('strength').addEventListener('input', () => { $('strength-value').textContent = $('strength').value; });
  $('image-remove').addEventListener('click', removeInputImage);
}

// A gallery job's image inputs as data URLs, added to a request (re-runs use the same inputs).
async function withInputs(job, request) {
  const body = { ...request };
  for (const [role, path] of Object.entries(job.inputs ?? {})) body[role] = await blobUrlToDataUrl(path);
  return body;
}

function setStatus(id, text, error = false) {
  const el = $(id);
  el.textContent = text;
  el.classList.toggle('error', error);
}

function model() { return state.models.find((m) => m.name === $('model').value) || state.models[0]; }

function fillDefaults() {
  const m = model();
  if (!m) return;
  const d = m.defaults;
  $('steps').value = d.steps;
  $('width').value = d.width;
  $('height').value = d.height;
  $('guidance').value = d.true_cfg_scale ?? d.guidance_scale ?? '';
  $('negative').placeholder = d.negative_prompt != null ? `(model default: "${d.negative_prompt}")` : '(none)';
}

function renderSchedulerOptions() {
  const box = $('scheduler-options');
  box.textContent = '';
  const solver = state.solvers.find((s) => s.name === $('scheduler').value);
  if (!solver) return;
  for (const option of solver.options) {
    const label = document.createElement('label');
    label.textContent = option.key + ' ';
    label.title = option.description;
    const input = document.createElement('input');
    input.type = 'text';
    input.size = 8;
    input.placeholder = '(default)';
    input.title = option.description;
    input.dataset.option = option.key;
    input.id = 'opt-' + option.key;
    label.append(input);
    box.append(label);
  }
}

function numberOrNull(id) {
  const v = $(id).value.trim();
  return v === '' ? null : Number(v);
}

function readForm() {
  const m = model();
  const body = {
    model: m.name,
    prompt: $('prompt').value,
    steps: numberOrNull('steps'),
    width: numberOrNull('width'),
    height: numberOrNull('height'),
    seed: numberOrNull('seed') ?? 0,
    count: numberOrNull('count') ?? 1,
    preview: true,
  };
  const negative = $('negative').value;
  if (negative) body.negative_prompt = negative;
  const guidance = numberOrNull('guidance');
  if (guidance != null) {
    if (m.defaults.true_cfg_scale != null) body.true_cfg_scale = guidance; else body.guidance_scale = guidance;
  }
  if (input.image) {
    body.image = input.image;
    if (!$('strength-row').hidden) body.strength = Number($('strength').value);
    if (maskPainted()) body.mask = maskDataUrl();
  }
  if (input.control && !$('control-row').hidden) body.control_image = input.control;
  const name = $('scheduler').value;
  if (name) {
    body.scheduler = { name };
    for (const input of $('scheduler-options').querySelectorAll('[data-option]')) {
      if (input.value === '') continue;
      body.scheduler[input.dataset.option] = input.value.trim();
    }
  }
  return body;
}

function describe(job) {
  const s = job.settings || {};
  const parts = [`"${s.prompt}"`, `seed ${s.seed}`, `${s.steps} steps`, s.scheduler, `${s.width}x${s.height}`];
  if (s.true_cfg_scale != null) parts.push(`true CFG ${s.true_cfg_scale}`);
  if (s.guidance_scale != null) parts.push(`guidance ${s.guidance_scale}`);
  if (s.negative_prompt) parts.push(`negative "${s.negative_prompt}"`);
  if (job.inputs) parts.push(s.pipeline + (s.strength != null ? ` strength ${s.strength}` : ''));
  parts.push(`${job.nfe} NFE`, `${job.seconds} s`, job.model);
  return parts.join(' \u00b7 ');
}

async function generate(body) {
  if (state.current) return;
  const controller = new AbortController();
  state.current = { controller, id: null };
  $('generate').disabled = true;
  $('cancel').disabled = false;
  $('live').hidden = false;
  $('preview').textContent = '';
  $('progress').value = 0;
  setStatus('status', 'submitting\u2026');
  try {
    const job = await runJob(body, (type, data) => {
      if (type === 'submitted') { state.current.id = data.id; setStatus('status', `queued (job ${data.id.slice(0, 8)})`); }
      else if (type === 'started') setStatus('status', 'running');
      else if (type === 'progress') {
        $('progress').max = data.steps || 1;
        $('progress').value = data.stage === 'denoising' ? data.step : data.stage === 'decoding' ? data.steps : 0;
        setStatus('status', data.stage === 'denoising' ? `step ${data.step} of ${data.steps}` : data.stage.replace('_', ' '));
      } else if (type === 'preview') {
        const box = $('preview');
        box.textContent = '';
        for (const src of data.images) {
          const img = new Image();
          img.src = src;
          img.alt = `step ${data.step}`;
          img.className = 'step-preview';
          img.dataset.step = data.step;
          box.append(img);
        }
      }
    }, controller.signal);
    if (job.state === 'done') {
      setStatus('status', `done in ${job.seconds} s (${job.nfe} NFE)`);
      await addToGallery(job, true);
    } else if (job.state === 'cancelled') setStatus('status', 'cancelled');
    else setStatus('status', job.error || job.state, true);
  } catch (e) {
    setStatus('status', e.name === 'AbortError' ? 'cancelled' : e.message, e.name !== 'AbortError');
  } finally {
    state.current = null;
    $('generate').disabled = false;
    $('cancel').disabled = true;
  }
}

async function cancelCurrent() {
  const current = state.current;
  if (!current) return;
  if (current.id) { try { await api(`/api/jobs/${current.id}/cancel`, { method: 'POST' }); } catch { /* already over */ } }
  current.controller.abort();
}

async function addToGallery(job, first) {
  if (document.querySelector(`.item[data-job="${job.id}"]`)) return;
  const item = document.createElement('div');
  item.className = 'item';
  item.dataset.job = job.id;
  const images = document.createElement('div');
  images.className = 'images';
  for (const path of job.images) {
    const img = new Image();
    img.alt = job.settings.prompt;
    img.src = await imageUrl(path);
    images.append(img);
  }
  const settings = document.createElement('div');
  settings.className = 'settings';
  settings.textContent = describe(job);
  let inputs = null;
  if (job.inputs) {
    inputs = document.createElement('div');
    inputs.className = 'inputs';
    inputs.append('input');
    for (const [role, path] of Object.entries(job.inputs)) {
      const img = new Image();
      img.alt = role;
      img.title = role.replace('_', ' ');
      img.className = 'input-thumb';
      img.dataset.role = role;
      img.src = await imageUrl(path);
      inputs.append(img);
    }
  }
  const rerun = document.createElement('div');
  rerun.className = 'rerun';
  const variations = [
    ['seed + 1', (r) => ({ ...r, seed: (r.seed ?? 0) + 1 })],
    ['steps \u00d7 2', (r) => ({ ...r, steps: job.settings.steps * 2 })],
    ['steps \u00f7 2', (r) => ({ ...r, steps: Math.max(1, Math.round(job.settings.steps / 2)) })],
  ];
  if (job.settings.strength != null) {
    for (const x of [0.4, 0.8]) {
      if (x !== job.settings.strength) variations.push([`strength ${x}`, (r) => ({ ...r, strength: x })]);
    }
  }
  for (const s of state.solvers.slice(0, 6)) {
    if (s.name !== job.settings.scheduler) variations.push([s.name, (r) => ({ ...r, scheduler: { name: s.name } })]);
  }
  for (const [label, change] of variations) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.title = 'Re-run with this one setting changed';
    b.className = 'rerun-button';
    b.addEventListener('click', async () => generate(await withInputs(job, { ...change({ ...job.request }), preview: true })));
    rerun.append(b);
  }
  const edit = document.createElement('button');
  edit.type = 'button';
  edit.textContent = 'edit\u2026';
  edit.title = 'Load these settings into the form';
  edit.addEventListener('click', () => loadIntoForm(job));
  rerun.append(edit);
  if (inputs) item.append(inputs);
  item.append(images, settings, rerun);
  const gallery = $('gallery');
  if (first) gallery.prepend(item); else gallery.append(item);
}

async function loadIntoForm(job) {
  const r = job.request, s = job.settings;
  if (job.inputs?.image) {
    await setInputImage(await blobUrlToDataUrl(job.inputs.image), false);
    $('mask-canvas').getContext('2d').clearRect(0, 0, input.width, input.height);
    if (job.inputs.mask) await setMaskFromImage(await blobUrlToDataUrl(job.inputs.mask));
    if (s.strength != null) { $('strength').value = s.strength; $('strength-value').textContent = s.strength; }
  } else if (input.image) removeInputImage();
  $('model').value = job.model;
  $('prompt').value = s.prompt;
  $('negative').value = r.negative_prompt ?? '';
  $('steps').value = s.steps;
  $('width').value = s.width;
  $('height').value = s.height;
  $('seed').value = s.seed;
  $('count').value = s.count;
  $('guidance').value = s.true_cfg_scale ?? s.guidance_scale ?? '';
  $('scheduler').value = r.scheduler?.name ?? '';
  renderSchedulerOptions();
  for (const [k, v] of Object.entries(r.scheduler ?? {})) {
    const input = $('opt-' + k.replaceAll('_', '-'));
    if (input) input.value = v;
  }
  updateMaskState();
  window.scrollTo(0, 0);
}

async function runCompare() {
  const solvers = [...$('cmp-solvers').querySelectorAll('input:checked')].map((i) => i.value);
  const steps = $('cmp-steps').value.split(',').map((s) => parseInt(s.trim(), 10)).filter((n) => n > 0);
  if (!solvers.length || !steps.length) { setStatus('cmp-status', 'choose at least one solver and one step count', true); return; }
  const controller = new AbortController();
  state.compare = controller;
  $('cmp-run').disabled = true;
  $('cmp-cancel').disabled = false;
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  head.insertCell().outerHTML = '<th>solver \\ steps</th>';
  for (const n of steps) { const th = document.createElement('th'); th.textContent = n; head.append(th); }
  const cells = {};
  for (const s of solvers) {
    const row = table.insertRow();
    const th = document.createElement('th');
    th.textContent = s;
    row.append(th);
    for (const n of steps) { const td = row.insertCell(); td.className = 'cell'; td.dataset.solver = s; td.dataset.steps = n; td.textContent = '\u2026'; cells[s + '|' + n] = td; }
  }
  $('cmp-grid').textContent = '';
  $('cmp-grid').append(table);
  const total = solvers.length * steps.length;
  let finished = 0;
  try {
    for (const s of solvers) {
      for (const n of steps) {
        if (controller.signal.aborted) throw new DOMException('cancelled', 'AbortError');
        setStatus('cmp-status', `${s}, ${n} steps (${finished + 1} of ${total})`);
        const body = { model: $('cmp-model').value, prompt: $('cmp-prompt').value, seed: numberOrNull('cmp-seed') ?? 0, steps: n, count: 1, scheduler: { name: s } };
        const job = await runJob(body, () => {}, controller.signal);
        const td = cells[s + '|' + n];
        td.textContent = '';
        if (job.state === 'done') {
          const img = new Image();
          img.alt = `${s}, ${n} steps`;
          img.src = await imageUrl(job.images[0]);
          const meta = document.createElement('div');
          meta.className = 'meta';
          meta.textContent = `${job.seconds} s \u00b7 ${job.nfe} NFE`;
          td.append(img, meta);
          td.classList.add('done');
        } else {
          td.textContent = job.error || job.state;
          td.classList.add('error');
        }
        finished++;
      }
    }
    setStatus('cmp-status', `done: ${total} images`);
  } catch (e) {
    setStatus('cmp-status', e.name === 'AbortError' ? `cancelled after ${finished} of ${total}` : e.message, e.name !== 'AbortError');
  } finally {
    state.compare = null;
    $('cmp-run').disabled = false;
    $('cmp-cancel').disabled = true;
  }
}

async function init() {
  $('api-key').value = localStorage.getItem('stork-api-key') || '';
  $('api-key').addEventListener('change', () => { localStorage.setItem('stork-api-key', $('api-key').value.trim()); load(); });
  for (const tab of document.querySelectorAll('.tab')) {
    tab.addEventListener('click', () => {
      for (const t of document.querySelectorAll('.tab')) t.classList.toggle('active', t === tab);
      for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== tab.dataset.view;
    });
  }
  $('form').addEventListener('submit', (e) => { e.preventDefault(); generate(readForm()); });
  $('cancel').addEventListener('click', cancelCurrent);
  $('random-seed').addEventListener('click', () => { $('seed').value = Math.floor(Math.random() * 4294967295); });
  $('model').addEventListener('change', () => { fillDefaults(); updateMaskState(); });
  initImagePanel();
  $('scheduler').addEventListener('change', renderSchedulerOptions);
  $('compare-form').addEventListener('submit', (e) => { e.preventDefault(); runCompare(); });
  $('cmp-cancel').addEventListener('click', () => state.compare?.abort());
  await load();
}

async function load() {
  try {
    [state.models, state.solvers] = await Promise.all([api('/api/models'), api('/api/solvers')]);
  } catch (e) {
    setStatus('status', e.message, true);
    return;
  }
  for (const select of [$('model'), $('cmp-model')]) {
    select.textContent = '';
    for (const m of state.models) select.add(new Option(`${m.name} (${m.family})`, m.name));
  }
  const scheduler = $('scheduler');
  scheduler.textContent = '';
  scheduler.add(new Option('(model default)', ''));
  for (const s of state.solvers) scheduler.add(new Option(s.a1111_name ? `${s.name} (${s.a1111_name})` : s.name, s.name));
  const box = $('cmp-solvers');
  box.textContent = '';
  for (const s of state.solvers) {
    const label = document.createElement('label');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.value = s.name;
    input.checked = ['stork-4', 'unipc', 'dpm++2m', 'euler'].includes(s.name);
    label.append(input, ' ' + s.name);
    label.title = s.description;
    box.append(label);
  }
  fillDefaults();
  renderSchedulerOptions();
  updateMaskState();
  $('gallery').textContent = '';
  for (const job of await api('/api/gallery')) await addToGallery(job, false);
  setStatus('status', 'ready');
}

init();
