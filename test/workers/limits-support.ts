import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { LimitObject } from "../../src/limits/limit-object";
import { limitStub } from "../../src/limits/limit-stub";

/** A limit's object with its clock set by the test (no waiting for turns or cool-downs). */
export function limitObject(name: string) {
  const object = () => env.LIMITERS.get(env.LIMITERS.idFromName(name));
  return {
    name,
    stub: limitStub(env, name),
    setClock: (at: number) =>
      runInDurableObject(object(), (instance: LimitObject) => {
        instance.clock = () => at;
      }),
    turns: () =>
      runInDurableObject(object(), (_instance: LimitObject, state) =>
        state.storage.sql.exec<{ key: string; at: number }>("SELECT key, at FROM turns ORDER BY at").toArray(),
      ),
  };
}
