// Fedify as an independent, Mastodon-like ActivityPub server for fedgroups' end-to-end tests.
//
//   node peer.mjs PORT        serves http://127.0.0.1:PORT until killed
//
// Everything federated is Fedify's own: its Federation object (in-memory KV, no queue, so
// deliveries happen during the control call that causes them), its HTTP signatures both ways,
// WebFinger and NodeInfo endpoints, actor/object dispatchers and inbox verification. Persons
// behave toward groups the way Mastodon users do (federation-interop.md 4.1, 4.2): they find
// `@group@host` by WebFinger, follow it, and post Notes that mention it with Mastodon's
// addressing for public, unlisted, followers-only and direct visibility.
//
// NodeInfo names the software "fedify-peer": this is not Mastodon and does not claim to be.
// fedgroups treats software it does not know as "send both Announce styles".
//
// A small JSON control API under /control/ (loopback callers only) drives it:
//   GET  /control/health                              -> {origin, software}
//   POST /control/persons   {name}                    -> {id, handle, inbox, sharedInbox}
//   POST /control/lookup    {handle}                  -> {object}  (WebFinger, then the actor)
//   POST /control/follow    {person, target}          -> {id, target}
//   POST /control/unfollow  {person, target}          -> {id, follow}
//   POST /control/notes     {person, content, mention?, visibility?, inReplyTo?, poll?, deliverTo?}
//                                                     -> {id, activity, object}
//   POST /control/votes     {person, question, option, deliverTo?} -> {id, activity, object}
//   POST /control/edit      {person, note, content}   -> {activity}
//   POST /control/delete    {person, note}            -> {activity}
//   GET  /control/received                            -> [{inbox, activity}] verified by Fedify
//   GET  /control/deliveries                          -> [{path, status}] every inbox POST
import { Buffer } from "node:buffer";
import { randomUUID, webcrypto } from "node:crypto";
import http from "node:http";
import process from "node:process";

import { Temporal } from "@js-temporal/polyfill";
import {
  Activity,
  Create,
  createFederation,
  Delete,
  Endpoints,
  Follow,
  isActor,
  MemoryKvStore,
  Mention,
  Note,
  PUBLIC_COLLECTION,
  Person,
  Question,
  Tombstone,
  Undo,
  Update,
} from "@fedify/fedify";

const SOFTWARE = "fedify-peer";
const port = Number.parseInt(process.argv[2] ?? "", 10);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write("usage: node peer.mjs PORT\n");
  process.exit(2);
}
const origin = `http://127.0.0.1:${port}`;

// --- state: everything lives in memory for the life of the process ------------------------

const persons = new Map(); // name -> {keyPairs, follows: Map(target id -> Follow)}
const statuses = new Map(); // `${name}/${id}` -> {object, create, deleted}
const received = []; // activities Fedify verified, as they arrived on the wire
const deliveries = []; // every POST to an inbox, with the status Fedify answered

// --- WebFinger over plain http on loopback ------------------------------------------------
// Fedify (rightly, RFC 7033) asks WebFinger over https only. The instances under test serve
// plain http on loopback, so there, and only for the WebFinger path, the peer asks over http,
// as Mastodon does in development mode. Nothing else is rewritten.
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
const httpsFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (
    url.protocol === "https:" &&
    LOOPBACK.has(url.hostname) &&
    url.pathname === "/.well-known/webfinger"
  ) {
    url.protocol = "http:";
    return httpsFetch(url, init);
  }
  return httpsFetch(input, init);
};

// --- the federation -----------------------------------------------------------------------

const federation = createFederation({
  kv: new MemoryKvStore(),
  allowPrivateAddress: true, // loopback peers; never in production
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (!persons.has(identifier)) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: `${identifier} (Fedify)`,
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      outbox: ctx.getOutboxUri(identifier),
      followers: ctx.getFollowersUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      manuallyApprovesFollowers: false,
      publicKey: keys[0].cryptographicKey,
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => {
    const person = persons.get(identifier);
    return person == null ? [] : person.keyPairs;
  });

federation
  .setFollowersDispatcher("/users/{identifier}/followers", () => ({ items: [] }))
  .setCounter(() => 0);
federation
  .setOutboxDispatcher("/users/{identifier}/outbox", () => ({ items: [] }))
  .setCounter(() => 0);

// Statuses are dereferenceable at their ids (signed fetches welcome, never required), and
// their Create at `<id>/activity`, as on Mastodon. Deleted ones answer 404, as on Mastodon.
function liveStatus(values, kind = null) {
  const status = statuses.get(`${values.identifier}/${values.id}`);
  if (status == null || status.deleted) return null;
  return kind == null || status.object instanceof kind ? status : null;
}
federation.setObjectDispatcher(
  Note,
  "/users/{identifier}/statuses/{id}",
  (_ctx, values) => liveStatus(values, Note)?.object ?? null,
);
federation.setObjectDispatcher(
  Question,
  "/users/{identifier}/polls/{id}",
  (_ctx, values) => liveStatus(values, Question)?.object ?? null,
);
federation.setObjectDispatcher(
  Create,
  "/users/{identifier}/statuses/{id}/activity",
  (_ctx, values) => liveStatus(values)?.create ?? null,
);

federation.setNodeInfoDispatcher("/nodeinfo/2.1", () => ({
  software: {
    name: SOFTWARE,
    version: { major: 1, minor: 5, patch: 9, build: [], prerelease: [] },
  },
  protocols: ["activitypub"],
  openRegistrations: false,
  usage: {
    users: { total: persons.size, activeMonth: persons.size, activeHalfyear: persons.size },
    localPosts: statuses.size,
    localComments: 0,
  },
}));

// Only called for activities whose HTTP signature Fedify verified (and whose signer owns
// the actor); the raw body is recorded so tests assert on exactly what crossed the wire.
federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Activity, (ctx, _activity) => {
    received.push({ inbox: ctx.recipient ?? "shared", activity: JSON.parse(ctx.data.raw) });
  });

// --- helpers for the control API ----------------------------------------------------------

class ControlError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function context() {
  return federation.createContext(new URL(origin), { raw: null });
}

function personNamed(name) {
  if (!persons.has(name)) throw new ControlError(404, `no person ${name}`);
  return name;
}

async function lookupActor(ctx, handleOrId) {
  const found = await ctx.lookupObject(handleOrId);
  if (!isActor(found)) throw new ControlError(404, `no actor found for ${handleOrId}`);
  return found;
}

async function send(ctx, name, recipients, activity, preferSharedInbox) {
  try {
    await ctx.sendActivity({ identifier: name }, recipients, activity, { preferSharedInbox });
  } catch (error) {
    throw new ControlError(502, `delivery of ${activity.id?.href} failed: ${error}`);
  }
}

async function compact(object) {
  return await object.toJsonLd({ format: "compact" });
}

function now() {
  return Temporal.Now.instant();
}

// Mastodon's addressing of a status mentioning a group (federation-interop.md 4.2).
function addressing(visibility, authorFollowers, group) {
  const groupIds = group == null ? [] : [group.id, group.followersId].filter((id) => id != null);
  switch (visibility) {
    case "public":
      return { tos: [PUBLIC_COLLECTION], ccs: [authorFollowers, ...groupIds] };
    case "unlisted":
      return { tos: [authorFollowers], ccs: [PUBLIC_COLLECTION, ...groupIds] };
    case "followers":
      return { tos: [authorFollowers], ccs: groupIds };
    case "direct":
      return { tos: groupIds, ccs: [] };
    default:
      throw new ControlError(400, `unknown visibility ${visibility}`);
  }
}

// Mastodon's mention markup; the names come from a remote document, so they are escaped.
function mentionHtml(actor) {
  const href = escapeHtml((actor.url instanceof URL ? actor.url : actor.id).href);
  const name = escapeHtml(String(actor.preferredUsername ?? ""));
  return `<span class="h-card"><a href="${href}" class="u-url mention">@<span>${name}</span></a></span>`;
}

function escapeHtml(text) {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

function statusOf(name, noteId) {
  for (const [key, status] of statuses) {
    if (key.startsWith(`${name}/`) && status.object.id.href === noteId) return status;
  }
  throw new ControlError(404, `${name} has no status ${noteId}`);
}

async function recipientsOf(ctx, object, extra = []) {
  const ids = new Set(extra);
  for await (const tag of object.getTags()) {
    if (tag instanceof Mention && tag.href != null) ids.add(tag.href.href);
  }
  const actors = [];
  for (const id of ids) actors.push(await lookupActor(ctx, id));
  return actors;
}

// --- control operations -------------------------------------------------------------------

// RSA-2048, PKCS#1 v1.5 with SHA-256: what Mastodon generates (Fedify's own helper makes
// 4096-bit keys, which take seconds to generate on a busy machine).
async function rsaKeyPair() {
  return await webcrypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true, // Fedify exports the public half into the actor document
    ["sign", "verify"],
  );
}

async function createPerson({ name }) {
  if (typeof name !== "string" || !/^[a-z0-9_]+$/.test(name)) {
    throw new ControlError(400, "name must match [a-z0-9_]+");
  }
  if (persons.has(name)) throw new ControlError(409, `${name} exists`);
  persons.set(name, { keyPairs: [await rsaKeyPair()], follows: new Map() });
  const ctx = context();
  return {
    id: ctx.getActorUri(name).href,
    handle: `${name}@${new URL(origin).host}`,
    inbox: ctx.getInboxUri(name).href,
    sharedInbox: ctx.getInboxUri().href,
  };
}

async function lookup({ handle }) {
  const actor = await lookupActor(context(), handle);
  return { object: await compact(actor) };
}

async function follow({ person, target }) {
  const name = personNamed(person);
  const ctx = context();
  const group = await lookupActor(ctx, target);
  const activity = new Follow({
    id: new URL(`${origin}/${randomUUID()}`),
    actor: ctx.getActorUri(name),
    object: group.id,
  });
  persons.get(name).follows.set(group.id.href, activity);
  await send(ctx, name, group, activity, false); // Mastodon: Follow to the personal inbox
  return { id: activity.id.href, target: group.id.href };
}

async function unfollow({ person, target }) {
  const name = personNamed(person);
  const ctx = context();
  const group = await lookupActor(ctx, target);
  const followed = persons.get(name).follows.get(group.id.href);
  if (followed == null) throw new ControlError(404, `${name} does not follow ${target}`);
  const activity = new Undo({
    id: new URL(`${ctx.getActorUri(name).href}#follows/${randomUUID()}/undo`),
    actor: ctx.getActorUri(name),
    object: followed,
  });
  await send(ctx, name, group, activity, false);
  persons.get(name).follows.delete(group.id.href);
  return { id: activity.id.href, follow: followed.id.href };
}

async function publish(name, key, ctx, object, recipients) {
  const id = object.id.href;
  const create = new Create({
    id: ctx.getObjectUri(Create, { identifier: name, id: key }),
    actor: ctx.getActorUri(name),
    object,
    tos: object.toIds,
    ccs: object.ccIds,
    published: object.published,
  });
  statuses.set(`${name}/${key}`, { object, create, deleted: false });
  await send(ctx, name, recipients, create, true); // Mastodon: statuses to shared inboxes
  return { id, activity: await compact(create), object: await compact(object) };
}

async function post(body) {
  const name = personNamed(body.person);
  const ctx = context();
  const group = body.mention == null ? null : await lookupActor(ctx, body.mention);
  const key = randomUUID();
  const visibility = body.visibility ?? "public";
  const values = {
    attribution: ctx.getActorUri(name),
    content: `<p>${group == null ? "" : `${mentionHtml(group)} `}${escapeHtml(body.content ?? "")}</p>`,
    published: now(),
    replyTarget: body.inReplyTo == null ? null : new URL(body.inReplyTo),
    tags: group == null ? [] : [new Mention({ href: group.id, name: `@${body.mention.replace(/^@/, "")}` })],
    ...addressing(visibility, ctx.getFollowersUri(name), group),
  };
  let object;
  if (Array.isArray(body.poll)) {
    object = new Question({
      ...values,
      id: ctx.getObjectUri(Question, { identifier: name, id: key }),
      exclusiveOptions: body.poll.map((option) => new Note({ name: String(option) })),
      endTime: now().add({ hours: 24 }),
      voters: 0,
    });
  } else {
    object = new Note({ ...values, id: ctx.getObjectUri(Note, { identifier: name, id: key }) });
  }
  object = object.clone({ url: object.id });
  const recipients = await recipientsOf(ctx, object, body.deliverTo ?? []);
  return await publish(name, key, ctx, object, recipients);
}

// A Mastodon poll vote: a Note naming the option, no content, replying to the poll and
// addressed to the poll's author only (federation-interop.md 4.9).
async function vote(body) {
  const name = personNamed(body.person);
  const ctx = context();
  const question = await ctx.lookupObject(body.question);
  if (!(question instanceof Question)) throw new ControlError(404, `no poll at ${body.question}`);
  const author = question.attributionId;
  const key = randomUUID();
  const object = new Note({
    id: ctx.getObjectUri(Note, { identifier: name, id: key }),
    attribution: ctx.getActorUri(name),
    name: String(body.option),
    replyTarget: question.id,
    tos: [author],
    published: now(),
  });
  const recipients = await recipientsOf(ctx, object, [author.href, ...(body.deliverTo ?? [])]);
  return await publish(name, key, ctx, object, recipients);
}

async function edit({ person, note, content }) {
  const name = personNamed(person);
  const ctx = context();
  const status = statusOf(name, note);
  if (status.deleted) throw new ControlError(410, `${note} is deleted`);
  const group = (await recipientsOf(ctx, status.object))[0] ?? null;
  const mention = group == null ? "" : `${mentionHtml(group)} `;
  const updated = now();
  status.object = status.object.clone({ content: `<p>${mention}${escapeHtml(content)}</p>`, updated });
  const activity = new Update({
    id: new URL(`${note}#updates/${updated.epochMilliseconds}`),
    actor: ctx.getActorUri(name),
    object: status.object,
    tos: status.object.toIds,
    ccs: status.object.ccIds,
    published: updated,
  });
  await send(ctx, name, await recipientsOf(ctx, status.object), activity, true);
  return { activity: await compact(activity) };
}

async function remove({ person, note }) {
  const name = personNamed(person);
  const ctx = context();
  const status = statusOf(name, note);
  const recipients = await recipientsOf(ctx, status.object);
  status.deleted = true;
  const activity = new Delete({
    id: new URL(`${note}#delete`),
    actor: ctx.getActorUri(name),
    object: new Tombstone({ id: status.object.id }),
    tos: [PUBLIC_COLLECTION],
  });
  await send(ctx, name, recipients, activity, true);
  return { activity: await compact(activity) };
}

const CONTROL = {
  "GET /control/health": async () => ({ origin, software: SOFTWARE }),
  "POST /control/persons": createPerson,
  "POST /control/lookup": lookup,
  "POST /control/follow": follow,
  "POST /control/unfollow": unfollow,
  "POST /control/notes": post,
  "POST /control/votes": vote,
  "POST /control/edit": edit,
  "POST /control/delete": remove,
  "GET /control/received": async () => received,
  "GET /control/deliveries": async () => deliveries,
};

// --- HTTP: Node's server in front of Fedify's fetch handler -------------------------------

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function reply(res, status, headers, body) {
  res.writeHead(status, headers);
  res.end(body);
}

async function control(req, url, body, res) {
  const address = req.socket.remoteAddress ?? "";
  if (!["127.0.0.1", "::1", "::ffff:127.0.0.1"].includes(address)) {
    return reply(res, 403, { "content-type": "text/plain" }, "loopback only");
  }
  const operation = CONTROL[`${req.method} ${url.pathname}`];
  if (operation == null) return reply(res, 404, { "content-type": "text/plain" }, "no such call");
  try {
    const input = body.length > 0 ? JSON.parse(body.toString("utf-8")) : {};
    const result = await operation(input);
    reply(res, 200, { "content-type": "application/json" }, JSON.stringify(result));
  } catch (error) {
    const status = error instanceof ControlError ? error.status : 500;
    reply(res, status, { "content-type": "application/json" }, JSON.stringify({ error: String(error) }));
  }
}

async function federate(req, url, body, res) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const request = new Request(url, { method: req.method, headers, body: hasBody ? body : undefined });
  const response = await federation.fetch(request, { contextData: { raw: body.toString("utf-8") } });
  if (req.method === "POST") deliveries.push({ path: url.pathname, status: response.status });
  const payload = Buffer.from(await response.arrayBuffer());
  reply(res, response.status, Object.fromEntries(response.headers), payload);
}

const server = http.createServer(async (req, res) => {
  try {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? `127.0.0.1:${port}`}`);
    if (url.pathname.startsWith("/control/")) return await control(req, url, body, res);
    return await federate(req, url, body, res);
  } catch (error) {
    process.stderr.write(`${req.method} ${req.url}: ${error?.stack ?? error}\n`);
    if (!res.headersSent) reply(res, 500, { "content-type": "text/plain" }, "internal error");
  }
});

server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`${SOFTWARE} listening on ${origin}\n`);
});
