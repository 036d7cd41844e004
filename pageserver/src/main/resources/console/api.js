// The management API, called with the session cookie and the session's CSRF token.

let csrf = null;
let onUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message);
    this.status = status;
    this.code = error.code;
    this.sqlState = error.sqlState;
  }
}

export function configure(token, unauthorized) {
  csrf = token;
  onUnauthorized = unauthorized;
}

export const project = { name: 'default' };

export function enc(branch) {
  return encodeURIComponent(branch);
}

export function projectPath() {
  return `/v1/projects/${enc(project.name)}`;
}

export function branchPath(branch) {
  return `${projectPath()}/branches/${enc(branch)}`;
}

export async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : {};
  if (response.status === 401) onUnauthorized();
  if (!response.ok) throw new ApiError(response.status, json.error || { code: String(response.status), message: text });
  return json;
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body ?? {});
export const patch = (path, body) => request('PATCH', path, body);
export const del = (path) => request('DELETE', path);

export async function session() {
  const response = await fetch('/console/session', { credentials: 'same-origin' });
  return response.ok ? response.json() : null;
}

export async function login(token) {
  const response = await fetch('/console/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, credentials: 'same-origin',
    body: JSON.stringify({ token }),
  });
  const json = await response.json();
  if (!response.ok) throw new ApiError(response.status, json.error);
  return json;
}

export async function logout() {
  await fetch('/console/logout', { method: 'POST', headers: { 'X-CSRF-Token': csrf }, credentials: 'same-origin' });
}

/**
 * Branch names by the API's rules (catalog BranchName), checked while typing; on submit the
 * API's own message is shown in the same place.
 */
export function branchNameProblem(name) {
  if (!name) return 'branch name must not be empty';
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > 63) return `branch name is ${bytes} bytes long, the limit is 63 bytes`;
  const bad = [...name].find((c) => !/[\p{L}\p{N}\-_./]/u.test(c));
  if (bad) return `branch name contains ${/\s/.test(bad) ? 'whitespace' : `'${bad}'`}; allowed: letters, digits, '-', '_', '.' and '/'`;
  if (name.startsWith('/') || name.endsWith('/')) return "branch name must not start or end with '/'";
  if (name.includes('//')) return "branch name must not contain '//'";
  const dot = name.split('/').find((s) => s === '.' || s === '..');
  if (dot) return `branch name must not contain a '${dot}' segment`;
  return null;
}
