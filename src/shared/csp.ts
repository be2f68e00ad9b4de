/**
 * The renderer page's Content-Security-Policy: only the app's own scripts and styles, media from the app or its
 * media protocol, no remote content, no inline code. Put into index.html by the renderer build and sent as a
 * header by the Electron app protocol; web mode's server sends its own header (security.ts) with the socket URL.
 */
export const RENDERER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob: studio-media:",
  "media-src 'self' blob: studio-media:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
