/**
 * A ZIP archive written in memory: what a Lambda layer's content is (the compile cache layer,
 * lambda/create-layer-builder.ts). Format: PKWARE's APPNOTE.TXT 6.3.10 — a local header and the
 * deflated data per file (§4.3.7), the central directory (§4.3.12), its end record (§4.3.16).
 * The bytes depend on the entries alone (every entry is dated 1980-01-01, ZIP's epoch), so the
 * same cache gives the same archive. Unix modes go in the external attributes (§4.4.2, §4.4.15:
 * "version made by" 3 = UNIX puts `st_mode` in the high 16 bits): Lambda extracts a layer's files
 * with the modes the archive gives, and the function's user is not the one that wrote them.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  /** A relative path with `/` separators; a folder ends with `/`. */
  name: string;
  /** Unix permission bits, e.g. 0o644; the file type bits are added here. */
  mode: number;
  /** A folder has none. */
  data?: Uint8Array;
}

export class ZipArchiveError extends Error {
  override name = 'ZipArchiveError';
}

/** ZIP without its 64-bit extension (§4.5.3): 16-bit counts, 32-bit sizes and offsets. */
const MAX_ENTRIES = 0xffff;
const MAX_BYTES = 0xffffffff;
const MADE_BY_UNIX = (3 << 8) | 20;
const NEEDS_2_0 = 20;
const STORED = 0;
const DEFLATED = 8;
/** MS-DOS date of 1980-01-01 (day 1, month 1, year 0): ZIP's epoch. */
const DOS_DATE = (1 << 5) | 1;
const FILE_TYPE = 0o100000;
const FOLDER_TYPE = 0o040000;
/** Bit 11: the name is UTF-8 (§4.4.4). */
const UTF8_NAMES = 1 << 11;

export function zipArchive(entries: readonly ZipEntry[]): Buffer {
  if (entries.length > MAX_ENTRIES)
    throw new ZipArchiveError(`${entries.length} entries: a ZIP without its 64-bit extension holds at most ${MAX_ENTRIES}`);
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(checkName(entry), 'utf8');
    const folder = entry.name.endsWith('/');
    if (folder && entry.data !== undefined) throw new ZipArchiveError(`${JSON.stringify(entry.name)} is a folder and cannot hold data`);
    if (!Number.isInteger(entry.mode) || entry.mode < 0 || entry.mode > 0o7777) {
      throw new ZipArchiveError(`${JSON.stringify(entry.name)}: mode must be permission bits (0 to 0o7777)`);
    }
    const raw = entry.data ?? new Uint8Array(0);
    const method = folder ? STORED : DEFLATED;
    const body: Uint8Array = folder ? raw : deflateRawSync(raw);
    if (raw.byteLength > MAX_BYTES || offset > MAX_BYTES) throw new ZipArchiveError('the archive would need ZIP64 (over 4 GiB)');
    const fields = {
      method,
      crc: folder ? 0 : crc32(raw),
      compressed: body.byteLength,
      size: raw.byteLength,
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    writeCommon(local, 4, fields, name.byteLength);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(MADE_BY_UNIX, 4);
    writeCommon(central, 6, fields, name.byteLength);
    // 32–37: comment length, disk number, internal attributes: all zero.
    central.writeUInt32LE(((folder ? FOLDER_TYPE : FILE_TYPE) | entry.mode) * 0x10000, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.byteLength + name.byteLength + body.byteLength;
  }
  const directory = Buffer.concat(centrals);
  if (offset + directory.byteLength > MAX_BYTES) throw new ZipArchiveError('the archive would need ZIP64 (over 4 GiB)');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.byteLength, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** The fields a local header (from offset 4) and a central header (from offset 6) share, in order. */
function writeCommon(header: Buffer, at: number, f: { method: number; crc: number; compressed: number; size: number }, nameLength: number) {
  header.writeUInt16LE(NEEDS_2_0, at);
  header.writeUInt16LE(UTF8_NAMES, at + 2);
  header.writeUInt16LE(f.method, at + 4);
  header.writeUInt16LE(0, at + 6); // time 00:00:00
  header.writeUInt16LE(DOS_DATE, at + 8);
  header.writeUInt32LE(f.crc, at + 10);
  header.writeUInt32LE(f.compressed, at + 14);
  header.writeUInt32LE(f.size, at + 18);
  header.writeUInt16LE(nameLength, at + 22);
  // Extra field length (at + 24) stays zero.
}

/** Relative, no `..`, no backslash, no NUL: an extracted entry stays inside the layer's folder. */
function checkName({ name }: ZipEntry): string {
  const parts = name.replace(/\/$/, '').split('/');
  if (name === '' || name.startsWith('/') || /[\\\0]/.test(name) || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new ZipArchiveError(`${JSON.stringify(name)} is not a relative path inside the archive`);
  }
  if (Buffer.byteLength(name) > 0xffff) throw new ZipArchiveError('an entry name is longer than 65,535 bytes');
  return name;
}
