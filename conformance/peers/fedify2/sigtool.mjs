// Fedify 2 as an independent peer for fedgroups' HTTP signature tests: it speaks
// RFC 9421 as well as draft-cavage. Run it with node_modules/.bin/node (Node 22).
//
// Reads a JSON array of jobs on stdin and prints a JSON array of results, one per job.
// Bodies travel base64-encoded so the exact bytes survive the trip.
//
//   {"op": "verify", "method", "url", "headers": {...}, "bodyBase64",
//    "keyId", "owner", "publicKeyPem", "now": ISO-8601}
//     -> {"verified": true|false, "keyId": "<key Fedify resolved>" | null, "reason": ...}
//   {"op": "sign", "spec": "rfc9421" | "draft-cavage-http-signatures-12", "method", "url",
//    "headers": {...}, "bodyBase64", "keyId", "privateKeyPem", "now": ISO-8601}
//     -> {"method", "url", "headers": {...}, "bodyBase64"}
//
// Verification picks the scheme the way Fedify does: RFC 9421 when Signature-Input is present.
//
// Nothing touches the network: the key document comes from the job, JSON-LD contexts
// from the ones Fedify ships preloaded.
import { Buffer } from "node:buffer";
import { webcrypto } from "node:crypto";
import process from "node:process";

import { Temporal } from "@js-temporal/polyfill";
import { getDocumentLoader, signRequest, verifyRequestDetailed } from "@fedify/fedify";

const PRELOADED = new Set([
  "https://www.w3.org/ns/activitystreams",
  "https://w3id.org/security/v1",
  "https://w3id.org/security/data-integrity/v1",
  "https://w3id.org/security/multikey/v1",
]);
const builtinLoader = getDocumentLoader();

async function contextLoader(url) {
  if (!PRELOADED.has(url)) throw new Error(`refusing to fetch ${url}`);
  return await builtinLoader(url);
}

function actorDocument(job) {
  return {
    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
    id: job.owner,
    type: "Person",
    preferredUsername: "peer",
    inbox: `${job.owner}/inbox`,
    publicKey: { id: job.keyId, owner: job.owner, publicKeyPem: job.publicKeyPem },
  };
}

function keyDocumentLoader(job) {
  const actor = actorDocument(job);
  return async (url) => {
    const bare = url.split("#")[0];
    if (url !== job.keyId && bare !== job.owner) throw new Error(`unknown document ${url}`);
    return { contextUrl: null, documentUrl: url, document: actor };
  };
}

function buildRequest(job) {
  const hasBody = job.bodyBase64 != null && job.method !== "GET" && job.method !== "HEAD";
  return new Request(job.url, {
    method: job.method,
    headers: job.headers,
    body: hasBody ? Buffer.from(job.bodyBase64, "base64") : undefined,
  });
}

async function verify(job) {
  const result = await verifyRequestDetailed(buildRequest(job), {
    documentLoader: keyDocumentLoader(job),
    contextLoader,
    currentTime: Temporal.Instant.from(job.now),
  });
  if (result.verified) return { verified: true, keyId: result.key.id?.href ?? null };
  return { verified: false, keyId: null, reason: result.reason.type };
}

function pemToDer(pem) {
  const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return Buffer.from(b64, "base64");
}

async function sign(job) {
  const privateKey = await webcrypto.subtle.importKey(
    "pkcs8",
    pemToDer(job.privateKeyPem),
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    true, // Fedify insists on extractable keys
    ["sign"],
  );
  const signed = await signRequest(buildRequest(job), privateKey, new URL(job.keyId), {
    spec: job.spec,
    currentTime: Temporal.Instant.from(job.now),
  });
  const body = Buffer.from(await signed.arrayBuffer());
  return {
    method: signed.method,
    url: signed.url,
    headers: Object.fromEntries(signed.headers),
    bodyBase64: body.toString("base64"),
  };
}

async function run(job) {
  try {
    if (job.op === "verify") return await verify(job);
    if (job.op === "sign") return await sign(job);
    return { error: `unknown op ${job.op}` };
  } catch (error) {
    return { error: String(error) };
  }
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const jobs = JSON.parse(Buffer.concat(chunks).toString("utf-8"));
  const results = [];
  for (const job of jobs) results.push(await run(job));
  process.stdout.write(JSON.stringify(results));
}

await main();
