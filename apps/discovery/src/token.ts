/** A token: 32 lowercase hex characters (16 random bytes), as discovery.etcd.io issues them. */
export const TOKEN_PATTERN = /^[0-9a-f]{32}$/;

/** A fresh random token from the platform's CSPRNG. */
export function newToken(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** Key of a token's directory in the store. */
export function tokenKey(token: string): string {
  return `/${token}`;
}

/** Key holding the expected cluster size (bootstrap.md §3.2). */
export function sizeKey(token: string): string {
  return `/${token}/_config/size`;
}

/**
 * Key holding the token's creation time (RFC 3339, UTC), read by the token
 * GC. Under the hidden `_config` directory, so listings never show it and no
 * member reads it (members read only `_config/size`).
 */
export function createdKey(token: string): string {
  return `/${token}/_config/created`;
}
