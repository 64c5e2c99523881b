// An independent check of an `nrm audit export` (JSON Lines), written from the README alone,
// in another language than the service: if Python and JavaScript disagree on a single byte of
// a hashed event, this script says so.
//
//   node tests/verify_export.mjs nrm-audit.jsonl     exit 0: every hash, chain and Merkle root
//                                                     recomputes; exit 1: the first line that
//                                                     does not, on standard error
//
// It checks: every line is exactly the canonical JSON of what it parses to (so a number that
// JavaScript would read differently, a float or an integer beyond 2**53 - 1, is caught); each
// event's hash is SHA-256 of the canonical JSON of its hashed fields; each event links to the
// previous one of its stream (prev_hash, stream_seq); each checkpoint's Merkle root (RFC 6962,
// leaves 0x00 || seq as 8 bytes || event hash) and hash, and its link to the previous one; and
// each head line against its stream. Signatures are left to `nrm audit verify --offline`.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const HASHED_FIELDS = [
  "actor", "actor_id", "actor_role", "at", "case_id", "from_state", "kind", "ministry", "note",
  "payload", "prev_hash", "stream", "stream_seq", "to_state", "trigger",
];
const ACCESS_FIELDS = ["access_count", "access_last_id", "access_root"];
const SIGNED_FIELDS = [
  "created_at", "event_count", "first_seq", "format", "key_id", "last_seq", "number",
  "prev_hash", "root",
];
const GENESIS = "0".repeat(64);

// Keys sorted by Unicode code point (as Python sorts str), not by UTF-16 code unit.
function byCodePoint(a, b) {
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

function canonical(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`not a portable integer: ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const keys = Object.keys(value).sort(byCodePoint);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
}

const sha256 = (bytes) => createHash("sha256").update(bytes).digest();
const pick = (record, fields) => Object.fromEntries(fields.map((name) => [name, record[name]]));

function merkleRoot(leaves) {
  if (leaves.length === 0) return sha256(Buffer.alloc(0));
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  const left = merkleRoot(leaves.slice(0, k));
  const right = merkleRoot(leaves.slice(k));
  return sha256(Buffer.concat([Buffer.from([1]), left, right]));
}

function eventLeaf(seq, hash) {
  const position = Buffer.alloc(8);
  position.writeBigUInt64BE(BigInt(seq));
  return sha256(Buffer.concat([Buffer.from([0]), position, Buffer.from(hash, "hex")]));
}

function verify(text) {
  const streams = new Map(); // stream -> {count, head}
  const pending = []; // [seq, hash] of events since the last checkpoint
  let previousCheckpoint = GENESIS;
  let events = 0;
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  lines.forEach((raw, index) => {
    const where = `line ${index + 1}`;
    const record = JSON.parse(raw);
    let again;
    try {
      again = canonical(record);
    } catch (error) {
      throw new Error(`${where}: ${error.message}`);
    }
    if (again !== raw) throw new Error(`${where}: not in canonical form`);
    if (record.type === "event") {
      const hash = sha256(Buffer.from(canonical(pick(record, HASHED_FIELDS)), "utf8"));
      if (hash.toString("hex") !== record.hash) throw new Error(`${where}: event hash differs`);
      const stream = streams.get(record.stream) ?? { count: 0, head: GENESIS };
      if (record.prev_hash !== stream.head || record.stream_seq !== stream.count + 1) {
        throw new Error(`${where}: event does not link to its stream ${record.stream}`);
      }
      streams.set(record.stream, { count: record.stream_seq, head: record.hash });
      pending.push([record.seq, record.hash]);
      events += 1;
    } else if (record.type === "checkpoint") {
      const covered = pending.filter(([seq]) => seq >= record.first_seq && seq <= record.last_seq);
      const root = merkleRoot(covered.map(([seq, hash]) => eventLeaf(seq, hash)));
      if (covered.length !== record.event_count || root.toString("hex") !== record.root) {
        throw new Error(`${where}: checkpoint ${record.number} root differs`);
      }
      const signed = record.format === "nrm-audit-checkpoint/2"
        ? [...SIGNED_FIELDS, ...ACCESS_FIELDS] // the identity-access seal (its rows are not exported)
        : SIGNED_FIELDS;
      const hash = sha256(Buffer.from(canonical(pick(record, signed)), "utf8"));
      if (hash.toString("hex") !== record.hash || record.prev_hash !== previousCheckpoint) {
        throw new Error(`${where}: checkpoint ${record.number} hash or link differs`);
      }
      previousCheckpoint = record.hash;
      pending.splice(0, pending.length, ...pending.filter(([seq]) => seq > record.last_seq));
    } else if (record.type === "head") {
      const stream = streams.get(record.stream) ?? { count: 0, head: GENESIS };
      if (stream.count !== record.event_count || stream.head !== record.head_hash) {
        throw new Error(`${where}: head of ${record.stream} differs from its events`);
      }
    } else if (record.type === "end" && record.events !== events) {
      throw new Error(`${where}: ${record.events} events announced, ${events} read`);
    }
  });
  return events;
}

try {
  const events = verify(readFileSync(process.argv[2], "utf8"));
  console.log(`ok: ${events} events recomputed`);
} catch (error) {
  console.error(`broken: ${error.message}`);
  process.exit(1);
}
