/**
 * The advisor's chart as a PNG, rendered from the same labelled SVG the HTML report shows, so the picture
 * carries its axes, ticks, names and legend. resvg (@resvg/resvg-js, prebuilt binaries in its npm
 * packages) does the rasterising and text layout with the system's fonts; DejaVu Sans is preferred
 * where installed, any sans-serif font otherwise.
 */
import { Resvg } from '@resvg/resvg-js';

export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    background: '#ffffff',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}
