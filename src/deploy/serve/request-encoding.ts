/**
 * Compressed request bodies (Content-Encoding: gzip, deflate or br), decoded as they arrive — clients that
 * batch many texts compress them, and were told their gzip was "invalid JSON". The body limit applies to
 * the decoded bytes (fastify counts what the returned stream yields and stops reading past the limit), so
 * a small compressed body that inflates to gigabytes is refused with 413 after at most the limit. Corrupt
 * data is the client's error (400); an encoding we do not know is 415 naming the ones we do.
 */
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { RequestError } from './request-body.js';

const DECODERS: Record<string, () => zlib.Gzip | zlib.Inflate | zlib.BrotliDecompress> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

/**
 * The body stream to parse: `raw` itself when it is not encoded, else a decoding stream over it that
 * reports the encoded bytes received (fastify compares them with Content-Length). Throws RequestError
 * (415) for an encoding it cannot decode.
 */
export function decodedBody(raw: Readable, contentEncoding: string | undefined): Readable {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return raw;
  const make = DECODERS[encoding];
  if (!make)
    throw new RequestError(
      415,
      `content-encoding "${encoding}" is not supported; send the body plain, or as gzip, deflate or br`,
    );
  const decoder = make() as zlib.Gzip & { receivedEncodedLength: number };
  decoder.receivedEncodedLength = 0;
  raw.on('data', (chunk: Buffer) => (decoder.receivedEncodedLength += chunk.length));
  raw.on('error', (e) => decoder.destroy(e));
  decoder.on('error', (e: Error & { statusCode?: number }) => {
    // Our listener runs first: fastify's parser then answers with this status and message.
    if (e.statusCode === undefined) {
      e.statusCode = 400;
      e.message = `body: cannot decode ${encoding} data (${e.message})`;
    }
  });
  return raw.pipe(decoder);
}
