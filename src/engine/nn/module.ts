/**
 * Module: the owner of named parameters and buffers, arranged in a tree of child modules. Parameter
 * names are dotted paths (`encoder.layer.0.attention.self.query.weight`), the keys of state dicts and
 * of safetensors checkpoints.
 */
import { UserError } from '../../util/errors.js';
import { noGrad } from '../scope.js';
import type { Tensor } from '../tensor.js';

export abstract class Module {
  training = true;
  private readonly ownParams = new Map<string, Tensor>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /** Registers a trainable parameter (kept out of tidy scopes, gradient on). */
  protected param(name: string, t: Tensor): Tensor {
    t.keep();
    t.requiresGrad = true;
    this.ownParams.set(name, t);
    return t;
  }

  /** Registers a non-trainable tensor that belongs to the state dict (e.g. CRF constraints). */
  protected buffer(name: string, t: Tensor): Tensor {
    t.keep();
    this.ownBuffers.set(name, t);
    return t;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, p] of this.ownParams) yield [prefix + n, p];
    for (const [n, c] of this.children) yield* c.namedParameters(`${prefix}${n}.`);
  }

  *namedBuffers(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, b] of this.ownBuffers) yield [prefix + n, b];
    for (const [n, c] of this.children) yield* c.namedBuffers(`${prefix}${n}.`);
  }

  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix.replace(/\.$/, ''), this];
    for (const [n, c] of this.children) yield* c.namedModules(`${prefix}${n}.`);
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  numParameters(): number {
    let n = 0;
    for (const [, p] of this.namedParameters()) n += p.numel;
    return n;
  }

  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Parameters and buffers by name (the live tensors, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values in by name. Shapes must match exactly; with `strict`, every entry of the module
   * must be present and no unknown names may be given. Returns what was missing and unexpected.
   */
  loadStateDict(
    state: Map<string, Tensor>,
    { strict = true, source = 'state dict' }: { strict?: boolean; source?: string } = {},
  ): { missing: string[]; unexpected: string[] } {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    if (strict && (missing.length || unexpected.length)) {
      throw new UserError(
        `${source}: does not match the model: ` +
          [
            missing.length ? `missing ${listSome(missing)}` : '',
            unexpected.length ? `unexpected ${listSome(unexpected)}` : '',
          ]
            .filter(Boolean)
            .join('; '),
      );
    }
    noGrad(() => {
      for (const [name, target] of own) {
        const value = state.get(name);
        if (!value) continue;
        const want = target.shape.join('x');
        const got = value.shape.join('x');
        if (want !== got)
          throw new UserError(`${source}: ${name}: shape ${got} does not match the model's ${want}`);
        target.copy_(value);
      }
    });
    return { missing, unexpected };
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const [, t] of this.stateDict()) t.dispose();
  }
}

function listSome(names: string[]): string {
  const shown = names.slice(0, 5).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/**
 * A named group of child modules with no computation of its own: it exists to give parameters the
 * path a checkpoint expects (`encoder.layer.3…`, `attention.output.dense…`).
 */
export class ModuleDict extends Module {
  add<M extends Module>(name: string, m: M): M {
    return this.child(name, m);
  }
}
