'use strict';

// Venue credentials that rotate: the Rithmic password, the TT app secret and the Stripe webhook
// secret. They come from the environment, and from SECRETS_FILE (a JSON object) when it is set:
// keys present there override the variables of the same names. Operations rotate a credential at
// the venue (the old value stays valid for a grace period), rewrite the file and send SIGHUP; the
// gateway re-reads it without a restart, so no session is lost to a rotation. A file that cannot
// be used is refused whole and the last good values kept. Values are never logged, only names.

const fs = require('node:fs');
const { logger } = require('./log');

const log = logger('secrets');

const ROTATING = Object.freeze(['RITHMIC_PASSWORD', 'TT_APP_SECRET', 'STRIPE_WEBHOOK_SECRET']);

class SecretsFileError extends Error {}

// Messages name the variable and the keys, never the content (JSON.parse's own message quotes
// it), nor the file's path: where the deployment keeps its secrets is not for the log either.
function readFile(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SecretsFileError(`SECRETS_FILE cannot be read (${err.code || 'error'})`);
  }
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SecretsFileError(`SECRETS_FILE is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SecretsFileError(`SECRETS_FILE must hold one JSON object`);
  }
  const unknown = Object.keys(parsed).filter((key) => !ROTATING.includes(key));
  if (unknown.length) {
    // a misspelt key would otherwise leave the old credential in use without a word
    throw new SecretsFileError(`SECRETS_FILE: unknown keys ${unknown.join(', ')}; known: ${ROTATING.join(', ')}`);
  }
  const bad = Object.keys(parsed).filter((key) => typeof parsed[key] !== 'string' || parsed[key] === '');
  if (bad.length) throw new SecretsFileError(`SECRETS_FILE: ${bad.join(', ')} must be non-empty strings`);
  return parsed;
}

/** The current values of the rotating credentials; each use reads `get` again. */
class SecretStore {
  constructor(env, file) {
    this.file = file;
    this.fromEnv = Object.fromEntries(ROTATING.filter((key) => env[key]).map((key) => [key, env[key]]));
    const fromFile = file ? readFile(file) : {};
    this.fileKeys = Object.keys(fromFile);
    this.values = Object.freeze({ ...this.fromEnv, ...fromFile });
    this.reloads = 0;
  }

  get(name) {
    return this.values[name];
  }

  /** Re-read the file: the names whose value changed; SecretsFileError keeps the last good values. */
  reload() {
    if (!this.file) return [];
    const fromFile = readFile(this.file);
    const next = Object.freeze({ ...this.fromEnv, ...fromFile });
    const lost = ROTATING.filter((key) => this.values[key] !== undefined && next[key] === undefined);
    if (lost.length) {
      throw new SecretsFileError(`SECRETS_FILE drops ${lost.join(', ')}, and the environment has none`);
    }
    const changed = ROTATING.filter((key) => next[key] !== this.values[key]);
    this.values = next;
    this.fileKeys = Object.keys(fromFile);
    this.reloads += 1;
    return changed;
  }
}

/** SIGHUP: re-read the file, and say which names changed (or why nothing did). */
function reloadSecrets(store) {
  if (!store.file) {
    log.warn('SIGHUP: no SECRETS_FILE to re-read; the credentials stay as they were');
    return null;
  }
  try {
    const changed = store.reload();
    log.info('secrets reloaded', { changed, reloads: store.reloads });
    return changed;
  } catch (err) {
    if (!(err instanceof SecretsFileError)) throw err;
    log.error('secrets not reloaded: keeping the last good values', { err });
    return null;
  }
}

module.exports = { SecretStore, SecretsFileError, ROTATING, reloadSecrets };
