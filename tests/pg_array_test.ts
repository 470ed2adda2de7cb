/**
 * Spool's postgres.js pools skip postgres.js's array-type lookup (its dropped
 * promise crashed processes when a backend died during it), so Spool encodes
 * and parses the built-in array types itself: every value must round-trip
 * through the server unchanged, under both runtimes.
 */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { databaseUrl } from "./_db.ts";
import { parsePgArray, pgArrayLiteral } from "../src/driver/_pg_array.ts";
import { postgresJs } from "../src/driver/postgres_js.ts";

const awkward = ["", "NULL", "null", "a,b", "{x}", 'q"uote', "back\\slash", " sp ", "ü€😀", "\n\t"];

test("pgArrayLiteral quotes every element; parsePgArray reads it back", () => {
  assert.equal(pgArrayLiteral([]), "{}");
  assert.equal(pgArrayLiteral(["a", null, 1]), '{"a",NULL,"1"}');
  assert.equal(pgArrayLiteral([[1, 2], [3, 4]]), '{{"1","2"},{"3","4"}}');
  assert.deepEqual(parsePgArray(pgArrayLiteral(awkward), (s) => s), awkward);
  assert.deepEqual(parsePgArray("{1,NULL,3}", Number), [1, null, 3]);
  assert.deepEqual(parsePgArray("[0:1]={5,6}", Number), [5, 6]);
  assert.deepEqual(parsePgArray("{{1,2},{3,4}}", (s) => s), [["1", "2"], ["3", "4"]]);
  // Malformed text ends (no endless loop).
  assert.deepEqual(parsePgArray('{"open', (s) => s), ["open"]);
  assert.deepEqual(parsePgArray("{1,2", Number), [1, 2]);
});

test("postgres.js pool: array parameters and array columns round-trip through the server", async () => {
  for (const prepare of [true, false]) {
    const driver = postgresJs(databaseUrl(), { max: 1, prepare });
    try {
      const { rows } = await driver.query<Record<string, unknown>>(
        `select $1::text[] as t, array_to_json($1::text[]) as tj, $2::bigint[] as b,
                $3::int4[] as i, $4::bool[] as bo, $5::jsonb[] as jb, $6::timestamptz[] as ts,
                array[[1,2],[3,4]]::int8[] as m, $7::text[] as e, null::text[] as n,
                2 = any($2) as any_untyped`,
        [
          [...awkward, null],
          ["1", "9007199254740993"],
          [1, -2, null],
          [true, false],
          [{ a: [1, "x"] }],
          [new Date("2024-05-06T07:08:09.123Z")],
          [],
        ],
      );
      const row = rows[0];
      assert.deepEqual(row.t, [...awkward, null], `prepare ${prepare}`);
      assert.deepEqual(row.tj, [...awkward, null], "the server saw the same elements");
      assert.deepEqual(row.b, ["1", "9007199254740993"]);
      assert.deepEqual(row.i, [1, -2, null]);
      assert.deepEqual(row.bo, [true, false]);
      assert.deepEqual(row.jb, [{ a: [1, "x"] }]);
      assert.equal((row.ts as Date[])[0].getTime(), Date.parse("2024-05-06T07:08:09.123Z"));
      assert.deepEqual(row.m, [["1", "2"], ["3", "4"]]);
      assert.deepEqual(row.e, []);
      assert.equal(row.n, null);
      assert.equal(row.any_untyped, false);
      // Arrays of strings and numbers go untyped: the server's parameter type decides, so an
      // array sent to a json parameter stays a JSON array; untyped `= any($1)` works.
      const json = await driver.query<Record<string, unknown>>(
        "select $1::jsonb as j, $2::json as k, 2 = any($3) as hit, $4::date[] as d",
        [[1, "two"], [], [1, 2], ["2024-05-06", null]],
      );
      assert.deepEqual(json.rows[0].j, [1, "two"]);
      assert.deepEqual(json.rows[0].k, []);
      assert.equal(json.rows[0].hit, true);
      assert.equal((json.rows[0].d as Date[])[0].toISOString().slice(0, 10), "2024-05-06");
      assert.equal((json.rows[0].d as unknown[])[1], null);
    } finally {
      await driver.close();
    }
  }
});
