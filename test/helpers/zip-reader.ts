/**
 * Reads a ZIP archive back through its central directory (APPNOTE.TXT §4.3.12, §4.3.16), as an
 * extractor does: the tests' independent check of lambda/core/zip-archive.ts, and how they look
 * inside the compile cache layer. Checks each entry's CRC-32 and sizes against its data.
 */
import { crc32, inflateRawSync } from 'node:zlib';

export interface ReadEntry {
  name: string;
  /** Unix mode from the external attributes (type bits included). */
  mode: number;
  madeBy: number;
  data: Buffer;
}

export function readZip(zip: Buffer): ReadEntry[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('no end of central directory record');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: ReadEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`entry ${i}: not a central directory header`);
    const madeBy = zip.readUInt16LE(at + 4);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    const mode = zip.readUInt32LE(at + 38) >>> 16;
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`${name}: no local header`);
    // Extractors that stream read the local header alone: it must say what the central one says.
    const localName = zip.subarray(local + 30, local + 30 + zip.readUInt16LE(local + 26)).toString('utf8');
    const localFields = [
      zip.readUInt16LE(local + 8),
      zip.readUInt32LE(local + 14),
      zip.readUInt32LE(local + 18),
      zip.readUInt32LE(local + 22),
    ];
    if (localName !== name || localFields.join() !== [method, crc, compressed, size].join())
      throw new Error(`${name}: local header differs`);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(dataStart, dataStart + compressed);
    const data = method === 8 ? inflateRawSync(raw) : method === 0 ? Buffer.from(raw) : undefined;
    if (!data) throw new Error(`${name}: method ${method}`);
    if (data.byteLength !== size || (size > 0 && crc32(data) !== crc)) throw new Error(`${name}: size or CRC-32 does not match`);
    entries.push({ name, mode, madeBy, data });
    at += 46 + nameLength + extra + comment;
  }
  return entries;
}
