/**
 * The chart colours the advisor's SVG uses, and a minimal hand-written PNG writer (RGBA raster, filter 0,
 * deflated with node:zlib, CRC-32 per chunk). The report's PNG is now the labelled SVG rendered by resvg
 * (svg-png.ts); the raster writer draws marks only, no text, and is kept for its tests until removed.
 */
import { deflateSync } from 'node:zlib';
import type { ScatterLayout } from './chart.js';

export type Rgba = readonly [number, number, number, number];

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as PNG (and zlib, gzip) define it. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encodes `width × height` RGBA pixels (row-major, 4 bytes each) as a PNG file. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  if (rgba.length !== width * height * 4) {
    throw new Error(`encodePng: ${rgba.length} bytes for ${width}×${height} RGBA pixels`);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA, deflate, no filter method variants, no interlace
  const rows = Buffer.alloc(height * (1 + width * 4));
  for (let y = 0; y < height; y++) {
    rows[y * (1 + width * 4)] = 0; // filter type 0 (None)
    rows.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (1 + width * 4) + 1);
  }
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** An RGBA canvas with opaque drawing: pixels, lines (optionally dashed), discs and rings. */
export class Raster {
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgba,
  ) {
    this.pixels = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) this.pixels.set(background, i * 4);
  }

  set(x: number, y: number, color: Rgba): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    this.pixels.set(color, (yi * this.width + xi) * 4);
  }

  get(x: number, y: number): Rgba {
    const i = (y * this.width + x) * 4;
    const p = this.pixels;
    return [p[i], p[i + 1], p[i + 2], p[i + 3]];
  }

  /** A line `thickness` pixels wide; `dash` = [on, off] lengths in pixels. */
  line(x0: number, y0: number, x1: number, y1: number, color: Rgba, thickness = 1, dash?: [number, number]) {
    const length = Math.hypot(x1 - x0, y1 - y0);
    const steps = Math.max(1, Math.ceil(length));
    const half = (thickness - 1) / 2;
    for (let s = 0; s <= steps; s++) {
      if (dash && s % (dash[0] + dash[1]) >= dash[0]) continue;
      const x = x0 + ((x1 - x0) * s) / steps;
      const y = y0 + ((y1 - y0) * s) / steps;
      for (let dy = -half; dy <= half; dy++)
        for (let dx = -half; dx <= half; dx++) this.set(x + dx, y + dy, color);
    }
  }

  disc(cx: number, cy: number, r: number, color: Rgba): void {
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
        if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) this.set(x, y, color);
      }
    }
  }

  ring(cx: number, cy: number, r: number, width: number, color: Rgba): void {
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
        const d = Math.hypot(x - cx, y - cy);
        if (d <= r && d >= r - width) this.set(x, y, color);
      }
    }
  }

  toPng(): Buffer {
    return encodePng(this.width, this.height, this.pixels);
  }
}

/** The colours the HTML legend names (advice-report.ts uses the same hex values). */
export const CHART_COLORS = {
  background: '#ffffff',
  axis: '#333333',
  grid: '#e5e7eb',
  target: '#b91c1c',
  frontier: '#ea580c',
  meets: '#047857',
  fails: '#9ca3af',
  recommended: '#1d4ed8',
} as const;

export function hexToRgba(hex: string): Rgba {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff, 255];
}

/** Draws the scatter plot: grid at the ticks, axes, dashed target lines, the frontier, the points. */
export function drawScatterPng(layout: ScatterLayout): Buffer {
  const c = Object.fromEntries(Object.entries(CHART_COLORS).map(([k, v]) => [k, hexToRgba(v)])) as Record<
    keyof typeof CHART_COLORS,
    Rgba
  >;
  const img = new Raster(layout.width, layout.height, c.background);
  const { left, top, right, bottom } = layout.plot;
  for (const t of layout.xTicks) {
    img.line(t.at, top, t.at, bottom, c.grid);
    img.line(t.at, bottom, t.at, bottom + 5, c.axis);
  }
  for (const t of layout.yTicks) {
    img.line(left, t.at, right, t.at, c.grid);
    img.line(left - 5, t.at, left, t.at, c.axis);
  }
  img.line(left, bottom, right, bottom, c.axis, 2);
  img.line(left, top, left, bottom, c.axis, 2);
  if (layout.qpsTargetX !== undefined)
    img.line(layout.qpsTargetX, top, layout.qpsTargetX, bottom, c.target, 2, [6, 4]);
  if (layout.accuracyTargetY !== undefined) {
    img.line(left, layout.accuracyTargetY, right, layout.accuracyTargetY, c.target, 2, [6, 4]);
  }
  layout.frontier.forEach((p, i) => {
    const q = layout.frontier[i + 1];
    if (q) img.line(p.x, p.y, q.x, q.y, c.frontier, 2);
  });
  for (const p of layout.points) {
    img.disc(p.x, p.y, 7, p.meetsAll ? c.meets : c.fails);
    if (p.recommended) img.ring(p.x, p.y, 12, 3, c.recommended);
  }
  return img.toPng();
}
