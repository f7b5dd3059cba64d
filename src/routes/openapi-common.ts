/** Pieces every part of the OpenAPI document uses. */
export const error = { $ref: "#/components/schemas/Error" };
export const json = (schema: unknown) => ({ content: { "application/json": { schema } } });
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [String(status), { description: "error", ...json(error) }]));
export const idParam = (name: string) => ({ name, in: "path", required: true, schema: { type: "string" } });
