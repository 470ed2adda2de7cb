import { SpoolError } from "../errors.ts";

/** A typed key for application state handed to tasks (the seeds' `add_extension`/`get_ext`). */
export interface ExtensionKey<T> {
  /** Name for error messages. */
  readonly name: string;
  /** Pair this key with a value, for the worker's `extensions` option. */
  provide(value: T): ProvidedExtension;
  /** Phantom marker of the value type. */
  readonly __type?: T;
}

/** A key with its value, as passed to `createWorker({ extensions })`. */
export interface ProvidedExtension {
  /** The key tasks read the value with (`ctx.ext(key)`). */
  readonly key: ExtensionKey<unknown>;
  /** The value given to `key.provide(value)`. */
  readonly value: unknown;
}

/**
 * Create a typed extension key.
 *
 * @example
 * ```ts
 * import { extension } from "@spool/worker";
 * const Config = extension<{ apiUrl: string }>("config");
 * const provided = Config.provide({ apiUrl: "https://example.com" });
 * // createWorker({ ..., extensions: [provided] }); in a task: ctx.ext(Config).apiUrl
 * ```
 */
export function extension<T>(name: string): ExtensionKey<T> {
  const key: ExtensionKey<T> = {
    name,
    provide: (value: T): ProvidedExtension => ({ key: key as ExtensionKey<unknown>, value }),
  };
  return key;
}

/** Look up extensions by key; a missing one is a clear error. */
export class ExtensionMap {
  #values = new Map<ExtensionKey<unknown>, unknown>();
  constructor(provided: readonly ProvidedExtension[] = []) {
    for (const p of provided) {
      if (this.#values.has(p.key)) {
        throw new SpoolError("INVALID_OPTION", `Extension "${p.key.name}" was provided twice`);
      }
      this.#values.set(p.key, p.value);
    }
  }
  /** The value for `key`; throws when the worker was not given one. */
  get<T>(key: ExtensionKey<T>): T {
    if (!this.#values.has(key as ExtensionKey<unknown>)) {
      throw new SpoolError(
        "INVALID_OPTION",
        `Extension "${key.name}" was not provided; pass ${key.name}.provide(value) in the worker's extensions option`,
      );
    }
    return this.#values.get(key as ExtensionKey<unknown>) as T;
  }
}
