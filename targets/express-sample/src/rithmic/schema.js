'use strict';

// R|Protocol message types, loaded with protobufjs from a FileDescriptorSet that
// scripts/export_rithmic_schema.py builds out of the vendor's generated Python modules.
// If the file is missing at start we build it (RITHMIC_SCHEMA_PYTHON names the interpreter).

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const protobuf = require('protobufjs');
require('protobufjs/ext/descriptor');
const { logger } = require('../log');

const log = logger('rithmic.schema');

// Template ids from the R|Protocol reference guide, for the messages this gateway uses.
const TEMPLATES = Object.freeze({
  10: 'RequestLogin',
  11: 'ResponseLogin',
  12: 'RequestLogout',
  13: 'ResponseLogout',
  16: 'RequestRithmicSystemInfo',
  17: 'ResponseRithmicSystemInfo',
  18: 'RequestHeartbeat',
  19: 'ResponseHeartbeat',
  75: 'Reject',
  77: 'ForcedLogout',
  100: 'RequestMarketDataUpdate',
  101: 'ResponseMarketDataUpdate',
  150: 'LastTrade',
  151: 'BestBidOffer',
  300: 'RequestLoginInfo',
  301: 'ResponseLoginInfo',
  302: 'RequestAccountList',
  303: 'ResponseAccountList',
  308: 'RequestSubscribeForOrderUpdates',
  309: 'ResponseSubscribeForOrderUpdates',
  310: 'RequestTradeRoutes',
  311: 'ResponseTradeRoutes',
  312: 'RequestNewOrder',
  313: 'ResponseNewOrder',
  316: 'RequestCancelOrder',
  317: 'ResponseCancelOrder',
  320: 'RequestShowOrders',
  321: 'ResponseShowOrders',
  351: 'RithmicOrderNotification',
  352: 'ExchangeOrderNotification',
});

const INFRA = Object.freeze({ TICKER_PLANT: 1, ORDER_PLANT: 2, HISTORY_PLANT: 3, PNL_PLANT: 4 });

function ensureDescriptorFile(file, python) {
  if (fs.existsSync(file)) return;
  if (!python) {
    throw new Error(`Rithmic schema ${file} is missing; run "make express-sample" or set RITHMIC_SCHEMA_PYTHON`);
  }
  const script = path.resolve(__dirname, '..', '..', 'scripts', 'export_rithmic_schema.py');
  log.info('building the Rithmic schema', { file, python });
  execFileSync(python, [script, file], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 120_000 });
}

class Schema {
  constructor(root) {
    this.root = root;
    this.base = root.lookupType('rti.Base');
    this.byTemplate = new Map();
    for (const [id, name] of Object.entries(TEMPLATES)) {
      this.byTemplate.set(Number(id), root.lookupType(`rti.${name}`));
    }
  }

  encode(templateId, fields) {
    const type = this.byTemplate.get(templateId);
    if (!type) throw new Error(`no message type for template ${templateId}`);
    const message = type.fromObject({ ...fields, template_id: templateId });
    return type.encode(message).finish();
  }

  // { templateId, message } for one protobuf payload; throws on malformed bytes.
  decode(payload) {
    const templateId = this.base.decode(payload).template_id;
    const type = this.byTemplate.get(templateId);
    if (!type) return { templateId, message: null };
    return { templateId, message: type.decode(payload) };
  }
}

function loadSchema({ schemaFile, schemaPython }) {
  ensureDescriptorFile(schemaFile, schemaPython);
  const root = protobuf.Root.fromDescriptor(fs.readFileSync(schemaFile));
  return new Schema(root);
}

module.exports = { loadSchema, TEMPLATES, INFRA };
