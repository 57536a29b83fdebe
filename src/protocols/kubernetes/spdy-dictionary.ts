/**
 * The SPDY/3 header-compression dictionary (SPDY Protocol Draft 3, §2.6.10.1 "Compression"):
 * length-prefixed header names and values, then a run of common strings. Both ends of a SPDY/3.1
 * session (moby/spdystream's spdy/dictionary.go, used by kubectl ≤ 1.29 and the kubelet) prime
 * their zlib streams with these 1423 bytes. Also the reader of a decompressed header block, which
 * the gateway's exec masking and the emulator's SPDY session share.
 */
const WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
  'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
  'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
  'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
  'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
  'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive',
  'origin',
];

const TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
  '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
  'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

function build(): Buffer {
  const parts: Buffer[] = [];
  for (const w of WORDS) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    parts.push(len, Buffer.from(w, 'latin1'));
  }
  parts.push(Buffer.from(TAIL, 'latin1'));
  return Buffer.concat(parts);
}

export const SPDY3_DICTIONARY: Buffer = build();

/**
 * The name/value pairs of a decompressed SPDY/3 header block (§2.6.10: a 32-bit count, then
 * length-prefixed names and values), names lower-cased. A truncated block yields the pairs read so far.
 */
export function readSpdyHeaderBlock(raw: Buffer): Map<string, string> {
  const headers = new Map<string, string>();
  if (raw.length < 4) return headers;
  const n = raw.readUInt32BE(0);
  let off = 4;
  for (let i = 0; i < n && off + 4 <= raw.length; i++) {
    const nl = raw.readUInt32BE(off);
    const name = raw.subarray(off + 4, off + 4 + nl).toString('latin1');
    off += 4 + nl;
    if (off + 4 > raw.length) break;
    const vl = raw.readUInt32BE(off);
    const value = raw.subarray(off + 4, off + 4 + vl).toString('latin1');
    off += 4 + vl;
    headers.set(name.toLowerCase(), value);
  }
  return headers;
}
