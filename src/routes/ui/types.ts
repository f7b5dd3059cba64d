import type { Env } from "../../env";
import type { Session } from "./session";

/** What dashboard handlers see: the bindings, and the signed-in session with its form token. */
export type UiEnv = { Bindings: Env; Variables: { session: Session; csrf: string } };
