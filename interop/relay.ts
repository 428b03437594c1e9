// A relay in TypeScript that plays mpc-service between two mpc-signer nodes (parties 1 and 2), written from
// the contract alone: proto/mpc/v1/signer.proto (loaded at run time) and the MAC layout of SPEC.md §3.
//
// For each protocol asked for it runs a 2-of-2 DKG, then one signing, over mTLS with a short-lived JWT
// service token on every call and an HMAC on every relayed message. It cannot read the payloads: it checks
// each node's MAC, routes the message (to_party 0 = broadcast: every other party), MACs it for the leg to the
// receiver and submits it. Each node is long-polled (GetDKGStatus / GetSignStatus with wait_ms) for what it
// has to say next. One JSON line per signature goes to stdout; errors go to stderr with exit code 1.
// Party identities (docs/contract.md §11): each node's identity key comes from its Ping and StartDKG names
// them all; every message's party_signature is forwarded untouched. No device takes part, so the nodes run
// with `auth.approvals: none` (a signing carries no approvals).
//
//   node interop/relay.mjs --node 1=127.0.0.1:9101 --node 2=127.0.0.1:9102 --certs DIR --server-name localhost
//                          [--protocol frost|gg20|both] [--message HEX]

import { createHash, createPrivateKey, randomBytes, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { checkMac, messageMac, type ProtocolMessage } from "./mac.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const DEFAULT_PROTO = join(HERE, "..", "proto", "mpc", "v1", "signer.proto");
const POLL_MS = 5000;
// No call may hang: a long-poll answers within POLL_MS, everything else at once.
const CALL_DEADLINE_MS = POLL_MS + 30_000;
const TERMINAL = new Set(["SESSION_STATE_COMPLETED", "SESSION_STATE_FAILED", "SESSION_STATE_TIMED_OUT", "SESSION_STATE_CANCELLED"]);

/** The fields of the start, status and submit responses the relay reads (absent ones have proto3 defaults). */
interface View {
  state: string;
  outbound: ProtocolMessage[];
  public_key?: Buffer;
  signature?: Buffer;
  recovery_id?: number;
  error?: string;
  culprits?: number[];
}

class RelayError extends Error {}

/** A call a node refused, with its gRPC status. */
class CallError extends RelayError {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
  }
}

// ----- SPEC.md §3: service tokens -------------------------------------------------------------------

/** Mints JWTs (EdDSA for an Ed25519 key, ES256 for a P-256 key) with iss/aud/sub/iat/nbf/exp/jti. */
class TokenMinter {
  private readonly alg: "EdDSA" | "ES256";
  private current = "";
  private refreshAt = 0;

  constructor(
    private readonly key: KeyObject,
    private readonly issuer: string,
    private readonly audience: string,
    private readonly ttlS: number,
  ) {
    const type = key.asymmetricKeyType;
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (type === "ed25519") this.alg = "EdDSA";
    else if (type === "ec" && curve === "prime256v1") this.alg = "ES256";
    else throw new RelayError(`JWT key must be Ed25519 or EC P-256 (got ${type})`);
  }

  private mint(now: number): string {
    const b64 = (x: Buffer | string) => Buffer.from(x).toString("base64url");
    const header = b64(JSON.stringify({ alg: this.alg, typ: "JWT" }));
    const claims = b64(
      JSON.stringify({
        iss: this.issuer,
        aud: this.audience,
        sub: this.issuer,
        iat: now,
        nbf: now,
        exp: now + this.ttlS,
        jti: randomBytes(16).toString("hex"),
      }),
    );
    const input = Buffer.from(`${header}.${claims}`);
    const signature =
      this.alg === "EdDSA" ? sign(null, input, this.key) : sign("sha256", input, { key: this.key, dsaEncoding: "ieee-p1363" });
    return `${header}.${claims}.${b64(signature)}`;
  }

  /** The current token, reused for half its lifetime as a service would, then a fresh one. */
  bearer(): string {
    const now = Math.floor(Date.now() / 1000);
    if (!this.current || now >= this.refreshAt) {
      this.current = this.mint(now);
      this.refreshAt = now + Math.floor(this.ttlS / 2);
    }
    return `Bearer ${this.current}`;
  }
}

// ----- one node -------------------------------------------------------------------------------------

type Unary = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, res: View) => void,
) => void;

/** What Ping answers (docs/contract.md §4.6, §11.1). */
interface Pong {
  node_id: string;
  identity_public_key: Buffer;
  identity_scheme: string;
}

/** One signer node: its gRPC client, the token on every call, the MAC check on everything it sends. */
class Node {
  constructor(
    readonly party: number,
    private readonly client: grpc.Client,
    private readonly minter: TokenMinter,
    private readonly hmacKey: Buffer,
  ) {}

  call(method: string, request: object): Promise<View> {
    const metadata = new grpc.Metadata();
    metadata.set("authorization", this.minter.bearer());
    const fn = (this.client as unknown as Record<string, Unary>)[method].bind(this.client);
    return new Promise((resolve, reject) => {
      fn(request, metadata, { deadline: Date.now() + CALL_DEADLINE_MS }, (err, res) => {
        if (err) return reject(new CallError(err.code, `party ${this.party} ${method}: ${grpc.status[err.code]}: ${err.details}`));
        try {
          resolve(this.checked(res));
        } catch (bad) {
          reject(bad);
        }
      });
    });
  }

  /** Every outbound message must carry a valid MAC and this node's own party index. */
  private checked(view: View): View {
    for (const m of view.outbound) {
      checkMac(this.hmacKey, m);
      if (m.from_party !== this.party) {
        throw new RelayError(`party ${this.party} sent a message claiming to be from party ${m.from_party}`);
      }
    }
    return view;
  }

  /** The node's identity key, from Ping (which needs no token), as StartDKG's party_identities names it. */
  identity(): Promise<{ party: number; scheme: string; public_key: Buffer }> {
    const ping = (this.client as unknown as Record<string, (req: object, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Pong) => void) => void>).Ping.bind(this.client);
    return new Promise((resolve, reject) => {
      ping({}, { deadline: Date.now() + CALL_DEADLINE_MS }, (err, res) => {
        if (err) return reject(new CallError(err.code, `party ${this.party} Ping: ${grpc.status[err.code]}: ${err.details}`));
        if (res.identity_scheme !== "IDENTITY_SCHEME_ED25519" || res.identity_public_key.length !== 32) {
          return reject(new RelayError(`party ${this.party} answered Ping without an Ed25519 identity key`));
        }
        resolve({ party: this.party, scheme: res.identity_scheme, public_key: res.identity_public_key });
      });
    });
  }

  submit(m: ProtocolMessage): Promise<View> {
    const sealed = { ...m, mac: messageMac(this.hmacKey, m) };
    return this.call("SubmitProtocolMessage", { message: sealed });
  }

  close(): void {
    this.client.close();
  }
}

// ----- one session across both nodes ----------------------------------------------------------------

type Kind = "dkg" | "sign";

/**
 * Relays one session until every node has finished. Each node has a long-poll loop; every new message
 * (deduplicated by sender and sequence: status answers repeat what is still relevant) goes to its
 * receivers through one ordered queue per receiver.
 */
async function runSession(nodes: Node[], sessionId: string, kind: Kind, starts: Map<Node, Promise<View>>, deadline: number): Promise<Map<Node, View>> {
  const statusMethod = kind === "dkg" ? "GetDKGStatus" : "GetSignStatus";
  const seen = new Set<string>();
  const views = new Map<Node, View>();
  // A node knows the session only once its Start* has returned (before that a message is NOT_FOUND), so
  // its delivery queue begins with its start; a failed start is reported by its poll loop.
  const delivery = new Map<Node, Promise<void>>(nodes.map((n) => [n, starts.get(n)!.then(() => {}, () => {})]));
  const failures: Error[] = [];

  const take = (from: Node, view: View) => {
    if (!views.has(from) || !TERMINAL.has(views.get(from)!.state)) views.set(from, view);
    for (const m of view.outbound) {
      const id = `${m.from_party}:${m.sequence}`;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const to of nodes) {
        if (to !== from && (m.to_party === 0 || m.to_party === to.party)) deliver(to, m);
      }
    }
  };

  const deliver = (to: Node, m: ProtocolMessage) => {
    const next = delivery.get(to)!.then(async () => {
      if (TERMINAL.has(views.get(to)?.state ?? "")) return;
      try {
        take(to, await to.submit(m));
      } catch (err) {
        // A session that finished meanwhile refuses late messages; its poll loop reports the outcome.
        if (!(err instanceof CallError && err.code === grpc.status.FAILED_PRECONDITION)) failures.push(err as Error);
      }
    });
    delivery.set(to, next);
  };

  const poll = async (node: Node) => {
    take(node, await starts.get(node)!);
    while (!TERMINAL.has(views.get(node)!.state)) {
      if (failures.length) throw failures[0];
      if (Date.now() > deadline) throw new RelayError(`session ${sessionId}: timed out waiting for party ${node.party}`);
      take(node, await node.call(statusMethod, { session_id: sessionId, wait_ms: POLL_MS }));
    }
  };

  await Promise.all(nodes.map(poll));
  await Promise.all(delivery.values());
  if (failures.length) throw failures[0];
  for (const [node, view] of views) {
    if (view.state !== "SESSION_STATE_COMPLETED") {
      const culprits = view.culprits?.length ? ` (culprits: ${view.culprits.join(", ")})` : "";
      throw new RelayError(`session ${sessionId} on party ${node.party}: ${view.state}: ${view.error}${culprits}`);
    }
  }
  return views;
}

/** The one value every node must agree on (public key, signature); a disagreement is an error. */
function agreed(views: Map<Node, View>, field: "public_key" | "signature" | "recovery_id", what: string): string {
  const values = new Set([...views.values()].map((v) => Buffer.isBuffer(v[field]) ? v[field].toString("hex") : String(v[field] ?? 0)));
  if (values.size !== 1) throw new RelayError(`the nodes disagree on the ${what}: ${[...values].join(" vs ")}`);
  return [...values][0];
}

const PROTOCOLS = {
  frost: { protocol: "PROTOCOL_FROST", curve: "CURVE_ED25519" },
  gg20: { protocol: "PROTOCOL_GG20", curve: "CURVE_SECP256K1" },
} as const;

/** DKG then one signing; returns the result line. */
async function dkgThenSign(nodes: Node[], name: keyof typeof PROTOCOLS, message: Buffer, timeoutS: number) {
  const run = `${name}-${randomBytes(6).toString("hex")}`;
  const keyId = `ts-relay-${run}`;
  const signers = nodes.map((n) => n.party);
  const deadline = () => Date.now() + timeoutS * 1000;

  const dkgId = `ts-dkg-${run}`;
  const partyIdentities = await Promise.all(nodes.map((n) => n.identity()));
  const dkgStarts = new Map(
    nodes.map((n) => [
      n,
      n.call("StartDKG", {
        session_id: dkgId,
        key_id: keyId,
        ...PROTOCOLS[name],
        threshold: nodes.length,
        total_parties: nodes.length,
        party_index: n.party,
        party_identities: partyIdentities,
      }),
    ]),
  );
  const dkg = await runSession(nodes, dkgId, "dkg", dkgStarts, deadline());
  const publicKey = agreed(dkg, "public_key", "public key");

  // ECDSA signs a 32-byte digest (the chain adapter's job; SHA-256 here), EdDSA the message itself.
  const signed = name === "gg20" ? createHash("sha256").update(message).digest() : message;
  const signId = `ts-sign-${run}`;
  const signStarts = new Map(
    nodes.map((n) => [n, n.call("StartSign", { session_id: signId, key_id: keyId, message: signed, signers })]),
  );
  const signing = await runSession(nodes, signId, "sign", signStarts, deadline());
  return {
    protocol: name,
    key_id: keyId,
    public_key: publicKey,
    message: message.toString("hex"),
    ...(name === "gg20" ? { digest: signed.toString("hex") } : {}),
    signature: agreed(signing, "signature", "signature"),
    recovery_id: Number(agreed(signing, "recovery_id", "recovery id")),
  };
}

// ----- command line ---------------------------------------------------------------------------------

function readHexKey(path: string): Buffer {
  const text = readFileSync(path, "utf8").trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new RelayError(`${path}: expected 64 hex characters`);
  return Buffer.from(text, "hex");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      node: { type: "string", multiple: true },
      certs: { type: "string" },
      ca: { type: "string" },
      cert: { type: "string" },
      key: { type: "string" },
      "jwt-key": { type: "string" },
      "hmac-key": { type: "string" },
      "server-name": { type: "string" },
      proto: { type: "string", default: DEFAULT_PROTO },
      protocol: { type: "string", default: "both" },
      message: { type: "string", default: Buffer.from("interop from TypeScript").toString("hex") },
      issuer: { type: "string", default: "mpc-service" },
      audience: { type: "string", default: "mpc-signer" },
      "token-ttl-s": { type: "string", default: "60" },
      "timeout-s": { type: "string", default: "300" },
    },
  });
  const fromCerts = (flag: string | undefined, file: string) => {
    const path = flag ?? (values.certs ? join(values.certs, file) : undefined);
    if (!path) throw new RelayError(`give --certs DIR or the file for ${file}`);
    return path;
  };
  const ttl = Number(values["token-ttl-s"]);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 300) throw new RelayError("--token-ttl-s must be 1..300");
  const protocols = values.protocol === "both" ? (["frost", "gg20"] as const) : [values.protocol];
  for (const p of protocols) if (!(p in PROTOCOLS)) throw new RelayError(`--protocol must be frost, gg20 or both`);
  if (!/^([0-9a-fA-F]{2})*$/.test(values.message!)) throw new RelayError("--message: expected hex");

  const definition = protoLoader.loadSync(values.proto!, { keepCase: true, longs: String, enums: String, defaults: true });
  const mpc = grpc.loadPackageDefinition(definition) as unknown as {
    mpc: { v1: { SignerService: new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions) => grpc.Client } };
  };
  const credentials = grpc.credentials.createSsl(
    readFileSync(fromCerts(values.ca, "ca.crt")),
    readFileSync(fromCerts(values.key, "client.key")),
    readFileSync(fromCerts(values.cert, "client.crt")),
  );
  const minter = new TokenMinter(
    createPrivateKey(readFileSync(fromCerts(values["jwt-key"], "jwt-private.pem"))),
    values.issuer!,
    values.audience!,
    ttl,
  );
  // The name the node's certificate must carry when it is not the host in --node (e.g. an IP address).
  const options: grpc.ChannelOptions = values["server-name"] ? { "grpc.ssl_target_name_override": values["server-name"] } : {};
  const hmacKey = readHexKey(fromCerts(values["hmac-key"], "hmac.hex"));

  const nodes = (values.node ?? []).map((spec) => {
    const match = /^(\d+)=(.+:\d+)$/.exec(spec);
    if (!match) throw new RelayError(`--node ${spec}: expected PARTY=HOST:PORT`);
    return new Node(Number(match[1]), new mpc.mpc.v1.SignerService(match[2], credentials, options), minter, hmacKey);
  });
  if (nodes.length !== 2) throw new RelayError("give two nodes: --node 1=HOST:PORT --node 2=HOST:PORT");
  try {
    for (const name of protocols) {
      const line = await dkgThenSign(nodes, name as keyof typeof PROTOCOLS, Buffer.from(values.message!, "hex"), Number(values["timeout-s"]));
      console.log(JSON.stringify(line));
    }
  } finally {
    for (const n of nodes) n.close();
  }
}

main().catch((err: unknown) => {
  console.error(`relay: error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
