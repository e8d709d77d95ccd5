// Fedify as an independent peer for fedgroups' HTTP signature tests, for any Fedify version:
// each peer folder (fedify: 1.x on Node 20; fedify2: 2.x on Node 22, which also speaks
// RFC 9421) has a sigtool.mjs that imports its own Fedify and hands it to runSigtool.
//
// Reads a JSON array of jobs on stdin and prints a JSON array of results, one per job.
// Bodies travel base64-encoded so the exact bytes survive the trip.
//
//   {"op": "verify", "method", "url", "headers": {...}, "bodyBase64",
//    "keyId", "owner", "publicKeyPem", "now": ISO-8601}
//     -> {"verified": true|false, "keyId": "<key Fedify resolved>" | null, "reason"?: ...}
//   {"op": "sign", "method", "url", "headers": {...}, "bodyBase64", "keyId", "privateKeyPem",
//    "spec"?: "rfc9421" | "draft-cavage-http-signatures-12", "now"?: ISO-8601 (Fedify 2)}
//     -> {"method", "url", "headers": {...}, "bodyBase64"}
//
// Verification picks the scheme the way Fedify does: RFC 9421 when Signature-Input is present.
// Nothing touches the network: the key document comes from the job, JSON-LD contexts
// from the ones Fedify ships preloaded.
import { Buffer } from "node:buffer";
import { webcrypto } from "node:crypto";
import process from "node:process";

const PRELOADED = new Set([
  "https://www.w3.org/ns/activitystreams",
  "https://w3id.org/security/v1",
  "https://w3id.org/security/data-integrity/v1",
  "https://w3id.org/security/multikey/v1",
]);

function contextLoaderOf(fedify) {
  const builtinLoader = fedify.getDocumentLoader();
  return async (url) => {
    if (!PRELOADED.has(url)) throw new Error(`refusing to fetch ${url}`);
    return await builtinLoader(url);
  };
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

async function verify(fedify, Temporal, job) {
  const options = {
    documentLoader: keyDocumentLoader(job),
    contextLoader: contextLoaderOf(fedify),
    currentTime: Temporal.Instant.from(job.now),
  };
  if (fedify.verifyRequestDetailed == null) {
    // Fedify 1.x says only whether it verified, and with which key.
    const key = await fedify.verifyRequest(buildRequest(job), options);
    return { verified: key != null, keyId: key?.id?.href ?? null };
  }
  const result = await fedify.verifyRequestDetailed(buildRequest(job), options);
  if (result.verified) return { verified: true, keyId: result.key.id?.href ?? null };
  return { verified: false, keyId: null, reason: result.reason.type };
}

function pemToDer(pem) {
  const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return Buffer.from(b64, "base64");
}

async function sign(fedify, Temporal, job) {
  const privateKey = await webcrypto.subtle.importKey(
    "pkcs8",
    pemToDer(job.privateKeyPem),
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    true, // Fedify insists on extractable keys
    ["sign"],
  );
  // Fedify 1.x signs draft-cavage only and ignores these options.
  const options = job.spec == null ? {} : { spec: job.spec, currentTime: Temporal.Instant.from(job.now) };
  const signed = await fedify.signRequest(buildRequest(job), privateKey, new URL(job.keyId), options);
  const body = Buffer.from(await signed.arrayBuffer());
  return {
    method: signed.method,
    url: signed.url,
    headers: Object.fromEntries(signed.headers),
    bodyBase64: body.toString("base64"),
  };
}

async function run(fedify, Temporal, job) {
  try {
    if (job.op === "verify") return await verify(fedify, Temporal, job);
    if (job.op === "sign") return await sign(fedify, Temporal, job);
    return { error: `unknown op ${job.op}` };
  } catch (error) {
    return { error: String(error) };
  }
}

/** Read the jobs on stdin, run each with the given Fedify module, print the results. */
export async function runSigtool(fedify, Temporal) {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const jobs = JSON.parse(Buffer.concat(chunks).toString("utf-8"));
  const results = [];
  for (const job of jobs) results.push(await run(fedify, Temporal, job));
  process.stdout.write(JSON.stringify(results));
}

