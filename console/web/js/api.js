// The console's one way to the JSON API. Paths are under /api/v1 ("/me" and
// "/api/v1/me" are the same). A cookie session sends its CSRF token on every change.

let csrf = '';
export function setCSRF(token) { csrf = token || ''; }

// ApiError is the API's error shape: {"error": {code, message, field}, "details"}.
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = e.code || 'http_' + status;
    this.field = e.field || '';
    this.details = body ? body.details : undefined;
  }
}

function url(path) { return path.startsWith('/api/') ? path : '/api/v1' + path; }

function changes(method) { return method !== 'GET' && method !== 'HEAD'; }

async function parse(status, text, contentType) {
  let body = null;
  if (text && /json/.test(contentType || '')) {
    try { body = JSON.parse(text); } catch { body = null; }
  }
  if (status >= 200 && status < 300) return body;
  if (status === 401) document.dispatchEvent(new CustomEvent('dialtone:unauthorized'));
  throw new ApiError(status, body);
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (changes(method) && csrf) headers['X-CSRF-Token'] = csrf;
  let r;
  try {
    r = await fetch(url(path), init);
  } catch (err) {
    throw new ApiError(0, { error: { code: 'network', message: String(err.message || err) } });
  }
  return parse(r.status, await r.text(), r.headers.get('Content-Type'));
}

// apiUpload sends a file (firmware, photo, CSV) with progress: onProgress(sent, total).
// opts: {method: 'POST' | 'PUT', contentType, query}.
export function apiUpload(path, file, onProgress, opts = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(opts.method || 'POST', url(path) + (opts.query || ''));
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', opts.contentType || file.type || 'application/octet-stream');
    if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf);
    if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new ApiError(0, { error: { code: 'network', message: 'network error' } }));
    xhr.onload = () => parse(xhr.status, xhr.responseText, xhr.getResponseHeader('Content-Type')).then(resolve, reject);
    xhr.send(file);
  });
}
