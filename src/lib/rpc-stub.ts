/**
 * Typed stubs of Durable Objects. The RPC types workers-types infers for a class whose methods
 * take and return JSON values are too deep for the checker, so each object declares the surface
 * its callers use as an interface that its class `implements` (so the two cannot drift), and a
 * caller's stub is narrowed to that interface by checking it answers every one of its methods.
 */

/** Every method of `Api`, named once: a method left out or misspelled does not compile. */
export type MethodNames<Api> = { readonly [K in keyof Api]-?: true };

export function rpcStub<Api extends object>(stub: object, methods: MethodNames<Api>): Api {
  if (hasMethods(stub, methods)) return stub;
  throw new Error(`not a stub with methods ${Object.keys(methods).join(", ")}`);
}

function hasMethods<Api extends object>(value: object, methods: MethodNames<Api>): value is Api {
  return Object.keys(methods).every((name) => typeof Reflect.get(value, name) === "function");
}
