'use strict';

// A small structured logger: one JSON object per line on stdout (what our log shipper expects).

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold = LEVELS.info;

function setLevel(name) {
  threshold = LEVELS[name] ?? LEVELS.info;
}

function write(level, component, msg, fields) {
  if (LEVELS[level] < threshold) return;
  const line = { t: new Date().toISOString(), level, component, msg };
  if (fields) {
    for (const [key, value] of Object.entries(fields)) {
      line[key] = value instanceof Error ? value.message : value;
    }
  }
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function logger(component) {
  return {
    debug: (msg, fields) => write('debug', component, msg, fields),
    info: (msg, fields) => write('info', component, msg, fields),
    warn: (msg, fields) => write('warn', component, msg, fields),
    error: (msg, fields) => write('error', component, msg, fields),
  };
}

module.exports = { logger, setLevel };
