// Written by `npm run build` after tsc: marks dist/ as compiled from the sources as they are now, so
// bin/alembic.js can run dist/ (fast start) until a source file changes (then it runs src/ through tsx).
import { writeFileSync } from 'node:fs';

writeFileSync(new URL('../dist/.build-stamp', import.meta.url), new Date().toISOString() + '\n');
