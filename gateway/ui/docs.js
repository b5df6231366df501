// Warden's API docs: every operation of /api/openapi.json, grouped by tag, with its parameters, request body and
// responses, and a "Try it" form that sends the request from this page. Nothing here knows a route: whatever paths the
// document holds are listed. Requests only ever go to the page's own origin (the document's `servers` are not used),
// with the browser's session cookie and, when one is given, the page's bearer token. Redirects are not followed, so
// an answer cannot lead the page elsewhere either. Text from the document and from answers is only ever set as
// textContent.

const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'options', 'head', 'trace'];
/** Where a "Try it" parameter can go; cookies are the browser's own. */
const SENT_PARAMETERS = ['path', 'query', 'header'];
/** How deep a schema is drawn or exampled; a schema that contains itself stops at its first repeat anyway. */
const MAX_DEPTH = 8;
/** The longest answer shown whole; a bigger one is cut, so a huge body cannot stall the page. */
const MAX_SHOWN = 200_000;

const state = {
  /** The OpenAPI document, as fetched. */
  document: null,
  /** One entry per operation, in the document's order: method, path, its list item and its group. */
  operations: [],
};

const $ = (id) => document.getElementById(id);

/** An element with a class and text (both optional) and children. */
function el(tag, className, text, ...children) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined && text !== null) element.textContent = String(text);
  element.append(...children);
  return element;
}

let lastId = 0;
const nextId = (prefix) => `${prefix}-${(lastId += 1)}`;

/** `text` with its `backticked` parts as code, as the document's descriptions write them. */
function inline(text) {
  const fragment = document.createDocumentFragment();
  String(text).split('`').forEach((part, index) => {
    if (part) fragment.append(index % 2 === 1 ? el('code', null, part) : document.createTextNode(part));
  });
  return fragment;
}

/** A description as paragraphs (blank lines between them). */
function prose(text, className = 'docs-text') {
  const box = el('div', className);
  for (const paragraph of String(text).split(/\n\s*\n/)) {
    if (paragraph.trim()) box.append(el('p', null, null, inline(paragraph.trim())));
  }
  return box;
}

const capitalized = (text) => text.charAt(0).toUpperCase() + text.slice(1);

// ---- reading the document ----

/** What a local `$ref` such as `#/components/schemas/Task` points at, or undefined. */
function pointer(ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return undefined;
  let value = state.document;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  return value;
}

/** An object with its `$ref`s followed; keys written beside a `$ref` win, as OpenAPI 3.1 has it. */
function deref(value, depth = 0) {
  if (value === null || typeof value !== 'object') return {};
  if (typeof value.$ref !== 'string' || depth > MAX_DEPTH) return value;
  const { $ref, ...siblings } = value;
  return { ...deref(pointer($ref), depth + 1), ...siblings };
}

function mergeSchemas(a, b) {
  const merged = { ...a, ...b };
  if (a.properties || b.properties) merged.properties = { ...a.properties, ...b.properties };
  if (a.required || b.required) merged.required = [...new Set([...(a.required ?? []), ...(b.required ?? [])])];
  return merged;
}

/**
 * A schema with its `$ref` followed and its `allOf` parts folded into one (properties and `required` joined, its own
 * keys winning), and the names of the components it came from: for labels, and to stop where a schema repeats.
 */
function flatten(schema, depth = 0) {
  if (schema === null || typeof schema !== 'object' || depth > MAX_DEPTH) return { schema: {}, names: [] };
  const names = [];
  let own = schema;
  if (typeof own.$ref === 'string') {
    const { $ref, ...siblings } = own;
    const target = flatten(pointer($ref), depth + 1);
    names.push($ref.split('/').pop(), ...target.names);
    own = { ...target.schema, ...siblings };
  }
  if (Array.isArray(own.allOf)) {
    const { allOf, ...rest } = own;
    let merged = {};
    for (const part of allOf) {
      const flat = flatten(part, depth + 1);
      names.push(...flat.names);
      merged = mergeSchemas(merged, flat.schema);
    }
    own = mergeSchemas(merged, rest);
  }
  return { schema: own, names };
}

/** The schema's one type: the first of a list that is not `null`, or what its keywords imply. */
function typeOf(schema) {
  if (Array.isArray(schema.type)) return schema.type.find((type) => type !== 'null') ?? 'null';
  if (typeof schema.type === 'string') return schema.type;
  if (schema.properties) return 'object';
  if (schema.items) return 'array';
  return undefined;
}

const alternativesOf = (schema) => (Array.isArray(schema.oneOf) ? schema.oneOf : schema.anyOf);

/** A short name for a schema's type: `string (date-time)`, `array of Task`, `map of string`, `one of`. */
function typeLabel(schema, names, depth = 0) {
  if (names.length) {
    const type = typeOf(schema);
    return type === 'object' || type === undefined ? names[0] : `${names[0]} (${type})`;
  }
  if (depth > MAX_DEPTH) return 'any';
  if (Array.isArray(schema.type)) return schema.type.join(' | ');
  const type = typeOf(schema);
  if (type === 'array') {
    const item = flatten(schema.items);
    return schema.items ? `array of ${typeLabel(item.schema, item.names, depth + 1)}` : 'array';
  }
  if (type === 'object' && !schema.properties && schema.additionalProperties
      && typeof schema.additionalProperties === 'object') {
    const value = flatten(schema.additionalProperties);
    return `map of ${typeLabel(value.schema, value.names, depth + 1)}`;
  }
  if (type) return schema.format ? `${type} (${schema.format})` : type;
  if (Array.isArray(schema.oneOf)) return 'one of';
  if (Array.isArray(schema.anyOf)) return 'any of';
  if (Array.isArray(schema.enum)) return 'enum';
  if ('const' in schema) return 'constant';
  return 'any';
}

/** The limits a schema sets, in words: allowed values, lengths, ranges, a default. */
function constraints(schema) {
  const said = [];
  const json = (value) => JSON.stringify(value);
  if (Array.isArray(schema.enum)) said.push(`one of ${schema.enum.map(json).join(', ')}`);
  if ('const' in schema) said.push(`always ${json(schema.const)}`);
  if (schema.pattern) said.push(`matches ${schema.pattern}`);
  if (schema.minLength !== undefined) said.push(`at least ${schema.minLength} characters`);
  if (schema.maxLength !== undefined) said.push(`at most ${schema.maxLength} characters`);
  if (schema.minimum !== undefined) said.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined) said.push(`≤ ${schema.maximum}`);
  if (schema.minItems !== undefined) said.push(`at least ${schema.minItems} items`);
  if (schema.maxItems !== undefined) said.push(`at most ${schema.maxItems} items`);
  if (schema.maxProperties === 0) said.push('empty');
  if (schema.contentEncoding) said.push(`${schema.contentEncoding}-encoded`);
  if (schema.additionalProperties === false) said.push('no other keys');
  if ('default' in schema) said.push(`default ${json(schema.default)}`);
  return said.join('; ');
}

// ---- schemas, drawn ----

function flag(text, className = '') {
  return el('span', `docs-flag ${className}`.trim(), text);
}

/** One line of a schema: the property's name, its type and flags, then its description and limits. */
function schemaLine(name, schema, names, required) {
  const fragment = document.createDocumentFragment();
  const line = el('div', 'docs-line');
  if (name !== null) line.append(el('code', null, name));
  line.append(el('span', 'docs-type', typeLabel(schema, names)));
  if (required) line.append(flag('required', 'required'));
  if (schema.readOnly) line.append(flag('read-only'));
  if (schema.writeOnly) line.append(flag('write-only'));
  if (schema.deprecated) line.append(flag('deprecated', 'deprecated'));
  if (Array.isArray(schema.type) && schema.type.includes('null')) line.append(flag('nullable'));
  fragment.append(line);
  if (schema.description) fragment.append(el('p', 'docs-note', null, inline(schema.description)));
  const limits = constraints(schema);
  if (limits) fragment.append(el('p', 'docs-note', capitalized(limits)));
  return fragment;
}

/** The nested list under a schema: an object's properties, an array's or a map's items, a union's choices. */
function schemaChildren(schema, trail, depth) {
  if (depth > MAX_DEPTH) return null;
  const type = typeOf(schema);
  const inner = type === 'array' ? schema.items
    : type === 'object' && !schema.properties && typeof schema.additionalProperties === 'object'
      ? schema.additionalProperties : null;
  if (inner) {
    const flat = flatten(inner);
    if (flat.names.some((name) => trail.has(name))) return null;
    return schemaChildren(flat.schema, new Set([...trail, ...flat.names]), depth + 1);
  }
  const list = el('ul', 'docs-schema');
  const required = new Set(schema.required ?? []);
  const entries = schema.properties && typeof schema.properties === 'object'
    ? Object.entries(schema.properties).map(([name, property]) => [name, property, required.has(name)])
    : (alternativesOf(schema) ?? []).map((choice) => [null, choice, false]);
  for (const [name, property, isRequired] of entries) {
    const flat = flatten(property);
    const item = el('li', null, null, schemaLine(name, flat.schema, flat.names, isRequired));
    if (!flat.names.some((seen) => trail.has(seen))) {
      const children = schemaChildren(flat.schema, new Set([...trail, ...flat.names]), depth + 1);
      if (children) item.append(children);
    }
    list.append(item);
  }
  return list.childElementCount ? list : null;
}

/** A whole schema: its top line, then its properties as a nested list. */
function schemaView(schema) {
  const flat = flatten(schema);
  const view = el('div', 'docs-schema-view', null, schemaLine(null, flat.schema, flat.names, false));
  const children = schemaChildren(flat.schema, new Set(flat.names), 0);
  if (children) view.append(children);
  return view;
}

// ---- examples, built from schemas ----

/** A string for a format, so that a prefilled body passes the server's checks where it can. */
function exampleString(schema) {
  switch (schema.format) {
    case 'date-time': return new Date().toISOString();
    case 'date': return new Date().toISOString().slice(0, 10);
    case 'email': return 'user@example.com';
    case 'uri':
    case 'url': return `${window.location.origin}/`;
    case 'uuid': return '00000000-0000-4000-8000-000000000000';
    case 'int64':
    case 'uint64': return '0';
    default: return 'string';
  }
}

/** A value the schema accepts, for a request body: its own example if it has one; read-only properties left out. */
function example(schema, trail = new Set(), depth = 0) {
  const flat = flatten(schema);
  const own = flat.schema;
  if ('example' in own) return own.example;
  if (Array.isArray(own.examples) && own.examples.length) return own.examples[0];
  if ('const' in own) return own.const;
  if ('default' in own) return own.default;
  if (Array.isArray(own.enum) && own.enum.length) return own.enum[0];
  if (depth > MAX_DEPTH || flat.names.some((name) => trail.has(name))) return null;
  const inner = new Set([...trail, ...flat.names]);
  const choices = alternativesOf(own);
  if (!own.type && choices?.length) return example(choices[0], inner, depth + 1);
  switch (typeOf(own)) {
    case 'object': {
      const value = {};
      for (const [name, property] of Object.entries(own.properties ?? {})) {
        if (flatten(property).schema.readOnly) continue;
        value[name] = example(property, inner, depth + 1);
      }
      return value;
    }
    case 'array': return own.items ? [example(own.items, inner, depth + 1)] : [];
    case 'string': return exampleString(own);
    case 'integer':
    case 'number': return own.minimum ?? 0;
    case 'boolean': return false;
    default: return null;
  }
}

// ---- operations ----

/** The group of an operation: its first tag, or the first two segments of its path. */
function groupOf(path, operation) {
  const tag = Array.isArray(operation.tags) ? operation.tags.find((name) => typeof name === 'string') : undefined;
  return tag ?? `/${path.split('/').filter(Boolean).slice(0, 2).join('/')}`;
}

/** The path item's and the operation's parameters (the operation's winning), and any path variable left undeclared. */
function parametersOf(path, pathItem, operation) {
  const byKey = new Map();
  for (const raw of [...(pathItem.parameters ?? []), ...(operation.parameters ?? [])]) {
    const parameter = deref(raw);
    if (typeof parameter.name === 'string') byKey.set(`${parameter.in}:${parameter.name}`, parameter);
  }
  for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
    if (!byKey.has(`path:${name}`)) byKey.set(`path:${name}`, { name, in: 'path', required: true });
  }
  return [...byKey.values()];
}

/** Every operation in the document, in its order. */
function operationsOf(doc) {
  const operations = [];
  for (const [path, rawItem] of Object.entries(doc.paths ?? {})) {
    const pathItem = deref(rawItem);
    for (const method of METHODS) {
      const operation = pathItem[method];
      if (!operation || typeof operation !== 'object') continue;
      const summary = typeof operation.summary === 'string' ? operation.summary : '';
      operations.push({
        method: method.toUpperCase(),
        path,
        operation,
        summary,
        group: groupOf(path, operation),
        parameters: parametersOf(path, pathItem, operation),
        search: [method, path, summary, operation.operationId ?? ''].join(' ').toLowerCase(),
        item: null,
        section: null,
      });
    }
  }
  return operations;
}

/** How the operation authenticates, in words: alternatives joined by "or", schemes needed together by "and". */
function securityText(operation) {
  const requirements = operation.security ?? state.document.security;
  if (!Array.isArray(requirements) || requirements.length === 0) return 'None';
  const schemes = state.document.components?.securitySchemes ?? {};
  const label = (name) => {
    const scheme = deref(schemes[name]);
    if (scheme.type === 'apiKey' && scheme.in === 'cookie') return `session cookie (${scheme.name})`;
    if (scheme.type === 'apiKey') return `${scheme.in} ${scheme.name}`;
    if (scheme.type === 'http' && String(scheme.scheme).toLowerCase() === 'bearer') return 'bearer token';
    if (scheme.type === 'http') return `HTTP ${scheme.scheme}`;
    return name;
  };
  const text = requirements
    .map((requirement) => {
      const names = Object.keys(requirement ?? {});
      return names.length ? names.map(label).join(' and ') : 'none';
    })
    .join(', or ');
  return capitalized(text);
}

/** The JSON media type of a content map if it has one, else its first. */
function mediaOf(content) {
  const types = Object.keys(content ?? {});
  const type = types.find((name) => /[/+]json\b/.test(name)) ?? types[0];
  return type ? { type, media: deref(content[type]) } : null;
}

function statusClass(status) {
  if (status >= 200 && status < 300) return 'success';
  if ((status >= 300 && status < 400) || status === 0) return 'redirect';
  return status >= 400 ? 'failure' : '';
}

/** The reference half of an opened operation: description, facts, parameters, body and responses. */
function reference(entry) {
  const { operation } = entry;
  const box = el('div', 'docs-reference');
  // A description that only repeats the summary (already on the button) is left out.
  const bare = (text) => String(text ?? '').trim().replace(/\.$/, '');
  if (operation.description && bare(operation.description) !== bare(entry.summary)) {
    box.append(prose(operation.description));
  }
  const facts = el('dl', 'docs-facts');
  facts.append(el('dt', null, 'Authentication'), el('dd', null, securityText(operation)));
  if (operation.operationId) {
    facts.append(el('dt', null, 'Operation'), el('dd', null, null, el('code', null, operation.operationId)));
  }
  if (operation.deprecated) facts.append(el('dt', null, 'Deprecated'), el('dd', null, 'Yes: kept for older clients.'));
  box.append(facts);

  if (entry.parameters.length) {
    const list = el('ul', 'docs-list');
    for (const parameter of entry.parameters) {
      const flat = flatten(parameter.schema ?? {});
      const item = el('li');
      const line = el('div', 'docs-line', null, el('code', null, parameter.name),
        el('span', 'docs-note', `in ${parameter.in}`), el('span', 'docs-type', typeLabel(flat.schema, flat.names)));
      if (parameter.required) line.append(flag('required', 'required'));
      if (parameter.deprecated) line.append(flag('deprecated', 'deprecated'));
      item.append(line);
      if (parameter.description) item.append(el('p', 'docs-note', null, inline(parameter.description)));
      const limits = constraints(flat.schema);
      if (limits) item.append(el('p', 'docs-note', capitalized(limits)));
      list.append(item);
    }
    box.append(el('h4', null, 'Parameters'), list);
  }

  const body = deref(operation.requestBody);
  const bodyMedia = mediaOf(body.content);
  if (bodyMedia) {
    box.append(el('h4', null, 'Request body'));
    const line = el('div', 'docs-line', null, el('code', null, bodyMedia.type));
    if (body.required) line.append(flag('required', 'required'));
    box.append(line);
    if (body.description) box.append(prose(body.description));
    if (bodyMedia.media.schema) box.append(schemaView(bodyMedia.media.schema));
  }

  const responses = Object.entries(operation.responses ?? {});
  if (responses.length) {
    const list = el('ul', 'docs-list');
    for (const [status, raw] of responses) {
      const response = deref(raw);
      const item = el('li');
      item.append(el('div', 'docs-line', null, el('span', `docs-status ${statusClass(Number(status))}`, status),
        el('span', null, null, inline(response.description ?? ''))));
      const headers = Object.entries(response.headers ?? {});
      if (headers.length) {
        const names = el('p', 'docs-note', 'Headers: ');
        headers.forEach(([name, header], index) => {
          if (index) names.append(', ');
          names.append(el('code', null, name));
          const { description } = deref(header);
          if (description) names.append(' (', inline(description), ')');
        });
        item.append(names);
      }
      const media = mediaOf(response.content);
      if (media?.media.schema) {
        const details = el('details', 'docs-schema-box', null, el('summary', null, `Schema (${media.type})`),
          schemaView(media.media.schema));
        details.open = Number(status) >= 200 && Number(status) < 300;
        item.append(details);
      }
      list.append(item);
    }
    box.append(el('h4', null, 'Responses'), list);
  }
  return box;
}

// ---- Try it ----

/** A labelled input (or a choice, for enums and booleans) for one parameter. */
function parameterField(parameter) {
  const { schema } = flatten(parameter.schema ?? {});
  const where = `${parameter.in}${parameter.required ? ', required' : ''}`;
  const label = el('label', 'field', null,
    el('span', 'field-label', null, el('code', null, parameter.name), ' ', el('span', 'optional', where)));
  const choices = Array.isArray(schema.enum) ? schema.enum : typeOf(schema) === 'boolean' ? [true, false] : null;
  let control;
  if (choices) {
    control = el('select');
    control.append(el('option', null, parameter.required ? 'Choose…' : '(not sent)'));
    control.firstChild.value = '';
    for (const choice of choices) control.append(el('option', null, String(choice)));
  } else {
    control = el('input');
    control.type = 'text';
    control.autocomplete = 'off';
    control.spellcheck = false;
    const hint = parameter.example ?? schema.example ?? schema.default;
    if (hint !== undefined) control.placeholder = String(hint);
  }
  control.name = `${parameter.in}:${parameter.name}`;
  control.dataset.in = parameter.in;
  control.dataset.name = parameter.name;
  if (typeOf(schema) === 'array') control.dataset.list = 'true';
  control.required = Boolean(parameter.required);
  label.append(control);
  if (typeOf(schema) === 'array') {
    const hint = el('span', 'hint', 'Several values: separate them with commas.');
    hint.id = nextId('hint');
    control.setAttribute('aria-describedby', hint.id);
    label.append(hint);
  }
  return label;
}

/** The URL and fetch options of a filled form; throws an Error with words for the user. */
function requestOf(entry, form, bodyType) {
  let path = entry.path;
  const query = new URLSearchParams();
  const headers = new Headers();
  for (const control of form.querySelectorAll('[data-in]')) {
    const { value } = control;
    const { name } = control.dataset;
    if (control.dataset.in === 'path') {
      path = path.replaceAll(`{${name}}`, encodeURIComponent(value));
    } else if (value === '') {
      continue;
    } else if (control.dataset.in === 'query') {
      const values = control.dataset.list ? value.split(',').map((part) => part.trim()) : [value];
      for (const one of values) query.append(name, one);
    } else {
      headers.set(name, value);
    }
  }
  const url = new URL(path, window.location.origin);
  url.search = query.toString();
  if (url.origin !== window.location.origin) {
    throw new Error(`This page only sends requests to ${window.location.origin}, not to ${url.origin}.`);
  }
  const token = $('docs-token').value.trim();
  if (token && !headers.has('Authorization')) headers.set('Authorization', `Bearer ${token}`);
  const init = { method: entry.method, headers, credentials: 'same-origin', redirect: 'manual', cache: 'no-store' };
  const text = form.elements.body?.value ?? '';
  if (bodyType && text.trim() && entry.method !== 'GET' && entry.method !== 'HEAD') {
    if (/[/+]json\b/.test(bodyType)) {
      try {
        JSON.parse(text);
      } catch (error) {
        throw new Error(`The body is not valid JSON: ${error.message}`);
      }
    }
    headers.set('Content-Type', bodyType);
    init.body = text;
  }
  return { url, init };
}

/** The answer's status line, headers and body (pretty-printed when it is JSON). */
function showAnswer(result, response, text, elapsed) {
  const status = el('p', 'docs-result-status');
  if (response.type === 'opaqueredirect') {
    status.append(el('span', 'docs-status redirect', '3xx'),
      ' A redirect, not followed: this page stays on its own origin, and browsers hide where a redirect leads.');
  } else {
    status.append(el('span', `docs-status ${statusClass(response.status)}`, response.status),
      ` ${response.statusText} · ${elapsed} ms`);
  }
  const headerLines = [...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n');
  let body = text;
  if (text && /json/i.test(response.headers.get('Content-Type') ?? '')) {
    try {
      body = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      body = text;
    }
  }
  if (body.length > MAX_SHOWN) body = `${body.slice(0, MAX_SHOWN)}\n… (${body.length - MAX_SHOWN} more characters)`;
  result.replaceChildren(status,
    el('h5', null, 'Response headers'), el('pre', 'docs-result-headers', headerLines || '(none shown)'),
    el('h5', null, 'Response body'), el('pre', 'docs-result-body', body || '(empty)'));
  result.hidden = false;
}

async function send(entry, form, bodyType) {
  const error = form.querySelector('.error');
  const result = form.querySelector('.docs-result');
  const button = form.querySelector('button[type="submit"]');
  error.textContent = '';
  let request;
  try {
    request = requestOf(entry, form, bodyType);
  } catch (problem) {
    error.textContent = problem.message;
    return;
  }
  button.setAttribute('aria-disabled', 'true');
  form.setAttribute('aria-busy', 'true');
  const started = performance.now();
  try {
    const response = await fetch(request.url, request.init);
    const text = entry.method === 'HEAD' ? '' : await response.text();
    showAnswer(result, response, text, Math.round(performance.now() - started));
  } catch (problem) {
    error.textContent = `No answer came: ${problem.message}`;
  } finally {
    button.removeAttribute('aria-disabled');
    form.removeAttribute('aria-busy');
  }
}

/** The "Try it" half of an opened operation. */
function tryForm(entry) {
  const label = `${entry.method} ${entry.path}`;
  const form = el('form', 'docs-try', null, el('h4', null, 'Try it'));
  form.setAttribute('aria-label', `Try ${label}`);
  for (const parameter of entry.parameters) {
    if (SENT_PARAMETERS.includes(parameter.in)) form.append(parameterField(parameter));
  }
  const body = mediaOf(deref(entry.operation.requestBody).content);
  let textarea = null;
  let prefill = '';
  if (body) {
    const value = body.media.example ?? (body.media.schema ? example(body.media.schema) : '');
    prefill = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
    textarea = el('textarea', 'docs-code');
    textarea.name = 'body';
    textarea.rows = Math.min(16, Math.max(4, prefill.split('\n').length + 1));
    textarea.spellcheck = false;
    textarea.value = prefill;
    form.append(el('label', 'field', null,
      el('span', 'field-label', null, 'Body ', el('span', 'optional', `(${body.type})`)), textarea));
  }
  const error = el('p', 'error');
  error.setAttribute('role', 'alert');
  const submit = el('button', 'button primary', 'Send request');
  submit.type = 'submit';
  const row = el('div', 'row', null, submit);
  if (textarea) {
    const reset = el('button', 'button secondary', 'Reset body');
    reset.type = 'button';
    reset.addEventListener('click', () => {
      textarea.value = prefill;
      textarea.focus();
    });
    row.append(reset);
  }
  const result = el('div', 'docs-result');
  result.setAttribute('aria-live', 'polite');
  result.hidden = true;
  form.append(error, row, result);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (submit.getAttribute('aria-disabled') !== 'true') send(entry, form, body?.type);
  });
  return form;
}

// ---- the list ----

/** The list item of an operation: a button that opens it, and its body, drawn the first time it is opened. */
function operationItem(entry) {
  const { operation } = entry;
  const item = el('li', 'card docs-operation');
  item.dataset.operation = `${entry.method} ${entry.path}`;
  if (operation.deprecated) item.classList.add('deprecated');
  const bodyId = nextId('operation');
  const toggle = el('button', 'docs-toggle', null,
    el('span', `docs-method ${entry.method.toLowerCase()}`, entry.method), ' ', el('code', 'docs-path', entry.path));
  toggle.type = 'button';
  toggle.setAttribute('aria-expanded', 'false');
  toggle.setAttribute('aria-controls', bodyId);
  if (entry.summary) toggle.append(' ', el('span', 'docs-summary', null, inline(entry.summary)));
  if (operation.deprecated) toggle.append(' ', flag('deprecated', 'deprecated'));
  const body = el('div', 'docs-body');
  body.id = bodyId;
  body.hidden = true;
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    if (open && !body.childElementCount) body.append(reference(entry), tryForm(entry));
    toggle.setAttribute('aria-expanded', String(open));
    body.hidden = !open;
  });
  item.append(el('h3', null, null, toggle), body);
  return item;
}

function render() {
  const doc = state.document;
  const info = doc.info ?? {};
  const about = [info.title, info.version && `version ${info.version}`, doc.openapi && `OpenAPI ${doc.openapi}`];
  $('docs-info').replaceChildren(about.filter(Boolean).join(' · '));
  if (info.description) $('docs-info').append(': ', inline(info.description));

  state.operations = operationsOf(doc);
  // Groups in the order the document's `tags` list gives, then in the order they first appear.
  const described = new Map();
  for (const tag of Array.isArray(doc.tags) ? doc.tags : []) {
    if (typeof tag?.name === 'string') described.set(tag.name, tag.description ?? '');
  }
  const groups = new Map([...described.keys()].map((name) => [name, []]));
  for (const entry of state.operations) {
    if (!groups.has(entry.group)) groups.set(entry.group, []);
    groups.get(entry.group).push(entry);
  }
  const container = $('docs-groups');
  container.replaceChildren();
  for (const [name, entries] of groups) {
    if (!entries.length) continue;
    const headingId = nextId('group');
    const section = el('section', 'docs-group', null, el('h2', null, name));
    section.firstChild.id = headingId;
    section.setAttribute('aria-labelledby', headingId);
    if (described.get(name)) section.append(prose(described.get(name), 'docs-group-description'));
    const list = el('ul', 'docs-operations');
    for (const entry of entries) {
      entry.item = operationItem(entry);
      entry.section = section;
      list.append(entry.item);
    }
    section.append(list);
    container.append(section);
  }
  applyFilter();
}

/** Shows the operations whose method, path, summary or id holds every word of the filter. */
function applyFilter() {
  const words = $('docs-filter').value.toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  const sectionsShown = new Set();
  for (const entry of state.operations) {
    const match = words.every((word) => entry.search.includes(word));
    entry.item.hidden = !match;
    if (match) {
      shown += 1;
      sectionsShown.add(entry.section);
    }
  }
  for (const entry of state.operations) entry.section.hidden = !sectionsShown.has(entry.section);
  const total = state.operations.length;
  const noun = total === 1 ? 'operation' : 'operations';
  $('docs-count').textContent = words.length ? `${shown} of ${total} ${noun} match.` : `${total} ${noun}.`;
  $('docs-empty').hidden = shown > 0 || total === 0;
}

async function load() {
  let response;
  try {
    response = await fetch('/api/openapi.json', {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
  } catch {
    $('docs-count').textContent = '';
    $('docs-error').textContent = 'Could not reach the server. Check your connection and reload the page.';
    return;
  }
  let doc = null;
  try {
    doc = response.ok ? await response.json() : null;
  } catch {
    doc = null;
  }
  if (!doc || typeof doc !== 'object') {
    $('docs-count').textContent = '';
    $('docs-error').textContent = `The API description could not be read (the server answered ${response.status}).`;
    return;
  }
  state.document = doc;
  render();
}

$('docs-toolbar').addEventListener('submit', (event) => event.preventDefault());
$('docs-filter').addEventListener('input', () => {
  if (state.document) applyFilter();
});
load();
