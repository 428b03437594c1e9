// The message MAC of SPEC.md §3, written from the spec text alone (no code of the node):
//
//   mac = HMAC-SHA256(key, "mpc.v1.ProtocolMessage" ‖ L(session_id as UTF-8) ‖ u32(from_party) ‖ u32(to_party)
//                          ‖ u32(round) ‖ u64(sequence) ‖ L(payload))      uN big-endian, L(x) = u32(len x) ‖ x

import { createHmac, timingSafeEqual } from "node:crypto";

const DOMAIN = Buffer.from("mpc.v1.ProtocolMessage", "utf8");

/** The wire shape of mpc.v1.ProtocolMessage as proto-loader hands it over (uint64 as a decimal string). */
export interface ProtocolMessage {
  session_id: string;
  from_party: number;
  to_party: number;
  round: number;
  sequence: string;
  payload: Buffer;
  mac: Buffer;
  /** The sender's identity signature (docs/contract.md §11.3): not covered by the MAC, forwarded untouched. */
  party_signature: Buffer;
}

export class MacError extends Error {}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function lengthPrefixed(x: Buffer): Buffer {
  return Buffer.concat([u32(x.length), x]);
}

/** The MAC of a message's fields (its own `mac` field is not part of the input). */
export function messageMac(key: Buffer, m: Omit<ProtocolMessage, "mac">): Buffer {
  const sequence = Buffer.alloc(8);
  sequence.writeBigUInt64BE(BigInt(m.sequence));
  const data = Buffer.concat([
    DOMAIN,
    lengthPrefixed(Buffer.from(m.session_id, "utf8")),
    u32(m.from_party),
    u32(m.to_party),
    u32(m.round),
    sequence,
    lengthPrefixed(m.payload),
  ]);
  return createHmac("sha256", key).update(data).digest();
}

export function checkMac(key: Buffer, m: ProtocolMessage): void {
  const expected = messageMac(key, m);
  if (m.mac.length !== expected.length || !timingSafeEqual(m.mac, expected)) {
    throw new MacError(`message ${m.from_party}:${m.sequence} of ${m.session_id} has a bad MAC`);
  }
}
