/**
 * The layering of src/, checked over the import graph so CI fails when an arrow points up or a circle
 * appears. LAYERS is the one place the allowed direction is written (docs/architecture.md explains it):
 * a module may import its own layer and the layers before it in the list, never one after it.
 *
 * Every import counts for the direction, `import type` included (a type names a concept of the layer
 * it lives in). Circles are checked over the imports that run (type-only imports are erased), so two
 * files of one layer may name each other's types.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** Bottom to top: src/<layer>/… may import only from its own and earlier layers. */
const LAYERS = [
  'util',
  'config',
  'engine',
  'data',
  'metrics',
  'nets',
  'tasks',
  'train',
  'deploy',
  'distill',
  'advise',
  'api',
  'studio',
  'cli',
  // The package's entry point (src/index.ts): it re-exports the API and the types users name.
  'index.ts',
] as const;

const SRC = path.resolve(import.meta.dirname, '..', 'src');

interface Edge {
  from: string;
  to: string;
  runs: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** The src files a file imports, each marked whether the import survives compilation. */
function importsOf(file: string): Edge[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const add = (specifier: string, runs: boolean): void => {
    if (!specifier.startsWith('.')) return;
    const target = path.resolve(path.dirname(file), specifier).replace(/\.js$/, '.ts');
    if (existsSync(target)) edges.push({ from: file, to: target, runs });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, !isTypeOnlyImport(node.importClause));
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, !node.isTypeOnly);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      add(node.arguments[0].text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edges;
}

function isTypeOnlyImport(clause: ts.ImportClause | undefined): boolean {
  if (clause === undefined) return false; // `import './x.js'` runs x
  if (clause.isTypeOnly) return true;
  if (clause.name !== undefined) return false;
  const bindings = clause.namedBindings;
  return bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.every((e) => e.isTypeOnly);
}

const rel = (file: string): string => path.relative(SRC, file);
const layerOf = (file: string): string => rel(file).split(path.sep)[0];
const rank = (file: string): number => (LAYERS as readonly string[]).indexOf(layerOf(file));

function upwardArrows(edges: readonly Edge[]): string[] {
  return edges.filter((e) => rank(e.to) > rank(e.from)).map((e) => `${rel(e.from)} → ${rel(e.to)}`);
}

/** Depth-first search over the imports that run; a grey node met again closes a circle. */
function circles(edges: readonly Edge[]): string[] {
  const next = new Map<string, string[]>();
  for (const e of edges) if (e.runs) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const state = new Map<string, 'grey' | 'black'>();
  const found: string[] = [];
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'grey');
    stack.push(file);
    for (const to of next.get(file) ?? []) {
      if (state.get(to) === 'grey') found.push([...stack.slice(stack.indexOf(to)), to].map(rel).join(' → '));
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(file, 'black');
  };
  for (const from of next.keys()) if (!state.has(from)) visit(from);
  return found;
}

const files = sourceFiles(SRC);
const edges = files.flatMap(importsOf);

test('every module of src/ lives in a layer of the table', () => {
  const outside = files.filter((f) => rank(f) < 0).map(rel);
  assert.deepEqual(outside, []);
});

test('no import points up the layers', () => {
  assert.deepEqual(upwardArrows(edges), []);
});

test('no circle among the imports that run', () => {
  assert.deepEqual(circles(edges), []);
});

test('the checks catch an upward import and a circle, and the parser tells imports that run from types', () => {
  const at = (p: string): string => path.join(SRC, p);
  const made: Edge[] = [
    { from: at('nets/a.ts'), to: at('train/b.ts'), runs: false },
    { from: at('train/b.ts'), to: at('train/c.ts'), runs: true },
    { from: at('train/c.ts'), to: at('train/b.ts'), runs: true },
  ];
  assert.deepEqual(upwardArrows(made), [`${path.join('nets', 'a.ts')} → ${path.join('train', 'b.ts')}`]);
  assert.equal(circles(made).length, 1);
  const runtimes = edges.filter((e) => rel(e.from) === path.join('deploy', 'export', 'runtimes.ts'));
  assert.ok(runtimes.some((e) => e.runs && rel(e.to).endsWith('matching-io.ts')), 'import() is followed');
  assert.ok(runtimes.some((e) => !e.runs), 'import type is told apart');
});
