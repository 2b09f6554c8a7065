// Debian's Chromium for the browser tests (installed by `scripts/setup.sh --test`), started with the flags this
// machine needs: headless as root, and no background connections (the closed network refuses them, many at a
// time, and every start would look up Google's hosts).
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
