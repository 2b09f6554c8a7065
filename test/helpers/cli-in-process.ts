/**
 * Runs many `alembic` command lines in one process, for tests that need dozens of runs under another user
 * (a spawn per run costs a second or more of module loading each). Each case re-evaluates src/cli/main.ts
 * (a fresh import via a query string; its dependencies stay loaded) with process.argv set, stdout and stderr
 * captured, and process.exit turned into a thrown signal, so the CLI's own error boundary runs as it does
 * in a real process. Usage: node --import tsx cli-in-process.ts CASES.json RESULTS.json, where CASES.json
 * holds string[][] (arguments after `alembic`) and RESULTS.json receives {code, stdout, stderr}[].
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

class ExitSignal {
  constructor(readonly code: number) {}
}

const main = pathToFileURL(fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))).href;
const [casesFile, resultsFile] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(casesFile, 'utf8')) as string[][];
const results: { code: number; stdout: string; stderr: string }[] = [];
const argv0 = process.argv.slice(0, 2);
const realExit = process.exit;
const realOut = process.stdout.write.bind(process.stdout);
const realErr = process.stderr.write.bind(process.stderr);

for (const [i, args] of cases.entries()) {
  let stdout = '';
  let stderr = '';
  let code = 0;
  process.argv = [...argv0, ...args];
  process.exit = ((c?: number) => {
    throw new ExitSignal(c ?? 0);
  }) as typeof process.exit;
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as never;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as never;
  try {
    await import(`${main}?case=${i}`);
  } catch (e) {
    if (e instanceof ExitSignal) code = e.code;
    else {
      // What a real process would print for an uncaught error: its stack, exit 1.
      stderr += `${(e as Error)?.stack ?? String(e)}\n`;
      code = 1;
    }
  } finally {
    process.exit = realExit;
    process.stdout.write = realOut as never;
    process.stderr.write = realErr as never;
    // main.ts installs its process-wide handlers again on every import.
    process.removeAllListeners('uncaughtException');
    process.removeAllListeners('unhandledRejection');
    process.stdout.removeAllListeners('error');
  }
  results.push({ code, stdout, stderr });
}
writeFileSync(resultsFile, JSON.stringify(results));
// Servers or timers a failed command left behind must not keep the harness alive.
realExit(0);
