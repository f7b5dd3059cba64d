import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { permissions, rolePermissions, roles } from "../../src/auth/roles";

const root = join(import.meta.dirname, "..", "..");

/** The roles table of docs/security.md: permission -> the roles marked `yes`. */
function documentedTable(): Map<string, string[]> {
  const text = readFileSync(join(root, "docs", "security.md"), "utf8");
  const table = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    const permission = /^`([a-z]+\.[a-z]+)`$/.exec(cells[1] ?? "")?.[1];
    // Rows of the roles table have a cell per role after the routes.
    if (!permission || cells.length !== roles.length + 4) continue;
    table.set(
      permission,
      roles.filter((_, index) => cells[3 + index] === "yes"),
    );
  }
  return table;
}

describe("docs/security.md's roles table", () => {
  it("lists every permission once, with exactly the roles that hold it", () => {
    const table = documentedTable();
    expect([...table.keys()].sort()).toEqual([...permissions].sort());
    for (const permission of permissions) {
      const holders = roles.filter((role) => rolePermissions[role].has(permission));
      expect(table.get(permission), permission).toEqual(holders);
    }
  });
});
