// The function-node sandbox: Node-RED's function-node globals on top of QuickJS.
//
// Loaded once into each function node's QuickJS context. The Python side
// (runtime/js/sandbox.py) registers the __host_* callables before this runs;
// the prelude captures them in a closure and deletes the globals so user code
// cannot reach them.
//
// Messages cross the boundary as JSON text. Values JSON cannot carry travel as
// tagged objects ({"__nr__": "Buffer", ...}), the same form the Python side
// reads. Everything a run produces (sends, logs, status, errors, done) is
// queued as events and handed back in one JSON array, because each crossing of
// the boundary costs far more than building the text.
(function (g) {
  'use strict';

  const host = {
    flush: g.__host_flush,
    ctxGet: g.__host_ctx_get,
    ctxSet: g.__host_ctx_set,
    ctxKeys: g.__host_ctx_keys,
    env: g.__host_env,
    timer: g.__host_timer,
    clearTimer: g.__host_clear_timer,
    console: g.__host_console,
    nodeSet: g.__host_node_set,
    vendor: g.__host_vendor,
  };
  for (const name of ['__host_flush', '__host_ctx_get', '__host_ctx_set', '__host_ctx_keys', '__host_env',
    '__host_timer', '__host_clear_timer', '__host_console', '__host_vendor', '__host_node_set']) {
    delete g[name];
  }

  // Events flushed to Python when there are this many, so a loop of sends
  // does not hold all its messages in the JS heap at once.
  const FLUSH_EVERY = 1000;

  let events = [];
  let marshalling = false;
  let BufferClass = null;
  const bufferRefs = new WeakMap(); // Buffer -> id of the Python bytearray it mirrors
  const hostRefs = new WeakMap();   // placeholder object -> id of a Python object

  // -- Buffer, loaded on first use ---------------------------------------
  function loadBuffer() {
    if (BufferClass) return BufferClass;
    const modules = {};
    function requireModule(name) {
      if (modules[name]) return modules[name].exports;
      const module = { exports: {} };
      modules[name] = module;
      const source = host.vendor(name);
      const factory = (0, eval)('(function (module, exports, require) {' + source + '\n})');
      factory(module, module.exports, requireModule);
      return module.exports;
    }
    BufferClass = requireModule('buffer').Buffer;
    const plainToJSON = BufferClass.prototype.toJSON;
    BufferClass.prototype.toJSON = function () {
      if (!marshalling) return plainToJSON.call(this);
      const tagged = { __nr__: 'Buffer', data: Array.prototype.slice.call(this) };
      const ref = bufferRefs.get(this);
      if (ref !== undefined) tagged.ref = ref;
      return tagged;
    };
    return BufferClass;
  }
  Object.defineProperty(g, 'Buffer', {
    configurable: true,
    get() { const B = loadBuffer(); Object.defineProperty(g, 'Buffer', { value: B, configurable: true, writable: true }); return B; },
  });

  // -- tagged JSON in both directions ----------------------------------------
  const dateToJSON = Date.prototype.toJSON;
  Date.prototype.toJSON = function (key) {
    if (!marshalling) return dateToJSON.call(this, key);
    const time = this.getTime();
    return { __nr__: 'Date', iso: isNaN(time) ? null : this.toISOString() };
  };
  Error.prototype.toJSON = function () {
    if (!marshalling) return {};
    const tagged = { __nr__: 'Error', name: this.name, message: this.message };
    if (this.code !== undefined) tagged.code = this.code;
    for (const key of Object.keys(this)) {
      if (key !== 'name' && key !== 'message' && key !== 'code' && key !== 'stack') tagged[key] = this[key];
    }
    return tagged;
  };
  RegExp.prototype.toJSON = function () {
    return marshalling ? { __nr__: 'RegExp', source: this.source, flags: this.flags } : {};
  };
  Map.prototype.toJSON = function () {
    return marshalling ? { __nr__: 'Map', entries: Array.from(this.entries()) } : {};
  };
  Set.prototype.toJSON = function () {
    return marshalling ? { __nr__: 'Set', values: Array.from(this.values()) } : {};
  };

  class HostRef {
    toJSON() { return marshalling ? { __nr__: 'ref', id: hostRefs.get(this) } : {}; }
  }

  function exactReplacer(key, value) {
    if (typeof value === 'number' && !isFinite(value)) return { __nr__: 'number', value: String(value) };
    if (value === undefined && Array.isArray(this)) return { __nr__: 'undefined' };
    if (typeof value === 'bigint') return { __nr__: 'bigint', value: String(value) };
    return value;
  }

  // Serialise a value for Python. The plain stringify is the fast path; it
  // turns NaN, Infinity and undefined array items into null, so any output
  // containing "null" is redone with the exact (slower) replacer.
  function toWire(value) {
    marshalling = true;
    try {
      let text = JSON.stringify(value);
      if (text !== undefined && text.indexOf('null') !== -1) text = JSON.stringify(value, exactReplacer);
      return text === undefined ? '{"__nr__":"undefined"}' : text;
    } catch (err) {
      if (err instanceof TypeError && /circular|cyclic/i.test(String(err.message))) {
        throw new TypeError('message contains a circular reference and cannot be passed to the next node');
      }
      throw err;
    } finally {
      marshalling = false;
    }
  }

  function revive(value) {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = revive(value[i]);
      return value;
    }
    const tag = value.__nr__;
    if (tag === undefined) {
      for (const key of Object.keys(value)) value[key] = revive(value[key]);
      return value;
    }
    switch (tag) {
      case 'undefined': return undefined;
      case 'number': return Number(value.value);
      case 'Buffer': {
        const buffer = loadBuffer().from(value.data || []);
        if (value.ref !== undefined) { bufferRefs.set(buffer, value.ref); inputBuffers = true; }
        return buffer;
      }
      case 'Date': return new Date(value.iso === null ? NaN : value.iso);
      case 'RegExp': return new RegExp(value.source, value.flags);
      case 'Error': {
        const ctor = g[value.name] && g[value.name].prototype instanceof Error ? g[value.name] : Error;
        const err = new ctor(value.message);
        if (err.name !== value.name) err.name = value.name;
        if (value.code !== undefined) err.code = value.code;
        return err;
      }
      case 'Map': return new Map(revive(value.entries || []));
      case 'Set': return new Set(revive(value.values || []));
      case 'ref': {
        const ref = Object.assign(new HostRef(), revive(value.view || {}));
        hostRefs.set(ref, value.id);
        return ref;
      }
      default: return value;
    }
  }

  function fromWire(text, tagged) {
    const value = JSON.parse(text);
    return tagged ? revive(value) : value;
  }

  // Report in-place changes to Buffers that mirror Python bytearrays, so a
  // Buffer changed here is changed for every message sharing it (as in Node.js).
  function bufferUpdates(value, seen, out) {
    if (value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    if (BufferClass && value instanceof BufferClass) {
      const ref = bufferRefs.get(value);
      if (ref !== undefined) out.push('[' + ref + ',[' + Array.prototype.join.call(value, ',') + ']]');
      return;
    }
    for (const key of Object.keys(value)) bufferUpdates(value[key], seen, out);
  }

  // -- events -------------------------------------------------------------
  function push(event) {
    events.push(event);
    if (events.length >= FLUSH_EVERY) flushNow();
  }
  function takeEvents() {
    if (nodeDirty.length && !lazyNodeWrites) writeNodeDirty();
    if (events.length === 0) return null;
    const pending = events;
    events = [];
    const parts = pending.map((e) => (typeof e === 'function' ? e() : e));
    return flat(['[', parts.join(','), ']']);
  }
  function flushNow() {
    const text = takeEvents();
    if (text !== null) host.flush(text);
  }
  function errorWire(err) {
    if (err instanceof Error) return toWire(err);
    if (typeof err === 'string') return JSON.stringify(err);
    try { return toWire(err); } catch (e) { return JSON.stringify(String(err)); }
  }
  function quoted(text) { return JSON.stringify(String(text)); }

  // Strings built with + may be ropes, which quickjs-ng cannot hand to
  // Python ("Unknown quickjs tag: -6"); Array.prototype.join builds a flat one.
  function flat(parts) { return parts.join(''); }

  // -- sending --------------------------------------------------------------
  function typeName(value) {
    if (typeof value !== 'object') return typeof value;
    if (BufferClass && value instanceof BufferClass) return 'Buffer';
    return Array.isArray(value) ? 'Array' : 'Date';
  }

  // Node-RED's sendResults: validate, stamp the input _msgid on every message,
  // clone the first message unless told not to. A clone is taken by
  // serialising now; a message sent without cloning is serialised at flush,
  // so changes made after the send are seen by the receiver, as in Node-RED.
  function sendResults(msgs, msgid, cloneFirst) {
    if (msgs === null || msgs === undefined) return;
    if (!Array.isArray(msgs)) {
      if (typeof msgs === 'object' && !(BufferClass && msgs instanceof BufferClass)) {
        msgs._msgid = msgid;
        // A single message to port 0 is the event itself (a JSON object);
        // every other event is an array, so Python distinguishes them by type.
        if (cloneFirst) {
          push(toWire(msgs));
        } else {
          push(() => toWire(msgs));
        }
        return;
      }
      msgs = [msgs];
    }
    let count = 0;
    const ports = [];
    for (let port = 0; port < msgs.length; port++) {
      let entry = msgs[port];
      if (!entry) { ports.push(null); continue; }
      const list = Array.isArray(entry) ? entry : [entry];
      const out = [];
      for (let i = 0; i < list.length; i++) {
        const m = list[i];
        if (m === null || m === undefined) { out.push(null); continue; }
        if (typeof m === 'object' && !(BufferClass && m instanceof BufferClass) && !Array.isArray(m)) {
          m._msgid = msgid;
          if (count === 0 && cloneFirst) { const text = toWire(m); out.push(() => text); }
          else out.push(() => toWire(m));
          count++;
        } else {
          push('["e",' + quoted('Function tried to send a message of type ' + typeName(m)) + ']');
          out.push(null);
        }
      }
      ports.push(Array.isArray(entry) ? out : out[0]);
    }
    if (count === 0) return;
    push(() => '["s",[' + ports.map((p) => {
      if (p === null) return 'null';
      if (Array.isArray(p)) return '[' + p.map((f) => (f === null ? 'null' : f())).join(',') + ']';
      return p();
    }).join(',') + ']]');
  }

  // -- the node object given to user code ------------------------------------
  let nodeInfo = { id: '', name: '', path: '', outputCount: 1 };
  const closeHandlers = [];
  let statusUsed = false;

  function logEvent(level) {
    return function (value) { push('["l",' + quoted(level) + ',' + errorWire(value) + ']'); };
  }
  const nodeLog = logEvent('info');
  const nodeWarn = logEvent('warn');
  const nodeDebug = logEvent('debug');
  const nodeTrace = logEvent('trace');
  function nodeError(err, msg) {
    push(() => '["r",' + errorWire(err) + ',' + (msg && typeof msg === 'object' ? toWire(msg) : 'null') + ']');
  }
  function nodeStatus(status) {
    statusUsed = true;
    push(() => '["t",' + toWire(status === undefined ? {} : status) + ']');
  }
  function nodeOn(event, handler) {
    if (event === 'input') throw new Error('Cannot add listener to \'input\' event within Function');
    if (event === 'close' && typeof handler === 'function') closeHandlers.push(handler);
  }

  function makeNode(msg, callId, mode) {
    const msgid = msg ? msg._msgid : null;
    return {
      id: nodeInfo.id,
      name: nodeInfo.name,
      path: nodeInfo.path,
      outputCount: nodeInfo.outputCount,
      log: nodeLog,
      warn: nodeWarn,
      error: nodeError,
      debug: nodeDebug,
      trace: nodeTrace,
      on: nodeOn,
      status: nodeStatus,
      send: mode === 'close'
        ? function () { nodeError('Cannot send from close function'); }
        : function (msgs, cloneMsg) { sendResults(msgs, mode === 'init' ? generateId() : msgid, cloneMsg !== false); },
      done: function (err) { pushDone(callId, err, msg, true); },
    };
  }

  // Tell Python a message is done. Python only needs to hear of it when the
  // call is tracked (it may finish after run() returns), when it failed, or
  // when complete nodes want the finished message.
  function pushDone(callId, err, msg, tracked) {
    const failed = err !== undefined && err !== null;
    if (!failed && !tracked && !wantDoneMsg) return;
    const wire = failed ? errorWire(err) : 'null';
    push(() => '["d",' + callId + ',' + wire + ',' + (msg && msgMarshalled && (failed || wantDoneMsg) ? toWire(msg) : 'null') + ']');
  }

  // -- context, env, RED.util ---------------------------------------------
  function encodeArg(value) {
    if (value === undefined) return 'u';
    if (typeof value === 'number' && isFinite(value)) return value;
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string') return flat(['s', value]);
    return flat(['j', toWire(value)]);
  }
  function decodeResult(result) {
    if (typeof result !== 'string') return result;
    const kind = result.charCodeAt(0);
    if (kind === 117) return undefined; // u
    if (kind === 115) return result.slice(1); // s
    if (kind === 106) return JSON.parse(result.slice(1)); // j
    if (kind === 101) throw new Error(result.slice(1)); // e: the host call failed
    return revive(JSON.parse(result.slice(1))); // t
  }
  function storeArg(store) { return typeof store === 'string' ? store : null; }
  // Context caches. A node's own context is private to it, so values read or
  // written here stay cached; writes are copied to Python when the run's
  // events are taken (or later, see lazyNodeWrites). Flow and global values
  // are cached only while Python's context version, which every write anywhere
  // bumps, is the one this run started with. Keys with a store, a path or
  // $parent bypass the caches.
  const caches = { node: new Map(), flow: new Map(), global: new Map() };
  // With the memory store nothing persists the node's context, so writes stay
  // here until Python reads the context (see FunctionSandbox.write_back).
  let lazyNodeWrites = false;
  let nodeDirty = [];
  const nodeDirtyFlags = new Map();
  let contextVersion = -1;

  function isPlainKey(key, store) {
    return (store === undefined || store === null) && typeof key === 'string' &&
      key.indexOf('.') === -1 && key.indexOf('[') === -1 && key.lastIndexOf('#:', 0) !== 0 &&
      key.lastIndexOf('$parent.', 0) !== 0;
  }
  function syncContext(version) {
    if (version !== contextVersion) {
      caches.flow.clear();
      caches.global.clear();
      contextVersion = version;
    }
  }
  function writeNodeDirty() {
    const keys = nodeDirty;
    nodeDirty = [];
    nodeDirtyFlags.clear();
    for (let i = 0; i < keys.length; i++) host.nodeSet(keys[i], encodeArg(caches.node.get(keys[i])));
  }

  function scopeApi(scope) {
    const cache = caches[scope];
    return {
      get: function (key, store, callback) {
        if (typeof store === 'function') { callback = store; store = undefined; }
        let value;
        if (isPlainKey(key, store)) {
          if (cache.has(key)) {
            value = cache.get(key);
          } else {
            value = decodeResult(host.ctxGet(scope, flat(['s', key]), null));
            cache.set(key, value);
          }
        } else {
          if (scope === 'node') writeNodeDirty();
          value = decodeResult(host.ctxGet(scope, encodeArg(key), storeArg(store)));
        }
        if (typeof callback === 'function') { callback(null, value); return undefined; }
        return value;
      },
      set: function (key, value, store, callback) {
        if (typeof store === 'function') { callback = store; store = undefined; }
        if (scope === 'node' && isPlainKey(key, store)) {
          cache.set(key, value);
          if (!nodeDirtyFlags.has(key)) { nodeDirtyFlags.set(key, true); nodeDirty.push(key); }
        } else {
          if (scope === 'node') writeNodeDirty();
          host.ctxSet(scope, encodeArg(key), encodeArg(value), storeArg(store));
          if (isPlainKey(key, store)) cache.set(key, value); else cache.clear();
        }
        if (typeof callback === 'function') callback(null);
      },
      keys: function (store, callback) {
        if (typeof store === 'function') { callback = store; store = undefined; }
        if (scope === 'node') writeNodeDirty();
        const keys = JSON.parse(host.ctxKeys(scope, storeArg(store)));
        if (typeof callback === 'function') { callback(null, keys); return undefined; }
        return keys;
      },
    };
  }
  const flowApi = scopeApi('flow');
  const globalApi = scopeApi('global');
  const nodeContext = scopeApi('node');
  Object.defineProperty(nodeContext, 'flow', { get: () => flowApi });
  Object.defineProperty(nodeContext, 'global', { get: () => globalApi });

  function generateId() {
    const part = () => Math.floor((1 + Math.random()) * 0x100000000).toString(16).slice(1);
    return part() + part();
  }

  function parsePath(expr) {
    if (typeof expr !== 'string' || expr.length === 0) throw new Error('Invalid property expression: zero-length');
    if (expr.indexOf('msg.') === 0) expr = expr.slice(4);
    const parts = [];
    const re = /\[\s*(?:(\d+)|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\]|\.?([^.[\]]+)/g;
    let match;
    while ((match = re.exec(expr)) !== null) {
      if (match[1] !== undefined) parts.push(Number(match[1]));
      else if (match[2] !== undefined) parts.push(match[2]);
      else if (match[3] !== undefined) parts.push(match[3]);
      else parts.push(match[4]);
    }
    return parts;
  }
  function getMessageProperty(msg, expr) {
    let value = msg;
    for (const part of parsePath(expr)) value = value[part];
    return value;
  }
  function setMessageProperty(msg, expr, value, createMissing) {
    const parts = parsePath(expr);
    if (createMissing === undefined) createMissing = value !== undefined;
    let obj = msg;
    for (let i = 0; i < parts.length - 1; i++) {
      const key = parts[i];
      if (obj[key] === undefined || obj[key] === null) {
        if (!createMissing) return false;
        obj[key] = typeof parts[i + 1] === 'number' ? [] : {};
      } else if (typeof obj[key] !== 'object') {
        return false;
      }
      obj = obj[key];
    }
    const last = parts[parts.length - 1];
    if (value === undefined) {
      if (Array.isArray(obj) && typeof last === 'number') obj.splice(last, 1); else delete obj[last];
    } else {
      obj[last] = value;
    }
    return true;
  }
  function cloneMessage(value) {
    if (value === null || typeof value !== 'object') return value;
    if (BufferClass && value instanceof BufferClass) return value;
    if (value instanceof Date) return new Date(value.getTime());
    if (value instanceof RegExp || value instanceof HostRef) return value;
    if (Array.isArray(value)) return value.map(cloneMessage);
    const out = {};
    for (const key of Object.keys(value)) {
      out[key] = (key === 'req' || key === 'res') && value === this ? value[key] : cloneMessage(value[key]);
    }
    return out;
  }

  // -- util (format and inspect, as much as flows use) ----------------------------
  function inspect(value, depth) {
    if (depth === undefined) depth = 2;
    if (typeof value === 'string') return "'" + value.replace(/'/g, "\\'") + "'";
    if (value === null || typeof value !== 'object') return String(value);
    if (BufferClass && value instanceof BufferClass) {
      return '<Buffer ' + Array.prototype.slice.call(value, 0, 50).map((b) => (b < 16 ? '0' : '') + b.toString(16)).join(' ') + '>';
    }
    if (value instanceof Date) return value.toISOString();
    if (value instanceof Error) return value.stack || String(value);
    if (depth < 0) return Array.isArray(value) ? '[Array]' : '[Object]';
    if (Array.isArray(value)) return value.length ? '[ ' + value.map((v) => inspect(v, depth - 1)).join(', ') + ' ]' : '[]';
    const keys = Object.keys(value);
    if (!keys.length) return '{}';
    return '{ ' + keys.map((k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : "'" + k + "'") + ': ' + inspect(value[k], depth - 1)).join(', ') + ' }';
  }
  function format(first) {
    const args = Array.prototype.slice.call(arguments, 1);
    if (typeof first !== 'string') return [first].concat(args).map((a) => (typeof a === 'string' ? a : inspect(a))).join(' ');
    let index = 0;
    let text = first.replace(/%([sdifjoO%])/g, (match, code) => {
      if (code === '%') return '%';
      if (index >= args.length) return match;
      const arg = args[index++];
      switch (code) {
        case 's': return typeof arg === 'string' ? arg : (typeof arg === 'object' && arg !== null ? inspect(arg, 1) : String(arg));
        case 'd': return typeof arg === 'object' ? 'NaN' : String(Number(arg));
        case 'i': return String(parseInt(arg, 10));
        case 'f': return String(parseFloat(arg));
        case 'j': try { return JSON.stringify(arg); } catch (e) { return '[Circular]'; }
        default: return inspect(arg, 4);
      }
    });
    for (; index < args.length; index++) text += ' ' + (typeof args[index] === 'string' ? args[index] : inspect(args[index]));
    return text;
  }

  // -- timers ----------------------------------------------------------------
  const timers = new Map();
  let nextTimerId = 1;
  function addTimer(fn, ms, args, repeat) {
    if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
    const id = nextTimerId++;
    timers.set(id, { fn, args, repeat });
    host.timer(id, Math.max(0, Number(ms) || 0), repeat);
    return id;
  }
  function removeTimer(id) {
    if (timers.delete(id)) host.clearTimer(id);
  }
  const setTimeoutApi = function (fn, ms, ...args) { return addTimer(fn, ms, args, false); };
  setTimeoutApi[Symbol.for('nodejs.util.promisify.custom')] = (ms, value) => new Promise((resolve) => addTimer(() => resolve(value), ms, [], false));

  function fireTimer(id, version) {
    syncContext(version);
    const timer = timers.get(id);
    if (!timer) return null;
    if (!timer.repeat) timers.delete(id);
    try {
      timer.fn.apply(null, timer.args);
    } catch (err) {
      nodeError(err, {});
    }
    return takeEvents();
  }

  // -- globals user code sees -----------------------------------------------
  const consoleApi = {};
  for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace']) {
    consoleApi[level] = function () { host.console(level, flat([format.apply(null, arguments)])); };
  }
  const utilApi = {
    format: format,
    inspect: inspect,
    promisify: function (fn) {
      const custom = fn && fn[Symbol.for('nodejs.util.promisify.custom')];
      if (custom) return custom;
      return (...args) => new Promise((resolve, reject) => fn(...args, (err, value) => (err ? reject(err) : resolve(value))));
    },
    isArray: Array.isArray,
  };
  const redApi = {
    util: {
      cloneMessage: cloneMessage,
      generateId: generateId,
      getMessageProperty: getMessageProperty,
      setMessageProperty: setMessageProperty,
      getObjectProperty: getMessageProperty,
      setObjectProperty: setMessageProperty,
      getSetting: function (_node, name) { return decodeResult(host.env(String(name))); },
    },
  };
  Object.assign(g, {
    console: consoleApi,
    util: utilApi,
    RED: redApi,
    context: nodeContext,
    flow: flowApi,
    global: globalApi,
    env: { get: (name) => decodeResult(host.env(String(name))) },
    setTimeout: setTimeoutApi,
    clearTimeout: removeTimer,
    setInterval: (fn, ms, ...args) => addTimer(fn, ms, args, true),
    clearInterval: removeTimer,
    promisify: utilApi.promisify,
  });

  // -- entry points called from Python ------------------------------------
  let userFunction = null;
  let usesNode = true;
  let sharedNode = null;
  let userLines = [];
  let autoDone = true;
  let wantDoneMsg = false;

  function isThenable(value) {
    return value !== null && typeof value === 'object' && typeof value.then === 'function';
  }

  let msgMarshalled = true;
  let inputBuffers = false;

  // Run the body for one message and return the events, or null if none.
  // text is null when the body never mentions msg: the message is then not
  // sent across at all, and Python keeps the original for errors and done.
  function runMessage(text, tagged, msgid, callId, tracked, version) {
    syncContext(version);
    msgMarshalled = text !== null;
    inputBuffers = false;
    const msg = text === null ? { _msgid: msgid } : fromWire(text, tagged);
    // Building the node object costs more than a simple body; a body that
    // never names `node` gets a shared one it cannot observe.
    const node = usesNode ? makeNode(msg, callId, 'input') : sharedNode;
    let results;
    try {
      results = userFunction(msg, node);
    } catch (err) {
      // Node-RED's body runs in an async wrapper, so a throw becomes a
      // rejection and the Error is stored in msg.error.
      if (err instanceof Error && msgMarshalled) msg.error = err;
      pushFailure(callId, err, msg);
      return finish(msg);
    }
    if (isThenable(results)) {
      const marshalled = msgMarshalled;
      results.then((value) => {
        sendResults(value, msg._msgid, false);
        if (autoDone) pushDone(callId, null, msg, true);
      }, (err) => {
        msgMarshalled = marshalled;
        if (err instanceof Error && marshalled) msg.error = err;
        pushFailure(callId, err, msg);
      });
    } else {
      sendResults(results, msg._msgid, false);
      if (autoDone) pushDone(callId, null, msg, tracked);
    }
    return finish(msg);
  }

  // Node-RED rewrites a ReferenceError's message to name the line and column
  // in the editor; the column it gives is where the statement starts.
  function describeReferenceError(err) {
    if (!(err instanceof ReferenceError) || typeof err.stack !== 'string') return;
    const match = /:(\d+):(\d+)\)?\s*(\n|$)/.exec(err.stack);
    if (!match) return;
    const line = Number(match[1]) - 1;
    const text = userLines[line] || '';
    const column = text.length - text.replace(/^\s+/, '').length + 1;
    err.message = 'ReferenceError: ' + err.message + ' (line ' + line + ', col ' + column + ')';
  }

  function pushFailure(callId, err, msg) {
    describeReferenceError(err);
    const marshalled = msgMarshalled;
    push(() => '["x",' + callId + ',' + errorWire(err) + ',' + (marshalled ? toWire(msg) : 'null') + ']');
  }

  function finish(msg) {
    if (inputBuffers) {
      const updates = [];
      bufferUpdates(msg, new Set(), updates);
      if (updates.length) push('["b",[' + updates.join(',') + ']]');
    }
    return takeEvents();
  }

  g.__outwire = {
    configure: function (info, wantMsgOnDone, lazyWrites) {
      nodeInfo = JSON.parse(info);
      wantDoneMsg = wantMsgOnDone;
      lazyNodeWrites = lazyWrites;
    },
    writeBack: function () {
      if (nodeDirty.length) writeNodeDirty();
    },
    compile: function (source, usesDone, mentionsNode) {
      userFunction = (0, eval)(source);
      userLines = source.split('\n');
      autoDone = !usesDone;
      usesNode = mentionsNode;
      sharedNode = makeNode(null, 0, 'input');
    },
    run: runMessage,
    runSetup: function (source) {
      const setup = (0, eval)(source);
      const node = makeNode(null, 0, 'init');
      const failed = (err) => push(() => '["i",' + errorWire(err) + ']');
      try {
        const result = setup(node);
        if (isThenable(result)) result.then(() => push('["i",null]'), failed);
        else push('["i",null]');
      } catch (err) {
        failed(err);
      }
      return takeEvents();
    },
    runClose: function (source) {
      try {
        if (source) (0, eval)(source)(makeNode(null, 0, 'close'));
      } catch (err) {
        nodeError(err);
      }
      for (const handler of closeHandlers.splice(0)) {
        try { handler(); } catch (err) { nodeError(err); }
      }
      for (const id of Array.from(timers.keys())) removeTimer(id);
      if (statusUsed) nodeStatus({});
      if (nodeDirty.length) writeNodeDirty();
      return takeEvents();
    },
    fireTimer: fireTimer,
    takeEvents: takeEvents,
  };
})(globalThis);
