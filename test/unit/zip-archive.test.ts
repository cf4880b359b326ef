/**
 * lambda/core/zip-archive.ts, read back by an independent reader (test/helpers/zip-reader.ts):
 * names, data, Unix modes, the same bytes for the same entries, and refusals of entries that
 * would land outside the layer's folder.
 */
import { describe, expect, it } from 'vitest';
import { ZipArchiveError, type ZipEntry, zipArchive } from '../../lambda/core/zip-archive';
import { readZip } from '../helpers/zip-reader';

const entries: ZipEntry[] = [
  { name: 'compile-cache/', mode: 0o755 },
  { name: 'compile-cache/v24.1.0-arm64-1a2b3c4d-993/', mode: 0o755 },
  { name: 'compile-cache/v24.1.0-arm64-1a2b3c4d-993/12f7e55c', mode: 0o644, data: Buffer.from('x'.repeat(5000)) },
  { name: 'compile-cache/v24.1.0-arm64-1a2b3c4d-993/empty', mode: 0o600, data: new Uint8Array(0) },
  { name: 'ünïcode name', mode: 0o644, data: Buffer.from([0, 1, 2, 255]) },
];

describe('zipArchive', () => {
  it('writes what a reader finds: every name, every byte, Unix modes with their file types', () => {
    const read = readZip(zipArchive(entries));
    expect(read.map((e) => e.name)).toEqual(entries.map((e) => e.name));
    expect(read.map((e) => e.mode)).toEqual([0o40755, 0o40755, 0o100644, 0o100600, 0o100644]);
    expect(read.map((e) => e.madeBy >> 8)).toEqual([3, 3, 3, 3, 3]);
    read.forEach((e, i) => {
      expect(e.data.equals(Buffer.from(entries[i]!.data ?? new Uint8Array(0)))).toBe(true);
    });
  });

  it('deflates: a 5,000-byte run takes far less room', () => {
    expect(zipArchive([entries[2]!]).byteLength).toBeLessThan(400);
  });

  it('gives the same bytes for the same entries (no clock in it)', () => {
    expect(zipArchive(entries).equals(zipArchive(entries))).toBe(true);
  });

  it('writes an archive with no entries as the end record alone', () => {
    expect(zipArchive([])).toEqual(Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]));
  });

  it.each<[string, ZipEntry]>([
    ['a path that climbs out', { name: '../etc/passwd', mode: 0o644, data: Buffer.from('x') }],
    ['a climb in the middle', { name: 'a/../../b', mode: 0o644, data: Buffer.from('x') }],
    ['an absolute path', { name: '/opt/x', mode: 0o644, data: Buffer.from('x') }],
    ['a backslash', { name: 'a\\b', mode: 0o644, data: Buffer.from('x') }],
    ['a NUL', { name: 'a\0b', mode: 0o644, data: Buffer.from('x') }],
    ['an empty step', { name: 'a//b', mode: 0o644, data: Buffer.from('x') }],
    ['an empty name', { name: '', mode: 0o644 }],
    ['a folder with data', { name: 'a/', mode: 0o755, data: Buffer.from('x') }],
    ['a mode with type bits', { name: 'a', mode: 0o100644, data: Buffer.from('x') }],
    ['a negative mode', { name: 'a', mode: -1, data: Buffer.from('x') }],
    ['a name over 65,535 bytes', { name: 'a'.repeat(70_000), mode: 0o644, data: Buffer.from('x') }],
  ])('refuses %s', (_case, entry) => {
    expect(() => zipArchive([entry])).toThrow(ZipArchiveError);
  });

  it('refuses more entries than a ZIP without ZIP64 can count', () => {
    const many = Array.from({ length: 0x10000 }, (_, i) => ({ name: `f${i}/`, mode: 0o755 }));
    expect(() => zipArchive(many)).toThrow(/at most 65535/);
  });
});
