'use strict';
// fc3-local: a Serverless Devs 3 component that stands in for fc3 offline.
//
//   FC3_COMPONENT=$PWD/tooling/fc3-local s deploy -y
//   FC3_COMPONENT=$PWD/tooling/fc3-local s rotate-on-upload invoke -f events/oss-fullchain.json
//
// It talks to the local cloud's FC control API (emulator/cmd/localcloud):
//   PUT  /local/functions/{name}                       deploy a FunctionSpec
//   POST /2023-03-30/functions/{name}/invocations      invoke (x-fc-invocation-type Sync|Async)
//   POST /local/functions/{name}/triggers/{t}/fire     fire a trigger
//   GET  /local/state                                  what is deployed
// The endpoint comes from LOCALCLOUD_FC_ENDPOINT, else from the env file that
// localcloud writes (-env-file; path in LOCALCLOUD_ENV_FILE, default
// .localcloud.env in the project directory). No credentials are read or sent.

const fs = require('fs');
const path = require('path');

// parseEnvFile reads KEY=VALUE lines (optional `export `, quotes, # comments).
function parseEnvFile(text) {
  const out = {};
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trim();
    const i = line.indexOf('=');
    if (i <= 0) continue;
    let v = line.slice(i + 1).trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[line.slice(0, i).trim()] = v;
  }
  return out;
}

// localCloudEnv merges the env file (if any) under the process environment.
function localCloudEnv(cwd) {
  const file = process.env.LOCALCLOUD_ENV_FILE || path.join(cwd || process.cwd(), '.localcloud.env');
  let fromFile = {};
  try {
    fromFile = parseEnvFile(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
  const pick = (k) => process.env[k] || fromFile[k] || '';
  return {
    file,
    fc: pick('LOCALCLOUD_FC_ENDPOINT'),
    slb: pick('LOCALCLOUD_SLB_ENDPOINT') || pick('SLB_ENDPOINT'),
    oss: pick('LOCALCLOUD_OSS_ENDPOINT') || pick('OSS_ENDPOINT'),
  };
}

// bucketFromArn returns the bucket of acs:oss:<region>:<uid>:<bucket>.
function bucketFromArn(arn) {
  const parts = String(arn || '').split(':');
  return parts.length >= 5 ? parts.slice(4).join(':') : '';
}

// functionSpec converts rendered fc3 props into the local cloud's FunctionSpec.
function functionSpec(props, baseDir, lc) {
  if (!props || !props.functionName) throw new Error('fc3-local: props.functionName is required');
  if (props.runtime !== 'go1') throw new Error(`fc3-local: runtime ${props.runtime} is not supported (go1 only)`);
  let code = String(props.code || '');
  if (!code) throw new Error(`fc3-local: ${props.functionName}: props.code is required`);
  if (code.endsWith('.zip')) code = code.slice(0, -4); // make build writes dist/<fn>/ beside dist/<fn>.zip
  const dir = path.resolve(baseDir, code);
  const binary = path.join(dir, props.handler || 'bootstrap');
  if (!fs.existsSync(binary)) throw new Error(`fc3-local: ${binary} not found: run \`make build\``);
  const env = Object.assign({}, props.environmentVariables || {});
  // Point the SDKs at the local cloud unless the yaml says otherwise.
  if (!env.SLB_ENDPOINT && lc.slb) env.SLB_ENDPOINT = lc.slb;
  if (!env.OSS_ENDPOINT && lc.oss) env.OSS_ENDPOINT = lc.oss;
  const triggers = (props.triggers || []).map((t) => {
    const c = t.triggerConfig || {};
    const spec = { name: t.triggerName, type: t.triggerType };
    if (t.triggerType === 'oss') {
      const key = (c.filter && c.filter.key) || {};
      spec.oss = { bucketName: bucketFromArn(t.sourceArn), events: c.events || [], prefix: key.prefix || '', suffix: key.suffix || '' };
    } else if (t.triggerType === 'timer') {
      spec.timer = { cronExpression: c.cronExpression || '', payload: c.payload || '', enable: c.enable !== false };
    } else {
      throw new Error(`fc3-local: trigger type ${t.triggerType} is not supported`);
    }
    return spec;
  });
  // maxAsyncRetryAttempts 0 means "never retry"; the local cloud reads 0 as
  // FC's default (3) and a negative value as no retry.
  const aic = props.asyncInvokeConfig || {};
  let asyncRetries = 0;
  if (aic.maxAsyncRetryAttempts !== undefined) asyncRetries = aic.maxAsyncRetryAttempts === 0 ? -1 : aic.maxAsyncRetryAttempts;
  return {
    name: props.functionName,
    binary,
    handler: props.handler || 'bootstrap',
    region: props.region || '',
    env,
    timeout: props.timeout || 3,
    memoryMB: props.memorySize || 128,
    triggers,
    asyncRetries,
  };
}

// parseInvokeArgs reads fc3's invoke flags from the raw argv s passes.
function parseInvokeArgs(args) {
  const o = { invocationType: 'Sync' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const val = () => {
      if (i + 1 >= args.length) throw new Error(`fc3-local: ${a} needs a value`);
      return args[++i];
    };
    if (a === '-e' || a === '--event') o.event = val();
    else if (a === '-f' || a === '--event-file') o.eventFile = val();
    else if (a === '--invocation-type') o.invocationType = val();
    else if (a.startsWith('--invocation-type=')) o.invocationType = a.split('=')[1];
    else if (a.startsWith('--event-file=')) o.eventFile = a.slice('--event-file='.length);
    else if (a === '--trigger') o.trigger = val();
  }
  if (!['Sync', 'Async'].includes(o.invocationType)) throw new Error(`fc3-local: --invocation-type must be Sync or Async, not ${o.invocationType}`);
  return o;
}

async function request(method, url, body, headers) {
  let res;
  try {
    res = await fetch(url, { method, body, headers: Object.assign({ 'content-type': 'application/json' }, headers || {}) });
  } catch (e) {
    throw new Error(`fc3-local: ${method} ${url}: ${e.cause ? e.cause.message : e.message} (is the local cloud running?)`);
  }
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

function parseMaybeJSON(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    return text;
  }
}

class Fc3Local {
  constructor(opts) {
    this.logger = (opts && opts.logger) || console;
  }

  endpoint(inputs) {
    const lc = localCloudEnv(inputs && inputs.cwd);
    if (!lc.fc) {
      throw new Error(`fc3-local: no local cloud endpoint: set LOCALCLOUD_FC_ENDPOINT or start localcloud with -env-file ${lc.file}`);
    }
    return { lc, base: lc.fc.replace(/\/+$/, '') };
  }

  // deploy PUTs the resource's FunctionSpec to the local cloud.
  async deploy(inputs) {
    const { lc, base } = this.endpoint(inputs);
    const spec = functionSpec(inputs.props, inputs.cwd || process.cwd(), lc);
    const res = await request('PUT', `${base}/local/functions/${encodeURIComponent(spec.name)}`, JSON.stringify(spec));
    if (res.status < 200 || res.status > 299) {
      throw new Error(`fc3-local: deploy ${spec.name}: HTTP ${res.status}: ${res.text}`);
    }
    return {
      region: inputs.props.region,
      functionName: spec.name,
      endpoint: base,
      triggers: spec.triggers.map((t) => `${t.type}:${t.name}`),
    };
  }

  // invoke runs the function with -e/-f payload, Sync by default.
  async invoke(inputs) {
    const { base } = this.endpoint(inputs);
    const o = parseInvokeArgs(inputs.args || []);
    let payload = '';
    if (o.eventFile) payload = fs.readFileSync(path.resolve(process.cwd(), o.eventFile), 'utf8');
    else if (o.event !== undefined) payload = o.event;
    const name = inputs.props.functionName;
    const res = await request('POST', `${base}/2023-03-30/functions/${encodeURIComponent(name)}/invocations`, payload, {
      'x-fc-invocation-type': o.invocationType,
    });
    const errType = res.headers.get('x-fc-error-type');
    if (res.status < 200 || res.status > 299 || errType) {
      throw new Error(`fc3-local: invoke ${name}: HTTP ${res.status}${errType ? ' ' + errType : ''}: ${res.text}`);
    }
    if (o.invocationType === 'Async') {
      return { functionName: name, invocationType: 'Async', requestId: res.headers.get('x-fc-request-id') || '' };
    }
    return parseMaybeJSON(res.text);
  }

  // info shows what the local cloud holds.
  async info(inputs) {
    const { base } = this.endpoint(inputs);
    const res = await request('GET', `${base}/local/state`);
    if (res.status !== 200) throw new Error(`fc3-local: state: HTTP ${res.status}: ${res.text}`);
    return parseMaybeJSON(res.text);
  }

  // getSchema serves the fc3 schema for `s verify`: the file FC3_SCHEMA
  // names, else the copy kept in the repository (tooling/fc3-schema).
  async getSchema() {
    const p = process.env.FC3_SCHEMA || path.join(__dirname, '..', 'fc3-schema', 'fc3-props.schema.json');
    return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '';
  }
}

module.exports = Fc3Local;
module.exports.functionSpec = functionSpec;
module.exports.parseInvokeArgs = parseInvokeArgs;
module.exports.parseEnvFile = parseEnvFile;
