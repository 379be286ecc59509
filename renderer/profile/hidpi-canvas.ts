// A canvas drawn at the screen's pixel density: its backing store sized to the CSS size times
// devicePixelRatio, and its context scaled so that drawing is in CSS pixels.

export function hidpiContext(canvas: HTMLCanvasElement | null, width: number, height: number): CanvasRenderingContext2D | undefined {
  const ctx = canvas?.getContext('2d');
  if (!canvas || !ctx || width <= 0) return undefined;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}
