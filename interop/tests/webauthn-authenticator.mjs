// A software WebAuthn authenticator and client in one, for tests without a browser: it answers the options JSON a
// server hands out (PublicKeyCredentialCreationOptionsJSON / RequestOptionsJSON) with exactly what
// @simplewebauthn/browser's startRegistration and startAuthentication would return, a "none" attestation and
// assertions signed with node:crypto keys (ES256, EdDSA or RS256). Knobs make the bad assertions a server must refuse:
// a wrong origin or rp id, no user verification, a chosen signature counter, a tampered signature.

import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";

const ALGORITHMS = { ES256: -7, EdDSA: -8, RS256: -257 };
const NAMES = Object.fromEntries(Object.entries(ALGORITHMS).map(([name, alg]) => [alg, name]));

/** Authenticator-data flags (WebAuthn §6.1). */
const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 };

export const b64url = (bytes) => Buffer.from(bytes).toString("base64url");
const sha256 = (bytes) => createHash("sha256").update(bytes).digest();

/**
 * Deterministic CBOR (RFC 8949) for what WebAuthn needs: unsigned and negative integers, byte and text strings,
 * arrays and maps (a `Map` keeps integer keys, as COSE keys have; a plain object has text keys), in the order given.
 */
export function cbor(value) {
  const head = (major, n) => {
    const m = major << 5;
    if (n < 24) return Buffer.from([m | n]);
    if (n < 0x100) return Buffer.from([m | 24, n]);
    if (n < 0x10000) return Buffer.from([m | 25, n >> 8, n & 0xff]);
    const b = Buffer.alloc(5);
    b[0] = m | 26;
    b.writeUInt32BE(n, 1);
    return b;
  };
  if (Number.isInteger(value)) return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  if (typeof value === "string") {
    const bytes = Buffer.from(value, "utf8");
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
  const entries = value instanceof Map ? [...value] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

/** A new key pair for `algorithm`, its COSE public key (RFC 9053) and SPKI DER. */
function keyPair(algorithm) {
  const alg = ALGORITHMS[algorithm];
  let pair;
  let cose;
  if (algorithm === "ES256") {
    pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = pair.publicKey.export({ format: "jwk" });
    const xy = (c) => Buffer.from(jwk[c], "base64url");
    cose = new Map([[1, 2], [3, alg], [-1, 1], [-2, xy("x")], [-3, xy("y")]]);
  } else if (algorithm === "EdDSA") {
    pair = generateKeyPairSync("ed25519");
    const jwk = pair.publicKey.export({ format: "jwk" });
    cose = new Map([[1, 1], [3, alg], [-1, 6], [-2, Buffer.from(jwk.x, "base64url")]]);
  } else if (algorithm === "RS256") {
    pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk = pair.publicKey.export({ format: "jwk" });
    cose = new Map([[1, 3], [3, alg], [-1, Buffer.from(jwk.n, "base64url")], [-2, Buffer.from(jwk.e, "base64url")]]);
  } else {
    throw new Error(`unsupported algorithm ${algorithm}`);
  }
  const spki = pair.publicKey.export({ type: "spki", format: "der" });
  return { alg, privateKey: pair.privateKey, cose: cbor(cose), spki };
}

/** The signature WebAuthn asks for: ECDSA as DER, Ed25519 plain, RSASSA-PKCS1-v1_5 with SHA-256. */
const signWith = (credential, data) =>
  sign(credential.alg === ALGORITHMS.EdDSA ? null : "sha256", data, credential.privateKey);

/** An error named like the DOMException a browser throws, for the caller to tell apart. */
function domError(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** clientDataJSON in the member order browsers write. */
const clientData = (type, challenge, origin) =>
  Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), "utf8");

export class SoftAuthenticator {
  /**
   * `algorithm`: force one (`ES256`, `EdDSA`, `RS256`), else the first of the server's pubKeyCredParams supported.
   * `userVerification`: whether it sets the UV flag. `backupEligible`/`backedUp`: the BE/BS flags (a synced passkey).
   * `countsSignatures`: whether the signature counter counts (else it stays 0, as synced passkeys do). `aaguid`: the
   * model's 16 bytes as a UUID string (all zero by default, as most platform authenticators send under "none").
   */
  constructor({
    algorithm,
    userVerification = true,
    backupEligible = false,
    backedUp = backupEligible,
    countsSignatures = true,
    aaguid = "00000000-0000-0000-0000-000000000000",
  } = {}) {
    this.algorithm = algorithm;
    this.userVerification = userVerification;
    this.backupEligible = backupEligible;
    this.backedUp = backedUp;
    this.countsSignatures = countsSignatures;
    this.aaguid = Buffer.from(aaguid.replaceAll("-", ""), "hex");
    /** Each credential: `{ id (base64url), rpId, userHandle (base64url), alg, privateKey, counter }`. */
    this.credentials = [];
  }

  #flags(extra) {
    let flags = FLAG.UP | extra;
    if (this.userVerification) flags |= FLAG.UV;
    if (this.backupEligible) flags |= FLAG.BE;
    if (this.backedUp) flags |= FLAG.BS;
    return flags;
  }

  /** The credential with this id, or an error. */
  credential(id) {
    const found = this.credentials.find((c) => c.id === id);
    if (!found) throw new Error(`no credential ${id}`);
    return found;
  }

  /**
   * navigator.credentials.create() through startRegistration: a RegistrationResponseJSON for `options` (the JSON the
   * server sent), made on the page at `origin`. `overrides`: `{ rpId, origin }` written into the response instead;
   * `transports`: the transports reported (`["internal"]` by default; null: none, as when getTransports() is missing).
   */
  register(options, origin, overrides = {}) {
    const rpId = options.rp.id ?? new URL(origin).hostname;
    const excluded = new Set((options.excludeCredentials ?? []).map((c) => c.id));
    if (this.credentials.some((c) => c.rpId === rpId && excluded.has(c.id))) {
      throw domError("InvalidStateError", "The authenticator was previously registered");
    }
    const offered = (options.pubKeyCredParams ?? []).map((p) => p.alg);
    const algorithm = this.algorithm ?? NAMES[offered.find((alg) => NAMES[alg])];
    if (!algorithm || (offered.length && !offered.includes(ALGORITHMS[algorithm]))) {
      throw domError("NotSupportedError", `none of the algorithms ${offered.join(", ")} is supported`);
    }
    const key = keyPair(algorithm);
    const id = randomBytes(16);
    const counter = 0;
    const counterBytes = Buffer.alloc(4);
    counterBytes.writeUInt32BE(counter);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    const authenticatorData = Buffer.concat([
      sha256(Buffer.from(overrides.rpId ?? rpId)),
      Buffer.from([this.#flags(FLAG.AT)]),
      counterBytes,
      this.aaguid,
      idLength,
      id,
      key.cose,
    ]);
    const attestationObject = cbor({ fmt: "none", attStmt: {}, authData: authenticatorData });
    const clientDataJSON = clientData("webauthn.create", options.challenge, overrides.origin ?? origin);
    this.credentials.push({ id: b64url(id), rpId, userHandle: options.user.id, ...key, counter });
    return {
      id: b64url(id),
      rawId: b64url(id),
      response: {
        attestationObject: b64url(attestationObject),
        clientDataJSON: b64url(clientDataJSON),
        transports: overrides.transports === undefined ? ["internal"] : (overrides.transports ?? undefined),
        publicKeyAlgorithm: key.alg,
        publicKey: b64url(key.spki),
        authenticatorData: b64url(authenticatorData),
      },
      type: "public-key",
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /**
   * navigator.credentials.get() through startAuthentication: an AuthenticationResponseJSON for `options`, made on
   * the page at `origin`. With an empty allowCredentials it uses its newest discoverable credential for the rp id.
   * `knobs`: `credentialId` (use this one), `rpId` (hash this rp id instead), `origin` (write this into clientDataJSON
   * instead), `userVerified` (false: UV flag off), `counter` (this signature counter, not the next one),
   * `tamperSignature` (flip a bit of the signature's last byte), `id` (claim this credential id instead).
   */
  authenticate(options, origin, knobs = {}) {
    const rpId = options.rpId ?? new URL(origin).hostname;
    const allowed = (options.allowCredentials ?? []).map((c) => c.id);
    const mine = this.credentials.filter(
      (c) => c.rpId === rpId && (allowed.length === 0 || allowed.includes(c.id)),
    );
    const credential = knobs.credentialId ? this.credential(knobs.credentialId) : mine.at(-1);
    if (!credential) throw domError("NotAllowedError", `no credential for ${rpId}`);
    if (knobs.counter !== undefined) credential.counter = knobs.counter;
    else if (this.countsSignatures) credential.counter += 1;
    const counterBytes = Buffer.alloc(4);
    counterBytes.writeUInt32BE(credential.counter);
    let flags = this.#flags(0);
    if (knobs.userVerified === false) flags &= ~FLAG.UV;
    if (knobs.userVerified === true) flags |= FLAG.UV;
    const authenticatorData = Buffer.concat([
      sha256(Buffer.from(knobs.rpId ?? rpId)),
      Buffer.from([flags]),
      counterBytes,
    ]);
    const clientDataJSON = clientData("webauthn.get", options.challenge, knobs.origin ?? origin);
    const signature = signWith(credential, Buffer.concat([authenticatorData, sha256(clientDataJSON)]));
    if (knobs.tamperSignature) signature[signature.length - 1] ^= 0x01;
    const id = knobs.id ?? credential.id;
    return {
      id,
      rawId: id,
      response: {
        authenticatorData: b64url(authenticatorData),
        clientDataJSON: b64url(clientDataJSON),
        signature: b64url(signature),
        userHandle: credential.userHandle,
      },
      type: "public-key",
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }
}
