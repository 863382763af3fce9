'use strict';

// The CQG WebAPI wire schema, loaded with protobufjs straight from stack-uat's own .proto text
// (mocks/cqg/proto/webapi.proto: no CQG file is copied, and there is no build step to forget).
// CQG_PROTO names another copy, e.g. in an image that ships without the repository's mocks/.
// Field names keep the .proto's snake_case, so they read as in CQG's documentation.

const fs = require('node:fs');
const path = require('node:path');
const protobuf = require('protobufjs');

const DEFAULT_PROTO = path.resolve(__dirname, '..', '..', '..', '..', 'mocks', 'cqg', 'proto', 'webapi.proto');

// Conversion for decoded messages: 64-bit fields as numbers (times in ms, scaled prices up to
// 10^12 and significands all fit a double exactly), and only the fields the server set.
const TO_OBJECT = Object.freeze({ longs: Number, enums: Number, bytes: Buffer, defaults: false, arrays: true });

class Schema {
  constructor(root) {
    this.ClientMsg = root.lookupType('stackuat.cqg.ClientMsg');
    this.ServerMsg = root.lookupType('stackuat.cqg.ServerMsg');
  }

  encode(fields) {
    const problem = this.ClientMsg.verify(fields);
    if (problem) throw new Error(`bad ClientMsg: ${problem}`);
    return this.ClientMsg.encode(this.ClientMsg.fromObject(fields)).finish();
  }

  // One ServerMsg as a plain object; throws on bytes that are not one (truncated, garbage).
  decode(payload) {
    return this.ServerMsg.toObject(this.ServerMsg.decode(payload), TO_OBJECT);
  }
}

function protoFile() {
  return process.env.CQG_PROTO || DEFAULT_PROTO;
}

function loadSchema(file = protoFile()) {
  if (!fs.existsSync(file)) {
    throw new Error(`CQG schema ${file} is missing; set CQG_PROTO to a copy of mocks/cqg/proto/webapi.proto`);
  }
  const root = new protobuf.Root();
  root.loadSync(file, { keepCase: true });
  return new Schema(root.resolveAll());
}

// CQG's Decimal {significand, exponent} as a JavaScript number, computed exactly in BigInt and
// in decimal text, so 15e-1 is 1.5 and 1e3 is 1000 with no binary rounding on the way. An unset
// Decimal is 0 (CQG leaves fill_qty out of an unfilled order's status).
function fromDecimal(d) {
  if (!d) return 0;
  const significand = BigInt(Math.trunc(Number(d.significand ?? 0)));
  const exponent = Number(d.exponent ?? 0);
  if (exponent >= 0) return Number(significand * 10n ** BigInt(exponent));
  const digits = (significand < 0n ? -significand : significand).toString().padStart(1 - exponent, '0');
  const cut = digits.length + exponent;
  return Number(`${significand < 0n ? '-' : ''}${digits.slice(0, cut)}.${digits.slice(cut)}`);
}

// A whole number of contracts as a Decimal (exponent 0, as the mock writes integers).
function toDecimal(qty) {
  if (!Number.isSafeInteger(qty)) throw new Error(`quantity ${qty} is not a whole number of contracts`);
  return { significand: qty, exponent: 0 };
}

// base_time is ISO 8601 in UTC, written without a zone ("2026-12-06T14:55:00"): read it as UTC,
// never as local time. Every *_utc_time is milliseconds from it.
function baseEpochMs(baseTime) {
  const text = String(baseTime || '');
  const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`;
  const ms = Date.parse(zoned);
  if (Number.isNaN(ms)) throw new Error(`base_time ${JSON.stringify(baseTime)} is not an ISO 8601 time`);
  return ms;
}

module.exports = { loadSchema, fromDecimal, toDecimal, baseEpochMs, DEFAULT_PROTO };
